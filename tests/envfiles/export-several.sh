export A=1 B=2
