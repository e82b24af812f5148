export N=$((1+2))
