"""Emitting: an overlay written in another runtime's format, so one hook serves every runtime.

Three formats (SPEC §3a "Emitting"):

``claude-env-file``
    A script for ``CLAUDE_ENV_FILE`` / ``CODEX_ENV_FILE``, which the runtime sources before
    every command. Every value is single-quoted (a ``'`` in it becomes ``"'"``), so sourcing
    the file in bash, zsh, dash or sh sets exactly the overlay's values, whatever bytes they
    hold, and runs nothing else. A ``set`` is one plain ``export NAME='value'`` line, which
    Claude Code's PowerShell parser also accepts; ``prepend``/``append``/``default``/``unset``
    and multi-line values are not plain assignments, and a warning says that PowerShell drops
    the whole file then. Prepend and append edit the variable's value at sourcing time with
    the rules of :func:`envoverlay.ops.apply_op` (an existing equal entry moves).
``github-env``
    ``GITHUB_ENV`` records (``NAME=value``, or a ``NAME<<DELIM`` heredoc for a value with a
    line break; the delimiter never occurs in the value), plus the ``GITHUB_PATH`` lines of
    the PATH prepends, in the order GitHub applies them.
``codex-set``
    A Codex ``[shell_environment_policy.set]`` TOML table.

An op a format cannot express is an error naming the variable and the fix; the output is
then empty, as a malformed overlay applies nothing. Pure: text in, text out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal

import attrs

from ._jsonio import load_json
from ._names import Platform, PlatformArg, list_separator, name_key, resolve_platform
from .diagnostics import Diagnostic, Findings
from .hooks import parse_hook_output
from .layers import Layer, parse_overlay
from .ops import PATH_ACTIONS, Op, new_entries
from .sources import Source

EmitFormat = Literal["claude-env-file", "github-env", "codex-set"]
EMIT_FORMATS: Final[tuple[EmitFormat, ...]] = ("claude-env-file", "github-env", "codex-set")

#: Top-level keys of a SessionStart hook output: a document holding one is read as a hook
#: output, anything else as an overlay.
HOOK_OUTPUT_KEYS: Final = frozenset(
    {"continue", "stopReason", "suppressOutput", "systemMessage", "decision", "reason",
     "hookSpecificOutput"}
)  # fmt: skip

_SHELL_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOML_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+\Z")
#: Prefix of the emitted script's scratch variables (each block unsets its own).
SCRATCH_PREFIX: Final = "__envoverlay_"
#: The first line of a block the script holds for an op that is not one plain line; the
#: rest of the line is that op in the overlay format (see :func:`emitted_block`).
BLOCK_MARK: Final = "# envoverlay op: "

#: Names a shell does not silently store as ``export NAME='text'`` gives them — read-only,
#: computed, numeric, tied to an array, or refused with a message (zsh's ``UID`` assignment
#: even calls setuid) — with the shells concerned, as measured by the tests in bash, zsh, dash.
SHELL_UNSTORED: Final[dict[str, str]] = {
    **dict.fromkeys(("BASHOPTS", "SHELLOPTS", "BASH_VERSINFO", "BASHPID", "BASH_COMPAT",
                     "BASH_XTRACEFD", "SRANDOM", "EPOCHREALTIME", "EPOCHSECONDS",
                     "BASH_SUBSHELL", "FUNCNAME", "GROUPS", "DIRSTACK", "BASH_COMMAND",
                     "BASH_LINENO", "BASH_SOURCE"), "bash"),
    **dict.fromkeys(("PPID", "UID", "EUID", "RANDOM", "SECONDS", "HISTCMD", "LINENO",
                     "SHLVL"), "bash, zsh"),
    **dict.fromkeys(("GID", "EGID", "USERNAME", "path", "fpath", "cdpath", "manpath",
                     "mailpath", "module_path", "psvar", "fignore", "status", "pipestatus",
                     "argv", "ERRNO", "TTYIDLE", "LINES", "COLUMNS", "HISTSIZE", "MAILCHECK",
                     "KEYTIMEOUT", "LISTMAX", "SAVEHIST", "ZSH_SUBSHELL", "TRY_BLOCK_ERROR",
                     "WATCH", "HISTCHARS", "histchars"), "zsh"),
    "OPTIND": "bash, zsh, dash",
}  # fmt: skip
#: Names a shell stores but that change how it runs what follows — Claude Code runs the
#: command in the very shell that sourced the file.
SHELL_BEHAVIOUR_NAMES: Final = frozenset(
    {"IFS", "POSIXLY_CORRECT", "GLOBIGNORE", "TMOUT", "CDPATH", "PWD", "OLDPWD"}
)

#: The script's first lines. The empty one keeps it whole when it is appended to a file
#: whose last line has no newline.
_HEADER: Final = "\n# written by envoverlay emit: plain variable assignments, nothing else runs\n"


@attrs.frozen(repr=False)
class Emitted(Findings):
    """What :func:`emit_overlay` wrote: ``text`` (the script, the ``GITHUB_ENV`` records or the TOML
    table), ``github_path`` (the ``GITHUB_PATH`` lines; empty for the other formats) and
    diagnostics. When there is an error both texts are empty: nothing is half-written."""

    format: EmitFormat
    text: str
    github_path: str = ""
    errors: tuple[Diagnostic, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()

    def __repr__(self) -> str:
        return f"Emitted({self.format}, ok={self.ok}, {len(self.text)} chars)"


def emit_overlay(
    ops: Layer | Iterable[Op] | Mapping[str, object],
    format: EmitFormat,
    *,
    platform: PlatformArg = "posix",
) -> Emitted:
    """Write ``ops`` (a layer's, in order, or an overlay mapping as a hook prints it) in
    ``format`` for a runtime on ``platform`` (``auto``: the running OS). A malformed overlay
    mapping raises :class:`~envoverlay.OverlayError`, as :meth:`Layer.from_overlay` does."""
    platform = resolve_platform(platform)
    if isinstance(ops, Mapping):
        ops = Layer.from_overlay(ops, kind="hook", id="emit", platform=platform)
    source = ops.source if isinstance(ops, Layer) else None
    op_list = list(ops.ops if isinstance(ops, Layer) else ops)
    missing = [
        Diagnostic(
            "error",
            "missing-secret",
            op.name,
            source,
            f"the secret value of {op.name} was not persisted, so there is nothing to write",
            "emit from the hook's output, or a state saved with include_secrets=True",
        )
        for op in op_list
        if op.redacted
    ]
    if missing:
        return Emitted(format, "", "", tuple(missing))
    if format == "claude-env-file":
        text, path_text, found = _shell(op_list, platform, source)
    elif format == "github-env":
        text, path_text, found = _github(op_list, platform, source)
    elif format == "codex-set":
        text, path_text, found = _codex_set(op_list, source)
    else:
        raise ValueError(f"format must be one of {', '.join(EMIT_FORMATS)}, not {format!r}")
    for op in op_list:
        if op.secret:
            found.warn(
                "secret-in-output",
                op,
                f"{op.name} is secret: the {format} output holds its value in plain text",
                "keep the output file private (mode 0600), or pass the secret another way",
            )
    errors = tuple(d for d in found if d.severity == "error")
    warnings = tuple(d for d in found if d.severity == "warning")
    if errors:
        return Emitted(format, "", "", errors, warnings)
    return Emitted(format, text, path_text, errors, warnings)


def read_document(
    text: str, *, label: str, platform: Platform
) -> tuple[Layer | None, list[Diagnostic]]:
    """The layer of an emit input: an overlay JSON document, or a hook output JSON document
    (one with a top-level key of :data:`HOOK_OUTPUT_KEYS`). Never raises."""
    document, problems = load_json(text, what=label)
    if problems:
        return None, problems
    if isinstance(document, Mapping) and HOOK_OUTPUT_KEYS & set(document):
        hook = parse_hook_output(text, hook_id=label, platform=platform, sensitive="allow")
        found = list(hook.errors) + list(hook.warnings)
        if hook.errors:
            return None, found
        if hook.layer is None:
            found.append(
                Diagnostic(
                    "warning",
                    "no-env",
                    None,
                    Source("hook", label),
                    "the hook output holds no hookSpecificOutput.env: there is nothing to emit",
                    hint="add the overlay under hookSpecificOutput.env",
                )
            )
        return hook.layer, found
    source = Source("hook", label)
    ops, found = parse_overlay(document, platform=platform, source=source)
    if any(p.severity == "error" for p in found):
        return None, found
    return Layer(source, tuple(ops)), found


# -- shell ---------------------------------------------------------------------------------


def shell_quote(text: str) -> str:
    """``text`` as one shell word that every POSIX shell and zsh read back unchanged, with
    no expansion: single quotes, a ``'`` written as ``"'"`` (Claude Code's PowerShell
    parser accepts both kinds of quoted parts)."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


class _Found(list[Diagnostic]):
    """The diagnostics of one emit run, about ops of one source."""

    def __init__(self, source: Source | None) -> None:
        super().__init__()
        self.source = source

    def unsupported(self, op: Op, message: str, fix: str) -> None:
        """An op the format cannot express."""
        self.append(Diagnostic("error", "emit-unsupported", op.name, self.source, message, fix))

    def warn(self, code: str, op: Op, message: str, fix: str) -> None:
        self.append(Diagnostic("warning", code, op.name, self.source, message, fix))


def _shell(ops: list[Op], platform: Platform, source: Source | None) -> tuple[str, str, _Found]:
    found = _Found(source)
    lines = [_HEADER]
    key = name_key(platform)
    for op in ops:
        name = op.name
        if not _SHELL_NAME.match(name) or name.startswith(SCRATCH_PREFIX):
            found.unsupported(
                op,
                f"{name!r} cannot be assigned in a shell script (names are "
                f"[A-Za-z_][A-Za-z0-9_]*, and {SCRATCH_PREFIX}* is the script's own)",
                "rename the variable",
            )
            continue
        if name in SHELL_UNSTORED:
            found.warn(
                "shell-special-name",
                op,
                f"{SHELL_UNSTORED[name]} do not store {name} as given (it is read-only, "
                "computed, numeric or tied to an array there, or refused with a message)",
                f"rename {name}",
            )
        elif name in SHELL_BEHAVIOUR_NAMES:
            found.warn(
                "shell-special-name",
                op,
                f"{name} changes how the shell that sources the file runs the command after "
                "it (Claude Code runs the command in that same shell)",
                f"rename {name}, unless that is the point",
            )
        plain = op.action == "set"
        if op.action in PATH_ACTIONS and not new_entries(op, key, list_separator(platform)):
            continue  # nothing to add: compose leaves the value as it is
        lines.append(_op_text(op, platform))
        if not plain:
            found.warn(
                "powershell-incompatible",
                op,
                f"the {op.action} of {name} is not a plain assignment: Claude Code's "
                "PowerShell tool (Windows) then drops the whole file",
                "for Claude Code on Windows, use a set of the whole value instead",
            )
        elif op.value is not None and "\n" in op.value:
            found.warn(
                "powershell-incompatible",
                op,
                f"the value of {name} holds a line break: Claude Code's PowerShell tool "
                "(Windows) reads the file line by line and then drops all of it",
                "for Claude Code on Windows, keep line breaks out of values",
            )
        elif platform == "windows" and op.value is not None and re.search(r"[/\\]", op.value):
            found.warn(
                "powershell-drops-value",
                op,
                f"Claude Code's PowerShell tool drops a value holding '/' or '\\', so "
                f"{name} is not set there",
                "no env file can carry it there: use the env table of Claude Code's "
                "settings.json instead",
            )
    return "".join(lines), "", found


def _op_text(op: Op, platform: Platform) -> str:
    """The shell lines of one op (its name already checked). An op that is not one plain
    line becomes a block whose first line, a comment, holds the op in the overlay format."""
    name = op.name
    if op.action == "set":
        assert op.value is not None
        return f"export {name}={shell_quote(op.value)}\n"
    if op.action == "unset":
        return f"unset {name}\n"
    mark = json.dumps({name: op.to_overlay(redact=False)}, separators=(",", ":"))
    if op.action == "default":
        assert op.value is not None
        return (
            f"{BLOCK_MARK}{mark}\n"
            f"case ${{{name}-}} in '') {name}={shell_quote(op.value)} ;; esac; export {name}\n"
        )
    separator = op.separator if op.separator is not None else list_separator(platform)
    entries = new_entries(op, name_key(platform), list_separator(platform))
    return f"{BLOCK_MARK}{mark}\n" + _path_edit(name, op.action, entries, separator, platform)


def emitted_block(
    lines: Sequence[str], start: int, *, platform: Platform = "posix"
) -> tuple[Op, int] | None:
    """The op of a block :func:`emit_overlay` wrote, starting at ``lines[start]`` (lines
    without their newline, as ``text.split("\\n")`` gives them), and the index of the line
    after the block. None when ``lines[start]`` does not open such a block, or when the
    block differs by one byte from what ``emit_overlay`` writes for its op: a reader can then
    take the block as that op without running it."""
    line = lines[start]
    if not line.startswith(BLOCK_MARK):
        return None
    document, problems = load_json(line[len(BLOCK_MARK) :], what="emitted op")
    if problems or not isinstance(document, dict) or len(document) != 1:
        return None
    ops, found = parse_overlay(document, platform=platform)
    if len(ops) != 1 or any(d.severity == "error" for d in found):
        return None
    op = ops[0]
    if op.action not in ("default", *PATH_ACTIONS) or not _SHELL_NAME.match(op.name):
        return None
    if op.action in PATH_ACTIONS and not new_entries(
        op, name_key(platform), list_separator(platform)
    ):
        return None
    text = _op_text(op, platform)
    end = start + text.count("\n")
    if end > len(lines) or "".join(f"{item}\n" for item in lines[start:end]) != text:
        return None
    return op, end


def _pattern(entry: str, platform: Platform) -> str:
    """A ``case`` pattern matching exactly the entries equal to ``entry``. On Windows, ASCII
    letters match in either case, as Windows compares them; other characters match exactly
    (a shell's bracket expressions over non-ASCII letters depend on its locale)."""
    if platform != "windows":
        return shell_quote(entry)
    return "".join(
        f"[{char.lower()}{char.upper()}]"
        if char.isascii() and char.isalpha()
        else shell_quote(char)
        for char in entry
    )


def _path_edit(name: str, action: str, entries: list[str], sep: str, platform: Platform) -> str:
    """POSIX shell that does :func:`envoverlay.ops.apply_op`'s prepend/append of
    ``entries`` to ``name``'s value at sourcing time: existing entries equal to a new one
    go, the others (empty ones too) stay in order, and an absent or empty value becomes
    just the new entries."""
    v, e, kept, n = (f"{SCRATCH_PREFIX}{x}" for x in ("value", "entry", "kept", "count"))
    qsep = shell_quote(sep)
    new = shell_quote(sep.join(entries))
    patterns = "|".join(_pattern(entry, platform) for entry in entries)
    joined = f'{new}{qsep}"${kept}"' if action == "prepend" else f'"${kept}"{qsep}{new}'
    return (
        f"{v}=${{{name}-}}; {kept}=; {n}=0\n"
        f'if [ -n "${v}" ]; then\n'
        f"  while :; do\n"
        f"    {e}=${{{v}%%{qsep}*}}\n"
        f"    case ${e} in\n"
        f"      {patterns}) ;;\n"
        f'      *) if [ "${n}" = 0 ]; then {kept}=${e}; else {kept}=${kept}{qsep}${e}; fi\n'
        f"         {n}=1 ;;\n"
        f"    esac\n"
        f"    case ${v} in *{qsep}*) {v}=${{{v}#*{qsep}}} ;; *) break ;; esac\n"
        f"  done\n"
        f"fi\n"
        f'if [ "${n}" = 0 ]; then {name}={new}; else {name}={joined}; fi\n'
        f"export {name}; unset {v} {e} {kept} {n}\n"
    )


# -- GitHub Actions -------------------------------------------------------------------------

_DELIMITER: Final = "ENVOVERLAY_EOF"
#: Names GitHub's runner refuses in GITHUB_ENV (it skips them with an error annotation).
GITHUB_BLOCKED: Final = frozenset({"NODE_OPTIONS"})


def heredoc_delimiter(value: str) -> str:
    """A ``GITHUB_ENV`` heredoc delimiter that does not occur anywhere in ``value``."""
    delimiter, number = _DELIMITER, 0
    while delimiter in value:
        number += 1
        delimiter = f"{_DELIMITER}_{number}"
    return delimiter


def _github(ops: list[Op], platform: Platform, source: Source | None) -> tuple[str, str, _Found]:
    found = _Found(source)
    records: list[str] = []
    path_lines: list[str] = []
    key = name_key(platform)
    path_key = key("PATH")
    for op in ops:
        name = op.name
        if "<<" in name or "\n" in name or "\r" in name:
            found.unsupported(
                op,
                f"{name!r} holds '<<' or a line break, which GITHUB_ENV reads as syntax",
                "rename the variable",
            )
            continue
        if name.upper() in GITHUB_BLOCKED:
            found.warn(
                "github-blocked",
                op,
                f"GitHub's runner refuses {name} in GITHUB_ENV: the line is skipped there",
                f"set {name} in the workflow's env: instead",
            )
        if op.action == "set":
            assert op.value is not None
            value = op.value
            if "\n" in value or "\r" in value:
                delimiter = heredoc_delimiter(value)
                records.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                records.append(f"{name}={value}\n")
        elif (
            op.action == "prepend"
            and key(name) == path_key
            and op.separator in (None, list_separator(platform))
        ):
            entries = new_entries(op, key, list_separator(platform))
            bad = [entry for entry in entries if "\n" in entry or "\r" in entry]
            if bad:
                found.unsupported(
                    op,
                    f"an entry of {name} holds a line break; GITHUB_PATH is one directory a line",
                    "remove the line break from the directory",
                )
                continue
            # GitHub puts the directory added last first: write the entries in reverse.
            path_lines.extend(f"{entry}\n" for entry in reversed(entries))
        else:
            fix = {
                "unset": f"set {name} to an empty string instead, or unset it in the step's "
                "script (GitHub has no unset)",
                "default": f"use a set of {name} (GITHUB_ENV cannot test the current value)",
                "prepend": f"drop the separator of {name}'s prepend (GITHUB_PATH uses the runner's)"
                if key(name) == path_key
                else f"use a set of the whole value of {name}; only PATH prepends "
                "(to GITHUB_PATH) are expressible",
                "append": f"use a set of the whole value of {name} (GITHUB_PATH only prepends)",
            }[op.action]
            found.unsupported(
                op,
                f"GITHUB_ENV cannot express the {op.action} of {name}",
                fix,
            )
    return "".join(records), "".join(path_lines), found


# -- Codex ---------------------------------------------------------------------------------

_TOML_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                        "\f": "\\f", "\r": "\\r"}  # fmt: skip


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    out = []
    for char in text:
        escaped = _TOML_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


#: Names Codex 0.169 never lets ``set`` give a command (compared ASCII case-insensitively),
#: and the names it sets itself after the policy.
CODEX_SCRUBBED: Final = frozenset(
    {"CODEX_EXEC_SERVER_NOISE_AUTH_TOKEN", "NODE_REPL_AUTH_TOKEN", "OPENAI_FEDERATION_RULE_ID",
     "OPENAI_IDENTITY_TOKEN_FILE", "OPENAI_WORKLOAD_IDENTITY_CONTEXT"}
)  # fmt: skip
CODEX_OWN: Final = frozenset({"PWD", "CODEX_SANDBOX_NETWORK_DISABLED"})


def _codex_set(ops: list[Op], source: Source | None) -> tuple[str, str, _Found]:
    found = _Found(source)
    lines = ["[shell_environment_policy.set]\n"]
    for op in ops:
        name = op.name
        if op.action != "set":
            fix = (
                f'add "{name}" to [shell_environment_policy] exclude instead'
                if op.action == "unset"
                else f"use a set of the whole value of {name}"
            )
            found.unsupported(
                op,
                f"Codex's shell_environment_policy.set cannot express the {op.action} "
                f"of {name}: it only sets values",
                fix,
            )
            continue
        if name.upper() in CODEX_SCRUBBED or name in CODEX_OWN:
            found.warn(
                "codex-overrides",
                op,
                f"Codex never gives a command this value of {name}: it "
                + ("scrubs the name from set" if name.upper() in CODEX_SCRUBBED else
                   "sets the name itself after the policy"),
                f"leave {name} out of the table",
            )  # fmt: skip
        assert op.value is not None
        shown = name if _TOML_BARE_KEY.match(name) else toml_string(name)
        lines.append(f"{shown} = {toml_string(op.value)}\n")
    return "".join(lines), "", found


__all__ = [
    "BLOCK_MARK",
    "EMIT_FORMATS",
    "HOOK_OUTPUT_KEYS",
    "SHELL_BEHAVIOUR_NAMES",
    "SHELL_UNSTORED",
    "EmitFormat",
    "Emitted",
    "emit_overlay",
    "emitted_block",
    "heredoc_delimiter",
    "read_document",
    "shell_quote",
    "toml_string",
]
