declare A=1
readonly R=2
