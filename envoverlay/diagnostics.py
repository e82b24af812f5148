"""Diagnostics: findings with a code, a place and a fix.

A :class:`Diagnostic` is one finding: its severity, a stable ``code``, the variable it is
about, the layer (``source``) or JSON ``pointer`` it came from, what is wrong and how to
fix it. Messages never contain secret values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

import attrs

from .errors import ComposeError, EnvOverlayError, OverlayError, PolicyError
from .sources import Source

Severity = Literal["error", "warning"]

#: Every diagnostic code the library emits, with the rule it stands for. Codes are stable:
#: programs may match on them.
CODES: Final[dict[str, str]] = {
    "invalid-name": "a name is empty, contains '=' or is not a string",
    "invalid-value": "a value is not a string",
    "nul": "a name or value contains a NUL character",
    "too-large": "one variable (or a hook's whole output) exceeds its size limit",
    "block-too-large": "the whole environment block exceeds the configured limit",
    "case-conflict": "one overlay names a variable twice in spellings Windows treats as one",
    "duplicate-name": "the inherited map holds names Windows treats as one",
    "duplicate-key": "a JSON object repeats a key",
    "protected": "an op from a non-runtime layer targets a protected name",
    "sensitive": "a provider or hook op targets a variable that can inject code",
    "non-portable-name": "a name outside [A-Za-z_][A-Za-z0-9_]* (not usable from every shell)",
    "relative-path-entry": "a relative entry is added to a path list",
    "empty-path-entry": "an empty entry (the current directory) in a path list",
    "invalid-op": "an overlay op has a shape the format does not allow",
    "invalid-overlay": "an overlay is not a JSON object of name to op",
    "missing-secret": "a secret was not persisted and must be provided again",
    "separator-in-entry": "a path entry holds the list separator (it becomes several entries)",
    # hook output (parse_hook_output, envoverlay check)
    "hook-failed": "the hook exited non-zero or was killed: it contributes no env",
    "hook-timeout": "the hook did not finish in time and was killed with its children",
    "hook-interrupted": "a signal (SIGTERM, SIGHUP) stopped the run; the hook was killed",
    "hidden-json": "plain-text output holds a hook JSON document runtimes will ignore",
    "byte-order-mark": "JSON output behind a byte order mark, read as plain text",
    "path-replaced": "a hook sets PATH to a plain string, replacing the whole PATH",
    # check's report entries for inputs it could not judge (the command exits 2)
    "unreadable": "a hook output file could not be read",
    "hook-not-started": "check --run could not start the hook command",
    "invalid-utf8": "the hook's stdout is not valid UTF-8",
    "invalid-json": "text that starts like JSON is not one strict JSON value",
    "invalid-output": "the hook's JSON output is not an object",
    "unknown-field": "a field the SessionStart output schema does not allow",
    "missing-field": "a field the SessionStart output schema requires is missing",
    "wrong-event": "hookSpecificOutput.hookEventName is not the event the hook answers",
    "wrong-type": "a field has another JSON type than the schema gives",
    "schema": "another rule of the SessionStart output schema is broken",
    # thread state (loads)
    "invalid-state": "a thread state document breaks the thread-state schema",
    # providers
    "provider-failed": "a provider's tool failed or its input could not be read",
    "invalid-provider": "a --provider spec is not KIND=ARG with a known kind",
    "provider-message": "a provider's tool succeeded but printed a message (shown, not lost)",
    "invalid-dotenv": "a .env line cannot be parsed",
    "no-value": "a .env key has no '=' and no value (skipped)",
    "unresolved-variable": "a ${VAR} in a .env value resolves nowhere (it became empty)",
    # Claude Code runtime profile (envoverlay.claude)
    "claude-settings": "a settings.json file cannot be read as Claude Code reads it",
    "claude-env-file": "a session env file the static reader refuses (Claude Code still runs it)",
    "claude-breaks-commands": "an env file line that breaks every Bash command of the session",
    "claude-repeated-entry": "a path list holds one entry many times (hooks appended on resume)",
    "claude-per-command-value": "an env file value recomputed before every Bash command",
    "claude-powershell-drops": "an env file Claude Code's PowerShell tool drops",
    "claude-snapshot-export": "a shell profile export that Claude Code's Bash commands never get",
    "claude-ignored-file": "a file in the session folder that Claude Code does not apply",
    "claude-stale-file": "a session env file no configured hook writes now (it still applies)",
    "claude-ignored-output": "hook output that Claude Code ignores (an env overlay, unknown keys)",
    # env files (envoverlay.envfile, envoverlay.envfile_eval)
    "env-file-unsupported": "an env file holds a construct the static reader does not read",
    "env-file-syntax": "an env file line cannot be parsed (quotes, names, GitHub's formats)",
    "env-file-not-exported": "an env file assigns a variable without exporting it (no effect)",
    "env-file-reference": "an env file value refers to another variable, resolved when read",
    "env-file-snapshot": "an env file writes out a whole path list; read as entries around it",
    "env-file-not-representable": "evaluation left functions, aliases or shell variables behind",
    "env-file-timeout": "evaluating an env file did not finish in time (process group killed)",
    "env-file-failed": "an env file could not be evaluated (no bash, the file exited, a signal)",
    # emit (envoverlay emit)
    "emit-unsupported": "an op or name the chosen emit format cannot express",
    "powershell-incompatible": "Claude Code's PowerShell tool drops an env file with this op",
    "powershell-drops-value": "Claude Code's PowerShell tool drops a value holding / or \\",
    "shell-special-name": "a name a shell does not store as plain data (read-only, tied)",
    "github-blocked": "a name GitHub's runner refuses in GITHUB_ENV",
    "codex-overrides": "a name Codex scrubs from shell_environment_policy.set or sets itself",
    "secret-in-output": "a secret's value is written in plain text into the emitted file",
    "no-env": "a hook output given to emit holds no env overlay",
}


@attrs.frozen
class Diagnostic:
    """One finding of composition, validation or parsing.

    ``pointer`` says where in a document the finding is; it is not part of what the finding
    is (equality and hash leave it out), so a policy finding that hook parsing reports with
    its pointer and compose() reports without one is the same finding and dedupes."""

    severity: Severity
    code: str
    name: str | None
    source: Source | None
    message: str
    hint: str = ""
    pointer: str | None = attrs.field(default=None, eq=False)

    def describe(self) -> str:
        """One line: severity, code, variable, layer or pointer, message and fix."""
        where = []
        if self.name is not None:
            shown = self.name if self.name and self.name.isprintable() else repr(self.name)
            where.append(shown)
        if self.source is not None:
            where.append(f"from {self.source}")
        if self.pointer is not None:
            where.append(f"at {self.pointer or '/'}")
        text = f"{self.severity}[{self.code}]"
        if where:
            text += " " + " ".join(where)
        text += f": {self.message}"
        if self.hint:
            text += f" (fix: {self.hint})"
        return text

    def to_json(self) -> dict[str, object]:
        """The diagnostic's JSON view (see :mod:`.views`)."""
        from .views import diagnostic_view

        return diagnostic_view(self)


class Findings:
    """Mixin for results that carry ``errors`` and ``warnings`` (hooks, providers)."""

    __slots__ = ()
    errors: tuple[Diagnostic, ...]
    warnings: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Errors first, then warnings."""
        return self.errors + self.warnings


def summarize(prefix: str, diagnostics: Iterable[Diagnostic]) -> str:
    """``prefix`` followed by one indented line per diagnostic."""
    lines = [prefix]
    lines.extend(f"  {d.describe()}" for d in diagnostics)
    return "\n".join(lines)


# The exceptions live in .errors; these names stay importable from here.
__all__ = [
    "CODES",
    "ComposeError",
    "Diagnostic",
    "EnvOverlayError",
    "Findings",
    "OverlayError",
    "PolicyError",
    "Severity",
    "summarize",
]
