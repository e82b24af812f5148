export B=`hostname`
