export OPTS=a=b=c
