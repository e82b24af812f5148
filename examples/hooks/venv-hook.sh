#!/bin/sh
# SessionStart hook: run every command of the thread in the project's virtualenv.
# Plain POSIX sh, no other tool. stdout is the hook's answer: anything else goes to stderr.
set -eu

venv="$PWD/.venv"  # hooks run in the session's working directory

# A JSON string: backslashes and double quotes escaped.
json() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

echo "venv hook: using $venv" >&2
printf '{"hookSpecificOutput": {"hookEventName": "SessionStart",
  "additionalContext": "Commands run in the project virtualenv",
  "env": {"VIRTUAL_ENV": %s, "PYTHONHOME": null, "PATH": {"prepend": %s}}}}\n' \
  "$(json "$venv")" "$(json "$venv/bin")"
