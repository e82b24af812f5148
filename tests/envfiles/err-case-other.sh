case "$TERM" in
  xterm) export A=1 ;;
esac
