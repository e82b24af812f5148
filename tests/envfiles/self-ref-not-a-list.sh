export CFLAGS="$CFLAGS -O2"
