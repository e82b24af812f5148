# A hook that installs shell functions and an alias, the way an activation hook does.
export TOOL_ACTIVE=1
_tool_hook() { export TOOL_LAST_DIR="$PWD"; }
cd() { builtin cd "$@" && _tool_hook; }
alias tl='tool list'
PROMPT_COMMAND=_tool_hook
