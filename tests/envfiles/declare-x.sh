declare -x A="1"
declare -x B='x y'
