declare -a ARR=(a b)
