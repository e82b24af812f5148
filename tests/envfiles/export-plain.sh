export A=1
export B=two
