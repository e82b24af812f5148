export A=1
export B=$(date)
export C=3
