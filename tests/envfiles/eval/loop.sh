export BEFORE_LOOP=1
while :; do :; done
