printenv | grep X
