#!/usr/bin/env bash
# SessionStart hook: give commands the dev database password without writing it anywhere.
# Needs jq. The password comes from a file outside the repository (or use your password
# manager's CLI here); it is marked secret, so envoverlay shows it as *** everywhere but in
# the environment of the commands, and never saves it unless the runtime opts in.
set -euo pipefail

password_file=${DEV_DB_PASSWORD_FILE:-"$HOME/.config/myproject/db-password"}
password=$(cat "$password_file")

jq -n --arg password "$password" '
  {hookSpecificOutput: {hookEventName: "SessionStart",
    env: {DB_PASSWORD: {set: $password, secret: true},
          DATABASE_URL: "postgres://app@localhost:5432/app"}}}'
