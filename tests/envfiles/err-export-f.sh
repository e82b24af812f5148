export -f myfunc
