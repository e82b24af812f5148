export -n PATH
