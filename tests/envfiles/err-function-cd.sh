cd() {
  builtin cd "$@" && _hook
}
export A=1
