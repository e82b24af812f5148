export A=1
false
