A=1
export A
