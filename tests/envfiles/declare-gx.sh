declare -gx A=1
typeset -x B=2
