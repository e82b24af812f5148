"""Codex 0.169 as a runtime: its configuration and its ``shell_environment_policy``, exactly.

This is the functional core (no I/O): it turns the *text* of Codex's configuration files
into a :class:`CodexPolicy` and a list of :class:`CodexHook`, and computes the map Codex
0.169.0 builds for a command from an inherited map — as measured against the real binary
(``codex sandbox -- env -0``, see ``docs/codex.md``), not as Codex's docs describe it:

1. ``inherit``: ``all`` keeps every variable, ``none`` none, ``core`` the CORE names, compared
   ASCII-case-insensitively (``eq_ignore_ascii_case``).
2. The default excludes ``*KEY*``, ``*SECRET*``, ``*TOKEN*`` — only when
   ``ignore_default_excludes = false`` (it defaults to **true**).
3. ``exclude`` patterns.
4. ``set``: inserted as given (an ``exclude`` never removes a ``set`` value).
5. ``include_only``: when non-empty, only names matching a pattern stay — ``set`` values
   included.
6. The five non-inheritable names are scrubbed, ASCII-case-insensitively, from the base
   and from ``set`` alike.

Patterns are globs with ``*`` and ``?`` only (``[`` and ``\\`` are literal), anchored at
both ends, and case-insensitive by Codex's rule: two characters are equal when their full
Unicode lowercase mappings are equal (Rust's ``char::to_lowercase``). So the Kelvin sign
equals ``k`` and ``É`` equals ``é``, but the long s (U+017F) is not ``s``, the dotless i
(U+0131) is not ``I`` and the final sigma (U+03C2) is not sigma (U+03C3) — unlike Python's
``re.IGNORECASE``. An empty pattern matches
nothing. The generic :class:`~envoverlay.InheritPolicy` keeps its own documented semantics;
this module is the Codex mapping.

Where Codex produces an entry no valid environment block can hold (a ``set`` key that is
empty or holds ``=``: Codex passes ``=x`` or ``A=B=x`` to the child), the policy reports an
error (:class:`CodexConfigError`) instead.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal

import attrs

from ._names import glob_regex
from .errors import CodexConfigError

__all__ = [
    "CODEX_CORE_POSIX",
    "CODEX_DEFAULT_EXCLUDES",
    "CODEX_NON_INHERITABLE",
    "CodexConfigError",
    "CodexHook",
    "CodexPolicy",
    "PolicyOutcome",
    "apply_codex_policy",
    "codex_glob_matches",
    "is_non_inheritable",
    "merge_config",
    "parse_codex_hooks",
    "parse_config_text",
    "parse_override",
]

InheritMode = Literal["all", "core", "none"]

#: Codex's CORE names on Linux and macOS (``inherit = "core"``).
CODEX_CORE_POSIX: Final = (
    "PATH", "SHELL", "TMPDIR", "TEMP", "TMP", "HOME", "LANG", "LC_ALL", "LC_CTYPE",
    "LOGNAME", "USER",
)  # fmt: skip
#: The patterns ``ignore_default_excludes = false`` turns on.
CODEX_DEFAULT_EXCLUDES: Final = ("*KEY*", "*SECRET*", "*TOKEN*")
#: Names Codex never passes to a command, not even from ``set`` (compared ASCII
#: case-insensitively). Two of them in the launcher env stop Codex before any command runs.
CODEX_NON_INHERITABLE: Final = (
    "CODEX_EXEC_SERVER_NOISE_AUTH_TOKEN",
    "NODE_REPL_AUTH_TOKEN",
    "OPENAI_FEDERATION_RULE_ID",
    "OPENAI_IDENTITY_TOKEN_FILE",
    "OPENAI_WORKLOAD_IDENTITY_CONTEXT",
)
#: The keys of ``[shell_environment_policy]`` that Codex 0.169 reads.
POLICY_KEYS: Final = (
    "inherit", "ignore_default_excludes", "exclude", "include_only", "set", "filters",
    "experimental_use_profile",
)  # fmt: skip
#: The hooks.json events read: the start hooks (the other events do not shape an env).
HOOK_EVENTS: Final = ("SessionStart", "SubagentStart")
#: Codex's default hook timeout in seconds (``timeout`` absent), and its minimum.
DEFAULT_HOOK_TIMEOUT: Final = 600
_NON_INHERITABLE_UPPER: Final = frozenset(CODEX_NON_INHERITABLE)
_CORE_UPPER: Final = frozenset(CODEX_CORE_POSIX)


# -- names and globs --------------------------------------------------------------------------


def _fold_char(char: str) -> str:
    """One character as Codex compares it case-insensitively: its full lowercase mapping.
    The one character whose mapping is longer (``İ`` → ``i̇``) equals only itself, so it
    stays as it is (the fold must keep the length for ``?``)."""
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def _fold(text: str) -> str:
    return "".join(_fold_char(char) for char in text)


@functools.lru_cache(maxsize=1024)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # The glob syntax is envoverlay's (``*``, ``?``); only the case rule is Codex's own.
    return glob_regex([_fold(pattern)])


_DEFAULT_EXCLUDES: Final = tuple((p, _pattern_regex(p)) for p in CODEX_DEFAULT_EXCLUDES)


def codex_glob_matches(pattern: str, name: str) -> bool:
    """Whether a ``shell_environment_policy`` pattern matches ``name``, as Codex 0.169 decides
    (see the module docs). An empty pattern matches nothing."""
    if not pattern:
        return False
    return _pattern_regex(pattern).match(_fold(name)) is not None


def is_non_inheritable(name: str) -> bool:
    """Whether Codex scrubs ``name`` from every command's env (ASCII case-insensitive)."""
    return name.isascii() and name.upper() in _NON_INHERITABLE_UPPER


def _is_core(name: str) -> bool:
    return name.isascii() and name.upper() in _CORE_UPPER


# -- the policy -------------------------------------------------------------------------------


@attrs.frozen
class CodexPolicy:
    """A Codex ``[shell_environment_policy]`` table, as Codex 0.169 reads it.

    ``set`` keeps the table's order. ``ignored_keys`` are keys Codex does not know: it
    ignores them (``codex exec`` warns; ``--strict-config`` refuses them).
    """

    inherit: InheritMode = "all"
    ignore_default_excludes: bool = True
    exclude: tuple[str, ...] = ()
    include_only: tuple[str, ...] = ()
    set: tuple[tuple[str, str], ...] = ()
    ignored_keys: tuple[str, ...] = ()

    @classmethod
    def from_table(
        cls, table: object, *, file: str = "config.toml", strict: bool = False
    ) -> CodexPolicy:
        """Read a ``[shell_environment_policy]`` table (as ``tomllib`` parsed it).

        Raises :class:`CodexConfigError` naming ``file``, the key and the fix where Codex
        refuses the table (wrong types, an unknown ``inherit``, mixed ``filters``), where it
        would produce a name no environment can hold, and, with ``strict``, for an unknown
        key (Codex's ``--strict-config``).
        """
        where = "shell_environment_policy"
        table = _table(table, file, where, "write it as a [shell_environment_policy] table")
        ignored = tuple(sorted(key for key in table if key not in POLICY_KEYS))
        if ignored and strict:
            raise CodexConfigError(
                file, f"{where}.{ignored[0]}", "is not a key Codex knows (--strict-config)",
                f"remove it; the keys are {', '.join(POLICY_KEYS)}",
            )  # fmt: skip
        inherit = table.get("inherit", "all")
        if inherit not in ("all", "core", "none"):
            raise CodexConfigError(
                file, f"{where}.inherit", f"must be \"all\", \"core\" or \"none\", not {inherit!r}",
                'use inherit = "all" (the default), "core" or "none"',
            )  # fmt: skip
        ignore = _boolean(table, "ignore_default_excludes", True, file)
        _boolean(table, "experimental_use_profile", False, file)  # read by nothing in Codex
        exclude = _patterns(table, "exclude", file)
        include_only = _patterns(table, "include_only", file)
        if "filters" in table:
            if "exclude" in table or "include_only" in table:
                raise CodexConfigError(
                    file, f"{where}.filters",
                    "cannot be mixed with the legacy exclude or include_only lists",
                    "move every pattern into filters (pattern = \"include\" or \"exclude\")",
                )  # fmt: skip
            extra_exclude, extra_include = _filters(table["filters"], file)
            exclude += extra_exclude
            include_only += extra_include
        entries = _set_table(table.get("set", {}), file)
        return cls(inherit, ignore, exclude, include_only, entries, ignored)


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


def _table(
    value: object, file: str, where: str, fix: str, what: str = "a table"
) -> Mapping[str, object]:
    """``value`` when it is a TOML table; else the error naming ``where`` and the ``fix``."""
    if not isinstance(value, Mapping):
        raise CodexConfigError(file, where, f"must be {what}, not {_toml_type(value)}", fix)
    return value


def _boolean(table: Mapping[str, object], key: str, default: bool, file: str) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise CodexConfigError(
            file, f"shell_environment_policy.{key}",
            f"must be a boolean, not {_toml_type(value)}", "write true or false",
        )  # fmt: skip
    return value


def _patterns(table: Mapping[str, object], key: str, file: str) -> tuple[str, ...]:
    value = table.get(key, [])
    where = f"shell_environment_policy.{key}"
    if not isinstance(value, list):
        raise CodexConfigError(
            file, where, f"must be an array of strings, not {_toml_type(value)}",
            f'write {key} = ["PATTERN", ...]',
        )  # fmt: skip
    for index, pattern in enumerate(value):
        if not isinstance(pattern, str):
            raise CodexConfigError(
                file, f"{where}[{index}]", f"must be a string, not {_toml_type(pattern)}",
                "quote the pattern",
            )  # fmt: skip
    return tuple(value)


def _filters(value: object, file: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    where = "shell_environment_policy.filters"
    value = _table(
        value, file, where,
        'write [shell_environment_policy.filters] with PATTERN = "include" or "exclude"',
    )  # fmt: skip
    seen: dict[str, str] = {}
    exclude: list[str] = []
    include: list[str] = []
    for pattern, action in value.items():
        lowered = pattern.lower()
        if lowered in seen:
            raise CodexConfigError(
                file, f"{where}.{pattern}", f"duplicates {seen[lowered]!r} ignoring case",
                "keep one of the two patterns",
            )  # fmt: skip
        seen[lowered] = pattern
        if action == "include":
            include.append(pattern)
        elif action == "exclude":
            exclude.append(pattern)
        else:
            raise CodexConfigError(
                file, f"{where}.{pattern}", f'must be "include" or "exclude", not {action!r}',
                'write "include" or "exclude"',
            )  # fmt: skip
    return tuple(exclude), tuple(include)


def _set_table(value: object, file: str) -> tuple[tuple[str, str], ...]:
    where = "shell_environment_policy.set"
    value = _table(value, file, where, 'write set = { NAME = "value" }', "a table of strings")
    entries = []
    for name, text in value.items():
        key = f"{where}.{_toml_key(name)}"
        if not isinstance(text, str):
            raise CodexConfigError(
                file, key, f"must be a string, not {_toml_type(text)}", "quote the value"
            )
        if not name or "=" in name:
            shown = f"={text}" if not name else f"{name}={text}"
            raise CodexConfigError(
                file, key,
                f"no environment can hold the name {name!r}: Codex passes the raw entry "
                f"{shown!r} to every command", "use a non-empty name without '='",
            )  # fmt: skip
        if "\0" in name or "\0" in text:
            raise CodexConfigError(
                file, key, "holds a NUL character, which no environment can hold", "remove it"
            )
        entries.append((name, text))
    return tuple(entries)


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


@attrs.frozen
class PolicyOutcome:
    """What Codex's policy does to one inherited map.

    ``env`` is the map Codex gives (before the variables it adds itself); ``kept`` the
    inherited variables that survive; ``removed`` each inherited name the policy removed,
    with the rule; ``set_applied`` the ``set`` entries that reach the command and
    ``set_dropped`` the others, with the rule that drops them.
    """

    env: Mapping[str, str]
    kept: Mapping[str, str]
    removed: Mapping[str, str]
    set_applied: tuple[tuple[str, str], ...]
    set_dropped: Mapping[str, str]


def apply_codex_policy(base: Mapping[str, str], policy: CodexPolicy) -> PolicyOutcome:
    """The map Codex 0.169 builds from ``base`` under ``policy`` (see the module docs)."""
    exclude = [(p, _pattern_regex(p)) for p in policy.exclude if p]
    include = [_pattern_regex(p) for p in policy.include_only if p]
    defaults = (
        []
        if policy.ignore_default_excludes
        else [(p, _pattern_regex(p)) for p in CODEX_DEFAULT_EXCLUDES]
    )
    only = bool(policy.include_only)

    def included(name: str) -> bool:
        folded = _fold(name)
        return any(regex.match(folded) for regex in include)

    kept: dict[str, str] = {}
    removed: dict[str, str] = {}
    for name, value in base.items():
        reason = _removal(name, policy.inherit, defaults, exclude)
        if reason is None and only and not included(name):
            reason = "not matched by include_only"
        if reason is None and is_non_inheritable(name):
            reason = "Codex never passes it to commands (non-inheritable)"
        if reason is None:
            kept[name] = value
        else:
            removed[name] = reason
    applied: list[tuple[str, str]] = []
    dropped: dict[str, str] = {}
    for name, value in policy.set:
        if only and not included(name):
            dropped[name] = "include_only runs after set and does not match it"
        elif is_non_inheritable(name):
            dropped[name] = "Codex scrubs it from set too (non-inheritable)"
        else:
            applied.append((name, value))
    env = dict(kept)
    env.update(applied)  # set re-adds a name an exclude removed
    return PolicyOutcome(env, kept, removed, tuple(applied), dropped)


def _removal(
    name: str,
    inherit: str,
    defaults: Sequence[tuple[str, re.Pattern[str]]],
    exclude: Sequence[tuple[str, re.Pattern[str]]],
) -> str | None:
    if inherit == "none":
        return 'inherit = "none"'
    if inherit == "core" and not _is_core(name):
        return 'inherit = "core" and it is not a CORE name'
    folded = _fold(name)
    for pattern, regex in defaults:
        if regex.match(folded):
            return f"default exclude {pattern!r} (ignore_default_excludes = false)"
    for pattern, regex in exclude:
        if regex.match(folded):
            return f"exclude {pattern!r}"
    return None


# -- config files -----------------------------------------------------------------------------


def parse_config_text(text: str, *, file: str) -> dict[str, Any]:
    """Parse a Codex ``config.toml`` (or ``NAME.config.toml`` profile) with ``tomllib``;
    a syntax error raises :class:`CodexConfigError` naming the file, line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return _raise_toml(file, exc)


def _raise_toml(file: str, exc: tomllib.TOMLDecodeError) -> dict[str, Any]:
    # Python 3.11's TOMLDecodeError carries the position only in its message.
    text = str(exc)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
    where = f"line {found[1]}, column {found[2]}" if found else ""
    message = text[: found.start()] if found else text
    raise CodexConfigError(
        file, where, f"is not valid TOML: {message}", "fix the TOML syntax there"
    ) from None


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """One ``-c key=value`` override: the dotted key and its value, parsed as TOML (or, when
    that fails, the raw string, as Codex does)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise CodexConfigError(
            "-c", text, "is not key=value", "write -c dotted.key=value, e.g. "
            "-c shell_environment_policy.inherit=core",
        )  # fmt: skip
    path = tuple(part.strip() for part in key.split("."))
    if not all(path):
        raise CodexConfigError("-c", key, "has an empty part in its dotted key", "fix the key")
    try:
        value: Any = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return path, value


def merge_config(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Config layers merged as Codex merges them: tables merge key by key, any other value
    (arrays included) is replaced by the later layer's."""
    merged: dict[str, Any] = {}
    for layer in layers:
        _merge_into(merged, layer)
    return merged


def _merge_into(target: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        elif isinstance(value, Mapping):
            target[key] = {}
            _merge_into(target[key], value)
        else:
            target[key] = value


def with_override(config: Mapping[str, Any], path: Sequence[str], value: Any) -> dict[str, Any]:
    """``config`` with one ``-c`` override applied."""
    layer: dict[str, Any] = {}
    node = layer
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    return merge_config([config, layer])


# -- hooks.json -------------------------------------------------------------------------------


@attrs.frozen
class CodexHook:
    """One command hook of ``hooks.json``: its event, matcher (on ``source`` for
    SessionStart), command, timeout in seconds and position (``hooks/EVENT/i/hooks/j``)."""

    event: str
    matcher: str | None
    command: str
    timeout: int
    pointer: str
    is_async: bool = False

    def matches(self, source: str) -> bool:
        """Whether the matcher selects ``source`` (Codex: absent, ``""`` and ``*`` match
        all; literal names split on ``|``; anything else is a regex search)."""
        matcher = self.matcher
        if matcher is None or matcher in ("", "*"):
            return True
        if re.fullmatch(r"[A-Za-z0-9_]+(\|[A-Za-z0-9_]+)*", matcher):
            return source in matcher.split("|")
        try:
            return re.search(matcher, source) is not None
        except re.error:
            return False


def parse_codex_hooks(document: object, *, file: str = "hooks.json") -> tuple[CodexHook, ...]:
    """The SessionStart and SubagentStart command hooks of a parsed ``hooks.json``.

    Other events are skipped (they do not change a command's env). Raises
    :class:`CodexConfigError` naming the file, the JSON pointer and the fix for a shape
    Codex refuses, and for a command hook without a command.
    """
    if not isinstance(document, Mapping):
        raise CodexConfigError(
            file, "/", "must be a JSON object", 'write {"hooks": {"SessionStart": [...]}}'
        )
    events = document.get("hooks", {})
    if not isinstance(events, Mapping):
        raise CodexConfigError(
            file, "/hooks", "must be an object of event name to matcher groups",
            'write {"hooks": {"SessionStart": [{"hooks": [...]}]}}',
        )  # fmt: skip
    found = []
    for event in HOOK_EVENTS:
        groups = events.get(event, [])
        at = f"/hooks/{event}"
        if not isinstance(groups, list):
            raise CodexConfigError(
                file, at, "must be an array of matcher groups",
                'write [{"matcher": "startup", "hooks": [...]}]',
            )  # fmt: skip
        for i, group in enumerate(groups):
            if not isinstance(group, Mapping) or not isinstance(group.get("hooks"), list):
                raise CodexConfigError(
                    file, f"{at}/{i}", 'must be an object with a "hooks" array',
                    'write {"matcher": "startup", "hooks": [{"type": "command", ...}]}',
                )  # fmt: skip
            matcher = group.get("matcher")
            if matcher is not None and not isinstance(matcher, str):
                raise CodexConfigError(
                    file, f"{at}/{i}/matcher", "must be a string", "quote the matcher"
                )
            for j, handler in enumerate(group["hooks"]):
                found.append(_handler(handler, event, matcher, f"{at}/{i}/hooks/{j}", file))
    return tuple(hook for hook in found if hook is not None)


def _handler(
    handler: object, event: str, matcher: str | None, at: str, file: str
) -> CodexHook | None:
    if not isinstance(handler, Mapping):
        raise CodexConfigError(
            file, at, "must be an object", 'write {"type": "command", "command": "..."}'
        )
    if handler.get("type") != "command":
        return None  # mcp_tool, prompt and agent handlers do not run a program here
    command = handler.get("command")
    if not isinstance(command, str) or not command.strip():
        raise CodexConfigError(
            file, f"{at}/command", "is missing or empty: a command hook needs a command",
            'add "command": "path/to/hook args"',
        )  # fmt: skip
    timeout = handler.get("timeout", DEFAULT_HOOK_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        raise CodexConfigError(
            file, f"{at}/timeout", f"must be a whole number of seconds, not {timeout!r}",
            "write e.g. 30",
        )  # fmt: skip
    is_async = handler.get("async", False)
    return CodexHook(event, matcher, command, max(timeout, 1), at, bool(is_async))


# -- what Codex adds --------------------------------------------------------------------------


def codex_process_env(
    launcher: Mapping[str, str], codex_path: Sequence[str], arg0_dir: str | None = None
) -> dict[str, str]:
    """Codex's own environment: the launcher's, with its ``codex-path`` directories put in
    front of ``PATH`` at start-up (no dedupe; a missing ``PATH`` becomes just them, an empty
    one keeps its empty entry) and, before them, ``arg0_dir``: the per-run
    ``$CODEX_HOME/tmp/arg0-linux/codex-arg0*`` folder Codex makes when ``CODEX_HOME`` is
    outside the temp folder. The policy then filters *this* map."""
    env = dict(launcher)
    front_dirs = [*([arg0_dir] if arg0_dir else []), *codex_path]
    if front_dirs:
        front = ":".join(front_dirs)
        env["PATH"] = f"{front}:{launcher['PATH']}" if "PATH" in launcher else front
    return env


def sandbox_env(
    launcher: Mapping[str, str],
    policy: CodexPolicy,
    *,
    cwd: str,
    codex_path: Sequence[str],
    arg0_dir: str | None = None,
) -> dict[str, str]:
    """The environment ``codex sandbox -- CMD`` gives CMD: the policy over Codex's own env,
    then ``CODEX_SANDBOX_NETWORK_DISABLED=1`` and ``PWD``, which win over ``set``."""
    process = codex_process_env(launcher, codex_path, arg0_dir)
    env = dict(apply_codex_policy(process, policy).env)
    env["CODEX_SANDBOX_NETWORK_DISABLED"] = "1"
    env["PWD"] = cwd
    return env


# -- a model's command ------------------------------------------------------------------------

#: What Codex 0.169's unified exec sets for every command; it wins over ``set``.
CODEX_FIXED_ENV: Final[Mapping[str, str]] = {
    "NO_COLOR": "1",
    "TERM": "dumb",
    "LANG": "C.UTF-8",
    "LC_CTYPE": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "COLORTERM": "",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GH_PAGER": "cat",
    "CODEX_CI": "1",
}
#: Variables the login-shell snapshot wrapper saves before sourcing the snapshot and puts
#: back after it (with every ``set`` key). Codex also saves about 49 proxy and CA variables
#: it manages when its network proxy is on; those are not modelled here.
SNAPSHOT_RESTORED: Final = (
    "CODEX_APPLY_PATCH_PRESERVE_LINE_ENDINGS",
    "CODEX_PERMISSION_PROFILE",
    "CODEX_PLUGIN_METRICS_OUTPUT",
    "CODEX_SESSION_ID",
    "CODEX_THREAD_ID",
    "CODEX_TOOL_CALL_ID",
    "CODEX_VERSION",
)
#: Names the snapshot never carries.
SNAPSHOT_SKIPPED: Final = ("PWD", "OLDPWD", "_")
#: Variables whose value differs on every run (or every command): compare them by presence.
PER_RUN: Final = ("CODEX_THREAD_ID", "CODEX_SESSION_ID", "CODEX_TOOL_CALL_ID", "_")
CODEX_VERSION: Final = "0.169.0"
#: The per-run folder name (``codex-arg0`` and a random suffix) as a prediction shows it.
ARG0_PLACEHOLDER: Final = "codex-arg0<per run>"
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@attrs.frozen
class Step:
    """One step in the life of a variable inside Codex: the ``stage`` that acted, the value
    after it (None: absent) and why."""

    stage: str
    value: str | None
    why: str

    def to_json(self) -> dict[str, object]:
        return {"stage": self.stage, "value": self.value, "why": self.why}


@attrs.frozen
class CommandEnv:
    """The environment of a model's command inside Codex, with each variable's steps.

    ``env`` is the final map; ``steps`` every variable's history (those removed on the way
    included); ``policy`` what the shell_environment_policy did; ``per_run`` the names whose
    values are per-run ids (their values here are placeholders).
    """

    env: Mapping[str, str]
    steps: Mapping[str, tuple[Step, ...]]
    policy: PolicyOutcome
    per_run: tuple[str, ...] = PER_RUN


def command_env(
    launcher: Mapping[str, str],
    policy: CodexPolicy,
    *,
    cwd: str,
    codex_path: Sequence[str],
    snapshot: Mapping[str, str] | None,
    thread_id: str = "<thread id: per run>",
    session_id: str | None = None,
    tool_call_id: str = "<tool call id: per command>",
    command_path: str = "<the command's program: per command>",
    arg0_dir: str | None = None,
) -> CommandEnv:
    """What a model's ``exec_command`` sees inside Codex 0.169, step by step:

    1. Codex's own env: the launcher's, with ``arg0_dir`` (when given) and ``codex_path`` in
       front of ``PATH``.
    2. The policy (:func:`apply_codex_policy`).
    3. Codex's variables: thread, session, version, tool-call ids, apply-patch flag, the
       fixed unified-exec table (wins over ``set``), the sandbox's network flag.
    4. The login-shell snapshot (``snapshot``: the exported variables of a login shell
       started with the policy's inherited map, as captured): every variable it holds
       overwrites the value so far — except the restored ones (:data:`SNAPSHOT_RESTORED`
       and every ``set`` key), which get their pre-snapshot value (or absence) back. None: no
       snapshot (the command runs in a plain ``bash -c``). Either way ``codex_path`` goes in
       front of ``PATH`` again (deduped) unless ``set`` has ``PATH`` or ``PATH`` is absent.
    5. bash: ``PWD`` is the cwd, ``_`` the command's path; ``SHLVL`` is the snapshot's, or
       without a snapshot one more than Codex's own.
    """
    steps: dict[str, list[Step]] = {}
    env: dict[str, str] = {}

    def record(name: str, value: str | None, stage: str, why: str) -> None:
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
        steps.setdefault(name, []).append(Step(stage, value, why))

    for name, value in launcher.items():
        record(name, value, "launcher", "inherited from the process that started Codex")
    process = codex_process_env(launcher, codex_path, arg0_dir)
    if process.get("PATH") != launcher.get("PATH"):
        record("PATH", process["PATH"], "codex start-up", "Codex puts its own folders first")
    outcome = apply_codex_policy(process, policy)
    for name, reason in outcome.removed.items():
        record(name, None, "shell_environment_policy", reason)
    for name, value in outcome.set_applied:
        record(name, value, "shell_environment_policy.set", "set in config.toml")
    for name, reason in outcome.set_dropped.items():
        steps.setdefault(name, []).append(Step("shell_environment_policy.set", None, reason))
    ids = {
        "CODEX_THREAD_ID": thread_id,
        "CODEX_SESSION_ID": session_id if session_id is not None else thread_id,
        "CODEX_APPLY_PATCH_PRESERVE_LINE_ENDINGS": "1",
        **CODEX_FIXED_ENV,
        "CODEX_VERSION": CODEX_VERSION,
        "CODEX_TOOL_CALL_ID": tool_call_id,
        "CODEX_SANDBOX_NETWORK_DISABLED": "1",
    }
    for name, value in ids.items():
        record(name, value, "codex runtime", "Codex sets it for every command")
    set_keys = [name for name, _ in policy.set]
    if snapshot is not None:
        saved = {
            name: env.get(name)
            for name in (*SNAPSHOT_RESTORED, *set_keys)
            if _IDENTIFIER.match(name) and not is_non_inheritable(name)
        }
        for name, exported in snapshot.items():
            if name not in SNAPSHOT_SKIPPED and env.get(name) != exported:
                record(name, exported, "login snapshot", "exported by the login shell's profile")
        for name, before in saved.items():
            if env.get(name) != before:
                record(name, before, "snapshot restore", "Codex restores it after the snapshot")
    # codex-path goes first again (deduped) unless set owns PATH; a missing PATH stays so.
    if "PATH" not in set_keys and codex_path and "PATH" in env:
        entries = [e for e in env["PATH"].split(":") if e not in codex_path]
        value = ":".join([*codex_path, *entries])
        if env["PATH"] != value:
            stage = "snapshot restore" if snapshot is not None else "codex runtime"
            record("PATH", value, stage, "Codex puts its codex-path first again")
    record("PWD", cwd, "bash", "bash sets the working directory")
    # SHLVL as measured for `env -0 > FILE`: the snapshot's value, or one more than Codex's
    # own without a snapshot (bash may count one less for a command it can exec directly).
    if snapshot is None:
        level = env.get("SHLVL", "0")
        record("SHLVL", str(int(level) + 1) if level.isdigit() else "1", "bash", "bash -c")
    elif "SHLVL" not in snapshot:
        record("SHLVL", "1", "bash", "bash counts its nesting level")
    record("_", command_path, "bash", "bash passes the command's path")
    frozen = {name: tuple(found) for name, found in steps.items()}
    per_run = PER_RUN + (("PATH",) if arg0_dir and arg0_dir in env.get("PATH", "") else ())
    return CommandEnv(dict(env), frozen, outcome, per_run)
