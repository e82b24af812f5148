export A=a\ b\$c
