local X=1
