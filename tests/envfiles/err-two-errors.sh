export A=$(id)
export B=2
source x
