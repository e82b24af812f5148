#!/usr/bin/env bash
# SessionStart hook: publish what the project's .envrc does, as data.
# Needs direnv (with the .envrc allowed) and jq. stdout is the hook's answer.
set -euo pipefail

# `direnv export json` prints final values ("PATH": the whole new PATH) and its own DIRENV_*
# bookkeeping. Keep the variables, and turn PATH into a prepend of the entries direnv added,
# so the overlay still composes over whatever PATH a command inherits.
direnv export json | jq --arg path "$PATH" '
  with_entries(select(.key | startswith("DIRENV_") | not))
  | if (.PATH | type) == "string" then
      ((.PATH | split(":")) - ($path | split(":"))) as $added
      | if ($added | length) > 0 then .PATH = {prepend: $added} else del(.PATH) end
    else . end
  | {hookSpecificOutput: {hookEventName: "SessionStart", env: .}}'
