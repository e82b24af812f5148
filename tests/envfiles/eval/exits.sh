export A=1
exit 3
