export EMPTY=
export E2=""
export E3=''
