export A="one \
two"
export B=a\
b
