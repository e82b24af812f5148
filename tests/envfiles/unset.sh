unset OLD_VAR
unset -v A B
