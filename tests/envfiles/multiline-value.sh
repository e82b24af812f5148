export MSG="line1
line2"
export NEXT=1
