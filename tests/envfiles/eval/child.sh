sleep 300 &
printf '%s' "$!" > "$CHILD_PID_FILE"
wait
