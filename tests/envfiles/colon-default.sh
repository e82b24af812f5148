: "${EDITOR:=vim}"
export EDITOR
