if [ -d /opt ]; then
  export PATH=/opt:$PATH
fi
