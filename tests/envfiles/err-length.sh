export L=${#HOME}
