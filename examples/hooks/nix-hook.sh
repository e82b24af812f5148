#!/usr/bin/env bash
# SessionStart hook: run every command of the thread in the project's nix dev shell.
# Needs nix and jq. stdout is the hook's answer; diagnostics go to stderr.
set -euo pipefail

# As `nix develop` does: only exported variables, PATH and XDG_DATA_DIRS prepended to what the
# command inherits, and none of the build sandbox's own variables (HOME, TMPDIR, ...).
nix print-dev-env --json | jq '
  def entries: split(":") | map(select(length > 0));
  {hookSpecificOutput: {
    hookEventName: "SessionStart",
    additionalContext: "Commands run in the nix dev shell of this project",
    env: (.variables
      | with_entries(select(.value.type == "exported") | .value |= .value)
      | del(.HOME, .TMPDIR, .TEMP, .TMP, .TEMPDIR, .TERM, .TZ, .NIX_BUILD_TOP, .NIX_LOG_FD,
            .NIX_REMOTE, .NIX_ENFORCE_PURITY, .SSL_CERT_FILE, .PPID, .UID, .BASHOPTS,
            .SHELLOPTS, .PWD, .OLDPWD, .SHLVL, .["_"])
      | with_entries(if .key == "PATH" or .key == "XDG_DATA_DIRS"
                     then .value |= {prepend: entries} else . end)
      | with_entries(select(.value != {prepend: []})))}}'
