set -a
A=1
