# Starts a process and returns without waiting for it.
sleep 300 &
printf '%s' "$!" > "$CHILD_PID_FILE"
export STARTED=1
