"""Claude Code 2.1 as a runtime: what a Bash command inside a Claude Code session sees.

Theory of operation
-------------------
Claude Code 2.1.328 (measured; ``docs/claude-code.md`` has the facts and how they were
measured) builds a Bash command's environment in four steps, and this module models each as
layers over the environment Claude Code itself was started with (the inherited map):

1. the ``env`` tables of ``settings.json`` at the user, project and local levels (later wins);
2. the variables Claude Code sets for its children (``CLAUDECODE=1``, the session id, …), some
   with values that differ on every run (a pid, a socket, a token): those are listed in
   :data:`PER_RUN_VARIABLES` and compared by presence only;
3. ``$SHELL -c`` starting (``PWD``, ``SHLVL``); the shell snapshot taken from ``~/.bashrc``
   carries aliases and functions, never exported variables;
4. the session's env files (``$CLAUDE_CONFIG_DIR/session-env/<session>/``), in Claude Code's
   order (:func:`order_env_files`), each read by the static env-file reader into one hook layer
   per file — and applied the way Claude Code applies them: the file is *re-run* before every
   command, so ``export PATH="/x:$PATH"`` concatenates (a directory written on every resume
   appears once per line), where envoverlay's own ``prepend`` would keep it once.

Everything here is pure: the caller reads the files (:mod:`envoverlay.claude_session` does),
this module decides what they mean. Warnings name what goes wrong in Claude Code itself
(:data:`CLAUDE_CODES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from ._jsonio import escape_pointer, load_json
from ._names import Platform, PlatformArg, list_separator, resolve_platform
from .diagnostics import CODES, Diagnostic, Findings
from .layers import Layer
from .ops import PATH_LIST_NAMES, Op, apply_op
from .sources import Source

if TYPE_CHECKING:
    from .composition import ComposeResult
    from .envfile import EnvFileResult
    from .hooks import HookResult
    from .lifecycle import ThreadState
    from .policy import SensitiveMode

#: The Claude Code release these facts were measured on.
CLAUDE_VERSION: Final = "2.1.328"

SettingsLevel = Literal["user", "project", "local"]
#: settings.json levels in the order Claude Code merges them (later wins).
SETTINGS_LEVELS: Final[tuple[SettingsLevel, ...]] = ("user", "project", "local")

#: Hook events whose command hooks get a ``CLAUDE_ENV_FILE``, in the order their files apply.
ENV_FILE_EVENTS: Final = ("Setup", "SessionStart", "CwdChanged", "FileChanged")
#: The hook events this profile reads from settings (SubagentStart gets no env file).
SETTINGS_HOOK_EVENTS: Final = (
    "Setup",
    "SessionStart",
    "CwdChanged",
    "FileChanged",
    "SubagentStart",
)

_ENV_FILE_NAME: Final = re.compile(r"(setup|sessionstart|cwdchanged|filechanged)-hook-(\d+)\.sh\Z")
_EVENT_RANK: Final = {event.lower(): rank for rank, event in enumerate(ENV_FILE_EVENTS)}

#: Variables Claude Code 2.1.328 sets in every Bash command's env, with fixed values.
CLAUDE_CODE_VARIABLES: Final[Mapping[str, str]] = {
    "CLAUDECODE": "1",
    "CLAUDE_CODE_CHILD_SESSION": "1",
    "COREPACK_ENABLE_AUTO_PIN": "0",
    "GIT_EDITOR": "true",
    "NoDefaultCurrentDirectoryInExePath": "1",
}
#: Variables Claude Code (or the shell) sets with a value that differs per run or command:
#: a prediction lists them, and compares them by presence only.
PER_RUN_VARIABLES: Final = (
    "CLAUDE_PID",
    "CLAUDE_CODE_MESSAGING_SOCKET",
    "CLAUDE_CODE_MESSAGING_TOKEN",
    "CLAUDE_CODE_CHILD_NOTES_DIR",
    "CLAUDE_CODE_EXECPATH",
    "CLAUDE_EFFORT",
    "_",
)

#: Diagnostic codes of this profile (their rules are listed in :data:`envoverlay.CODES`).
CLAUDE_CODES: Final = tuple(code for code in CODES if code.startswith("claude-"))


# -- settings.json --------------------------------------------------------------------------


@attrs.frozen
class ClaudeHook:
    """One hook of a settings file: its event, matcher (None = every source), command,
    timeout in seconds (None = Claude Code's default) and where it was configured."""

    event: str
    matcher: str | None
    command: str
    timeout: float | None
    settings: str
    type: str = "command"

    def matches(self, value: str) -> bool:
        """Whether the matcher selects ``value`` (a SessionStart source, a tool name …):
        no matcher, ``""`` and ``*`` match everything; otherwise the matcher is a regular
        expression that must match the whole value (a plain word matches itself)."""
        if self.matcher in (None, "", "*"):
            return True
        assert self.matcher is not None
        try:
            return re.fullmatch(self.matcher, value) is not None
        except re.error:
            return self.matcher == value


@attrs.frozen
class SettingsFile:
    """One ``settings.json``: its level, its path, its ``env`` table and its hooks."""

    level: SettingsLevel
    path: str
    env: tuple[tuple[str, str], ...] = ()
    hooks: tuple[ClaudeHook, ...] = ()


def parse_settings(
    text: str, *, level: SettingsLevel, path: str
) -> tuple[SettingsFile, list[Diagnostic]]:
    """Read one settings.json's ``env`` table and hooks. Never raises: what Claude Code
    would not accept is reported with its JSON pointer and left out."""
    source = Source("config", f"claude-settings:{path}")
    problems: list[Diagnostic] = []

    def problem(pointer: str, message: str, hint: str, name: str | None = None) -> None:
        problems.append(
            Diagnostic("error", "claude-settings", name, source, f"{path}: {message}", hint=hint,
                       pointer=pointer)
        )  # fmt: skip

    document, json_problems = load_json(text, what=f"settings file {path}")
    for found in json_problems:
        problem(found.pointer or "", found.message, "fix the JSON; Claude Code ignores the file")
    if json_problems:
        return SettingsFile(level, path), problems
    if not isinstance(document, dict):
        problem("", "a settings file holds one JSON object", 'write {"env": {...}}')
        return SettingsFile(level, path), problems
    env = _settings_env(document.get("env", {}), problem)
    hooks = _settings_hooks(document.get("hooks", {}), path, problem)
    return SettingsFile(level, path, tuple(env), tuple(hooks)), problems


def _settings_env(table: object, problem: Any) -> list[tuple[str, str]]:
    if not isinstance(table, dict):
        problem("/env", "env must be an object of name to string", 'write "env": {"NAME": "value"}')
        return []
    env = []
    for name, value in table.items():
        pointer = f"/env/{escape_pointer(name)}"
        if isinstance(value, bool):  # Claude Code stores it as JavaScript prints it
            env.append((name, "true" if value else "false"))
        elif isinstance(value, (int, float)):  # as JavaScript's String() prints a number
            integral = isinstance(value, int) or (value.is_integer() and abs(value) < 1e21)
            env.append((name, str(int(value)) if integral else repr(value)))
        elif isinstance(value, str):
            env.append((name, value))
        else:
            problem(pointer, f"{name}: a value must be a string, not {type(value).__name__}",
                    "quote the value", name)  # fmt: skip
    return env


def _settings_hooks(table: object, path: str, problem: Any) -> list[ClaudeHook]:
    if not isinstance(table, dict):
        problem("/hooks", "hooks must be an object of event to matcher groups",
                'write "hooks": {"SessionStart": [{"hooks": [...]}]}')  # fmt: skip
        return []
    hooks = []
    for event in SETTINGS_HOOK_EVENTS:
        groups = table.get(event, [])
        if not isinstance(groups, list):
            problem(f"/hooks/{event}", f"{event} must be a list of matcher groups",
                    '[{"matcher": "startup", "hooks": [...]}]')  # fmt: skip
            continue
        for g, group in enumerate(groups):
            where = f"/hooks/{event}/{g}"
            matcher = group.get("matcher") if isinstance(group, dict) else None
            entries = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(entries, list) or not (matcher is None or isinstance(matcher, str)):
                problem(where, "a matcher group is {\"matcher\": str, \"hooks\": [...]}",
                        "give the group a hooks list")  # fmt: skip
                continue
            for h, entry in enumerate(entries):
                kind = entry.get("type") if isinstance(entry, dict) else None
                command = entry.get("command") if isinstance(entry, dict) else None
                timeout = entry.get("timeout") if isinstance(entry, dict) else None
                if not isinstance(kind, str) or (
                    kind == "command" and not isinstance(command, str)
                ):
                    problem(f"{where}/hooks/{h}", 'a hook is {"type": "command", "command": str}',
                            "give the hook a type and a command")  # fmt: skip
                    continue
                if timeout is not None and (
                    isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                    or timeout <= 0
                ):  # fmt: skip
                    problem(f"{where}/hooks/{h}/timeout", "timeout must be a number of seconds",
                            "write e.g. \"timeout\": 30")  # fmt: skip
                    timeout = None
                hooks.append(
                    ClaudeHook(event, matcher, command if isinstance(command, str) else "",
                               float(timeout) if timeout is not None else None, path, kind)
                )  # fmt: skip
    return hooks


def matched_hooks(
    settings: Sequence[SettingsFile], event: str, value: str
) -> list[tuple[int, ClaudeHook]]:
    """The hooks Claude Code runs for ``event`` (matched against ``value``: the source of a
    SessionStart), with the position N that names each one's env file
    ``<event>-hook-<N>.sh``: the position among all matched hooks, flattened across matcher
    groups and settings levels — so it shifts when settings change."""
    found = [hook for file in settings for hook in file.hooks if hook.event == event]
    return list(enumerate(hook for hook in found if hook.matches(value)))


def env_file_hooks(settings: Sequence[SettingsFile]) -> list[tuple[ClaudeHook, dict[str, str]]]:
    """Each configured command hook that gets a ``CLAUDE_ENV_FILE``, with the file it writes
    for each SessionStart source it matches (one entry, ``"*"``, for the other events)."""
    found: dict[int, tuple[ClaudeHook, dict[str, str]]] = {}
    for event in ENV_FILE_EVENTS:
        values = SOURCES if event == "SessionStart" else ("*",)
        for value in values:
            for position, hook in matched_hooks(settings, event, value):
                if hook.type == "command":
                    entry = found.setdefault(id(hook), (hook, {}))
                    entry[1][value] = env_file_name(event, position)
    return list(found.values())


def env_file_name(event: str, position: int) -> str:
    """The name of the env file of the hook at ``position`` for ``event``."""
    return f"{event.lower()}-hook-{position}.sh"


# -- hooks, the way Claude Code runs them ---------------------------------------------------

#: SessionStart sources Claude Code 2.1 sends.
SOURCES: Final = ("startup", "resume", "clear", "compact")
#: Top-level keys Claude Code 2.1.328 reads from a hook's JSON stdout.
OUTPUT_KEYS: Final = (
    "continue", "suppressOutput", "stopReason", "decision", "systemMessage",
    "terminalSequence", "reason", "hookSpecificOutput", "async", "asyncTimeout",
)  # fmt: skip
#: ``hookSpecificOutput`` keys it reads for SessionStart (an ``env`` key is ignored).
SESSION_START_KEYS: Final = (
    "hookEventName", "additionalContext", "initialUserMessage", "sessionTitle", "watchPaths",
    "reloadSkills",
)  # fmt: skip


def transcript_path(config_dir: str, cwd: str, session_id: str) -> str:
    """Where Claude Code keeps a session's transcript: the cwd with every character but
    ASCII letters and digits turned into ``-``, under ``<config>/projects/``."""
    folder = re.sub(r"[^A-Za-z0-9]", "-", cwd)
    return f"{config_dir.rstrip('/')}/projects/{folder}/{session_id}.jsonl"


def session_start_input(
    *, source: str, session_id: str, cwd: str, config_dir: str, model: str = "claude-opus-4-5"
) -> dict[str, object]:
    """The stdin document Claude Code 2.1.328 gives a SessionStart command hook for
    ``source`` (valid under the ``claude-session-start.input`` schema). Fields that
    describe the earlier turn of a resume hold neutral values."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    document: dict[str, object] = {
        "session_id": session_id,
        "transcript_path": transcript_path(config_dir, cwd, session_id),
        "cwd": cwd,
        "hook_event_name": "SessionStart",
        "source": source,
    }
    if source == "resume":
        document.update(
            seconds_since_last_response=0, context_tokens=0, prompt_cache_likely_expired=False,
            estimated_cache_write_usd=0.0,
        )  # fmt: skip
    elif source == "compact":
        document.update(model=model, prompt_id="envoverlay-check")
    return document


def output_findings(stdout: str, source: Source) -> tuple[str | None, list[Diagnostic]]:
    """What Claude Code takes from a SessionStart hook's stdout: the context it adds, and
    findings about what it ignores. Plain text (not JSON) is context as it is; a JSON
    object's ``additionalContext`` is context; keys Claude Code does not read — an ``env``
    overlay among them — are ignored (only its debug log says so)."""
    text = stdout.strip()
    if not text:
        return None, []
    if text[0] != "{":
        return text, []
    document, problems = load_json(text, what="hook output")
    if problems or not isinstance(document, dict):
        return text, [
            Diagnostic("warning", "claude-ignored-output", None, source,
                       "stdout starts like JSON but is not one JSON object: Claude Code shows "
                       "it as plain context", hint="print one JSON object, or plain text")
        ]  # fmt: skip
    found = []
    for key in document:
        if key not in OUTPUT_KEYS:
            found.append(_ignored(f"/{escape_pointer(key)}", key, source))
    specific = document.get("hookSpecificOutput")
    context = None
    if isinstance(specific, dict):
        for key in specific:
            if key not in SESSION_START_KEYS:
                found.append(_ignored(f"/hookSpecificOutput/{escape_pointer(key)}", key, source))
        value = specific.get("additionalContext")
        context = value if isinstance(value, str) else None
    return context, found


def _ignored(pointer: str, key: str, source: Source) -> Diagnostic:
    if key == "env":
        message = (
            "Claude Code 2.1 ignores an env overlay in the hook's JSON: these variables reach "
            "no Bash command there"
        )
        hint = (
            "also write them to $CLAUDE_ENV_FILE: `envoverlay emit --format claude-env-file` "
            "turns the overlay into lines Claude Code applies"
        )
    else:
        message = f"Claude Code 2.1 does not read {key!r} (its debug log: unrecognized keys)"
        hint = "remove the key, or check the spelling"
    return Diagnostic("warning", "claude-ignored-output", None, source, message, hint=hint,
                      pointer=pointer)  # fmt: skip


def hook_variables(
    session_id: str, *, env_file: str, project_dir: str, entrypoint: str = "sdk-cli"
) -> dict[str, str]:
    """The variables Claude Code 2.1.328 adds to a command hook's env (measured): its own
    (``AI_AGENT`` names the hook harness, not the agent), ``CLAUDE_PROJECT_DIR`` and, for
    the four events that get one, ``CLAUDE_ENV_FILE``."""
    variables = claude_code_variables(session_id, entrypoint=entrypoint)
    variables.pop("GIT_EDITOR")  # set for Bash commands only
    variables["AI_AGENT"] = f"claude-code_{CLAUDE_VERSION.replace('.', '-')}_harness"
    variables["CLAUDE_PROJECT_DIR"] = project_dir
    variables["CLAUDE_ENV_FILE"] = env_file
    return variables


def judge_hook(
    stdout: bytes | str,
    *,
    exit_code: int | None,
    env_file: EnvFile,
    env: Mapping[str, str],
    platform: PlatformArg = "auto",
    protected: Iterable[str] = (),
    sensitive: SensitiveMode = "warn",
) -> HookResult:
    """A SessionStart hook's run as Claude Code 2.1 takes it: what it wrote to
    ``CLAUDE_ENV_FILE`` becomes its layer (read statically over ``env``; Claude Code applies
    the file whatever the exit status), stdout gives context, and every finding says what
    happens inside Claude Code; ``protected`` and ``sensitive`` judge the file's ops as
    ``check`` judges any hook's. The result's ``hook_id`` is the env file's path."""
    from .hooks import HookResult, policy_findings

    plat = resolve_platform(platform)
    source = env_file_source(env_file)
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    if exit_code != 0:
        status = "was killed" if exit_code is None else f"exited with code {exit_code}"
        errors.append(
            Diagnostic("error", "hook-failed", None, source,
                       f"the hook {status}: Claude Code reports a hook error, yet still applies "
                       "what it wrote to CLAUDE_ENV_FILE", hint="make the hook exit 0",
                       pointer="")
        )  # fmt: skip
    text = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout
    context, ignored = output_findings(text, source)
    warnings.extend(ignored)
    layer = None
    if env_file.text.strip():
        read = read_env_file(env_file.text, path=env_file.path, env=env, platform=plat)
        pointers = [f"{env_file.path}:{line}" for line in read.lines]
        policy = policy_findings(read.ops, pointers, source, plat, tuple(protected), sensitive)
        errors.extend((*read.errors, *policy[0]))
        warnings.extend((*read.warnings, *policy[1]))
        for found in _file_findings(env_file, source, plat):
            (errors if found.severity == "error" else warnings).append(found)
        ops = read.ops
        verdict = powershell_verdict(env_file.text)
        if verdict is not None and plat == "windows":
            warnings.append(
                Diagnostic("warning", "claude-powershell-drops", None, source,
                           f"{env_file.name} line {verdict[0]}: {verdict[1]}",
                           hint="write only `export NAME='value'` lines (envoverlay emit does)")
            )  # fmt: skip
        if ops:
            layer = Layer(source, tuple(ops))
    return HookResult(
        env_file.path, layer, additional_context=context, errors=tuple(errors),
        warnings=tuple(warnings), exit_code=exit_code,
    )  # fmt: skip


# -- the session folder ---------------------------------------------------------------------


@attrs.frozen
class EnvFile:
    """One env file Claude Code splices into Bash commands: its path, its event (``outer``
    for a ``CLAUDE_ENV_FILE`` from Claude Code's own env), N, and its text."""

    path: str
    event: str
    index: int
    text: str

    @property
    def name(self) -> str:
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]


def order_env_files(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """The names of a ``session-env/<id>/`` folder that Claude Code applies, in its order
    (setup, sessionstart, cwdchanged, filechanged, then by N), and the names it ignores."""
    applied: list[str] = []
    ignored: list[str] = []
    for name in names:
        (applied if _ENV_FILE_NAME.match(name) else ignored).append(name)

    def rank(name: str) -> tuple[int, int]:
        found = _ENV_FILE_NAME.match(name)
        assert found is not None
        return _EVENT_RANK[found.group(1)], int(found.group(2))

    return sorted(applied, key=rank), sorted(ignored)


def env_file_event(name: str) -> tuple[str, int]:
    """The event (lower-cased) and N of an env file name Claude Code applies."""
    found = _ENV_FILE_NAME.match(name)
    if found is None:
        raise ValueError(f"{name!r} is not a Claude Code env file name")
    return found.group(1), int(found.group(2))


@attrs.frozen
class ClaudeSession:
    """What Claude Code reads for one session, as text: settings files (user, project,
    local), the env files in the order they apply (an outer ``CLAUDE_ENV_FILE`` first),
    names in the session folder that Claude Code ignores, the shell profile files its
    snapshot reads, and problems met while reading them."""

    config_dir: str
    session_id: str
    project_dir: str
    settings: tuple[SettingsFile, ...] = ()
    env_files: tuple[EnvFile, ...] = ()
    ignored: tuple[str, ...] = ()
    profiles: tuple[tuple[str, str], ...] = ()
    problems: tuple[Diagnostic, ...] = ()

    @property
    def folder(self) -> str:
        return f"{self.config_dir.rstrip('/')}/session-env/{self.session_id}"


# -- the variables Claude Code and its shell add -------------------------------------------


def claude_code_variables(
    session_id: str, *, entrypoint: str = "sdk-cli", executable: str | None = None
) -> dict[str, str]:
    """The variables Claude Code sets for a Bash command whose values are known in advance:
    :data:`CLAUDE_CODE_VARIABLES`, the session id, the entry point (``sdk-cli`` for
    ``claude -p``, ``cli`` interactive) and, when given, the path of the executable."""
    variables = dict(CLAUDE_CODE_VARIABLES)
    variables["AI_AGENT"] = f"claude-code_{CLAUDE_VERSION.replace('.', '-')}_agent"
    variables["CLAUDE_CODE_ENTRYPOINT"] = entrypoint
    variables["CLAUDE_CODE_SESSION_ID"] = session_id
    if entrypoint == "sdk-cli":  # measured for claude -p only
        variables["CLAUDE_CODE_SESSION_ATTENDED"] = "0"
    if executable is not None:
        variables["CLAUDE_CODE_EXECPATH"] = executable
    return variables


def per_run_variables(
    entrypoint: str = "sdk-cli", executable: str | None = None
) -> tuple[str, ...]:
    """The names whose values differ per run (or per command) for these settings."""
    names = [
        name for name in PER_RUN_VARIABLES if not (executable and name == "CLAUDE_CODE_EXECPATH")
    ]
    if entrypoint != "sdk-cli":
        names.append("CLAUDE_CODE_SESSION_ATTENDED")
    return tuple(names)


def shell_start_variables(base: Mapping[str, str], cwd: str) -> dict[str, str]:
    """What ``$SHELL -c`` sets when it starts: ``PWD`` and ``SHLVL`` (one above the
    inherited level, as bash counts it)."""
    level = base.get("SHLVL", "")
    return {"PWD": cwd, "SHLVL": str(int(level) + 1) if level.strip().isdigit() else "1"}


# -- env files, the way Claude Code applies them -------------------------------------------


_GUARD: Final = re.compile(r"\bcase\b|\*\)")
#: A block ``envoverlay emit`` wrote: it dedupes as envoverlay's own prepend/append does.
_EMITTED: Final = re.compile(r"\s*# envoverlay op:")
_IF_SET: Final = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\+")


def as_claude_applies(
    ops: Iterable[Op],
    env: Mapping[str, str],
    platform: Platform,
    lines: Sequence[str] = (),
) -> list[Op]:
    """``ops`` read from an env file, rewritten to what re-running the file's lines gives.
    ``lines[i]`` is the text of the line op ``i`` came from; ``env`` is the map the file
    runs over. A self-referencing ``prepend``/``append`` becomes the literal concatenation:
    ``"/x:$PATH"`` adds ``/x`` even when it is there already, and gives ``/x:`` on an empty
    PATH; the ``case ":$PATH:"`` guard adds it only when absent; ``/x${PATH:+:$PATH}`` adds
    no separator to an empty value. A block ``envoverlay emit`` wrote (its ``# envoverlay op:``
    line) dedupes as the op does. Every other op is unchanged; each keeps its origin."""
    running = dict(env)
    separator = list_separator(platform)
    out = []
    for i, op in enumerate(ops):
        form = lines[i] if i < len(lines) else ""
        applied = op
        if op.action in ("prepend", "append") and not _EMITTED.match(form):
            sep = op.separator if op.separator is not None else separator
            current = running.get(op.name, "")
            if _GUARD.search(form) and set(op.entries) <= set(current.split(sep)):
                applied = Op.set(op.name, current, secret=op.secret, origin=op.origin)
            else:
                added = sep.join(op.entries)
                joint = "" if not current and _IF_SET.search(form) else sep
                value = (
                    f"{added}{joint}{current}"
                    if op.action == "prepend"
                    else (f"{current}{joint}{added}")
                )
                applied = Op.set(op.name, value, secret=op.secret, origin=op.origin)
        after = apply_op(running.get(op.name), applied, separator=separator, entry_key=str)
        if after is None:
            running.pop(op.name, None)
        else:
            running[op.name] = after
        out.append(applied)
    return out


_EXIT: Final = re.compile(r"\s*exit\b\s*([0-9]*)")
_BAD_NAME: Final = re.compile(r"\s*(?:export|declare\s+-x|readonly)\s+([^\s=]+)=")
_VALID_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SUBSTITUTION: Final = re.compile(r"\$\(|`")
_ASSIGNED: Final = re.compile(r"\s*(?:export\s+|declare\s+-x\s+)?([A-Za-z_][A-Za-z0-9_]*)=")


def breaking_line(text: str) -> tuple[int, str] | None:
    """The first line of an env file that breaks every Bash command in Claude Code, and
    what it does: ``exit`` (every command exits without running), an invalid name (bash's
    "not a valid identifier" tops every result), an unterminated quote (every command fails
    with "unexpected EOF")."""
    for number, line in enumerate(text.splitlines(), 1):
        found = _EXIT.match(line)
        if found and not line.lstrip().startswith("#"):
            code = found.group(1) or "the last status"
            return number, (
                f"`{line.strip()}` makes every Bash command of the session exit with "
                f"{code} without running"
            )
        bad = _BAD_NAME.match(line)
        if bad and not _VALID_NAME.match(bad.group(1)):
            return number, (
                f"{bad.group(1)!r} is not a valid name: bash's 'not a valid identifier' "
                "message tops every Bash result (later lines still apply)"
            )
    quote_line = _unterminated_quote(text)
    if quote_line is not None:
        return quote_line, (
            "a quote opened here is never closed: every Bash command of the session fails "
            "(exit 2, 'unexpected EOF')"
        )
    return None


def _unterminated_quote(text: str) -> int | None:
    """The line where a quote opens that the text never closes (None if all close).
    Comments are skipped; ``$'…'`` and backslash escapes are followed as bash does."""
    quote: str | None = None
    opened = 0
    line = 1
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\n":
            line += 1
        if quote is None:
            if char == "\\":
                i += 2
                if i - 1 < len(text) and text[i - 1] == "\n":
                    line += 1
                continue
            if char == "#" and (i == 0 or text[i - 1] in " \t\n;"):
                end = text.find("\n", i)
                i = len(text) if end < 0 else end
                continue
            if char in "'\"":
                quote, opened = (
                    ("$'" if char == "'" and i > 0 and text[i - 1] == "$" else char),
                    line,
                )
        elif quote == "'":
            if char == "'":
                quote = None
        elif char == "\\":
            if i + 1 < len(text) and text[i + 1] == "\n":
                line += 1
            i += 2
            continue
        elif (quote == '"' and char == '"') or (quote == "$'" and char == "'"):
            quote = None
        i += 1
    return opened if quote is not None else None


def per_command_values(text: str) -> list[tuple[int, str]]:
    """Lines whose value comes from ``$(...)`` or backticks: Claude Code re-runs them
    before every Bash command, so the value changes (and the command runs) each time."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#") or not _SUBSTITUTION.search(line):
            continue
        assigned = _ASSIGNED.match(line)
        found.append((number, assigned.group(1) if assigned else ""))
    return found


_PS_LINE: Final = re.compile(
    r"\s*(?:export|declare\s+-x)\s+([A-Za-z_][A-Za-z0-9_]*)="
    r"""(?:([A-Za-z0-9_.:@%+,=/\\-]*)|'([^']*)'|"([^"$`\\]*)")\s*\Z"""
)


def powershell_verdict(text: str) -> tuple[int, str] | None:
    """Why Claude Code's PowerShell tool (Windows) would not apply this file, or None.
    It parses the file instead of running it, all or nothing: only ``export``/``declare
    -x`` assignments of a bare, single-quoted, or double-quoted value without ``$`` or
    backtick; a value holding ``/`` or ``\\`` is dropped."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        found = _PS_LINE.match(line)
        if found is None:
            return number, (
                "this line is not a plain `export NAME=value`: PowerShell drops the whole file "
                "('Session environment is not all plain assignments')"
            )
        value = next(group for group in found.groups()[1:] if group is not None)
        if "/" in value or "\\" in value:
            return number, f"{found.group(1)}'s value holds '/' or '\\': PowerShell drops it"
    return None


_EXPORT: Final = re.compile(r"\s*export\s+([A-Za-z_][A-Za-z0-9_]*)(=|\s|$)")


def snapshot_exports(profiles: Iterable[tuple[str, str]]) -> list[tuple[str, int, str]]:
    """``(file, line, name)`` of each variable a shell profile exports: Claude Code's shell
    snapshot runs these files once and keeps their aliases and functions, not their exports,
    so a Bash command never gets these values."""
    found = []
    for path, text in profiles:
        for number, line in enumerate(text.splitlines(), 1):
            match = _EXPORT.match(line)
            if match:
                found.append((path, number, match.group(1)))
    return found


def repeated_entries(
    env: Mapping[str, str], names: Iterable[str], separator: str
) -> list[tuple[str, str, int]]:
    """``(name, entry, count)`` for each non-empty entry a path list holds more than once."""
    found: list[tuple[str, str, int]] = []
    for name in names:
        value = env.get(name)
        if not value:
            continue
        counts: dict[str, int] = {}
        for entry in value.split(separator):
            if entry:
                counts[entry] = counts.get(entry, 0) + 1
        found.extend((name, entry, count) for entry, count in counts.items() if count > 1)
    return found


def is_path_list(name: str) -> bool:
    return name.upper() in PATH_LIST_NAMES


# -- the prediction -------------------------------------------------------------------------

FileStatus = Literal["applied", "refused", "empty"]


@attrs.frozen
class FileReport:
    """What became of one env file: ``applied`` (its layer is in the prediction),
    ``refused`` (the static reader cannot read it; Claude Code still runs it) or ``empty``
    (Claude Code skips it). ``powershell`` says why Claude Code's PowerShell tool would drop
    it (None: it would apply)."""

    file: EnvFile
    status: FileStatus
    layer: Layer | None
    diagnostics: tuple[Diagnostic, ...] = ()
    powershell: str | None = None
    #: The line of each of the layer's ops.
    lines: tuple[int, ...] = ()
    #: The ops as the static reader read them (the layer holds them as Claude Code
    #: applies them: a ``prepend`` of a re-run line becomes the ``set`` it gives).
    read: tuple[Op, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.file.path,
            "event": self.file.event,
            "status": self.status,
            "ops": [
                {"line": line, "name": op.name, "read": read.to_overlay(), "op": op.to_overlay()}
                for line, read, op in zip(
                    self.lines, self.read, self.layer.ops if self.layer else (), strict=False
                )
            ],
            "powershell": self.powershell,
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


@attrs.frozen(repr=False, eq=False)
class ClaudePrediction(Findings):
    """What a Bash command in a Claude Code session gets: the composition (``result.env``
    holds every variable whose value is known in advance), the names Claude Code sets with
    a value of its own each run (:data:`PER_RUN_VARIABLES`), each env file's fate, and this
    profile's findings about what goes wrong in Claude Code itself."""

    session: ClaudeSession
    result: ComposeResult
    per_run: tuple[str, ...]
    files: tuple[FileReport, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:  # type: ignore[override]
        """This profile's error findings (composition's are in ``result``)."""
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:  # type: ignore[override]
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def all_diagnostics(self) -> tuple[Diagnostic, ...]:
        """This profile's findings, then composition's."""
        return (*self.diagnostics, *self.result.diagnostics)

    def __repr__(self) -> str:
        return (
            f"ClaudePrediction(session={self.session.session_id!r}, "
            f"variables={len(self.result.variables)}, files={len(self.files)}, "
            f"diagnostics={len(self.all_diagnostics)})"
        )


def settings_layers(session: ClaudeSession) -> list[Layer]:
    """One config layer per settings file with an ``env`` table (user, project, local)."""
    return [
        Layer.from_ops(
            [Op.set(name, value) for name, value in file.env],
            kind="config",
            id=f"claude-settings:{file.path}",
        )
        for file in session.settings
        if file.env
    ]


def env_file_source(file: EnvFile) -> Source:
    """The source of an env file's layer: a hook layer named by the file's path."""
    return Source("hook", file.path)


def predict(
    session: ClaudeSession,
    base: Mapping[str, str],
    *,
    cwd: str | None = None,
    platform: PlatformArg = "posix",
    entrypoint: str = "sdk-cli",
    executable: str | None = None,
    protected: Iterable[str] = (),
    sensitive: SensitiveMode = "warn",
    base_id: str = "launcher",
) -> ClaudePrediction:
    """What a Bash command in ``session`` gets when Claude Code was started with ``base``
    (see the module docs for the layers). ``cwd`` is the command's directory (default: the
    session's project directory)."""
    from .composition import compose

    plat = resolve_platform(platform)
    options: dict[str, Any] = {
        "platform": plat, "protected": tuple(protected), "sensitive": sensitive,
        "base_id": base_id,
    }  # fmt: skip
    layers = settings_layers(session)
    variables = claude_code_variables(
        session.session_id, entrypoint=entrypoint, executable=executable
    )
    layers.append(
        Layer.from_ops(
            [Op.set(n, v) for n, v in variables.items()], kind="config", id="claude-code"
        )
    )
    shell = shell_start_variables(base, cwd if cwd is not None else session.project_dir)
    layers.append(
        Layer.from_ops([Op.set(n, v) for n, v in shell.items()], kind="config", id="shell-start")
    )
    diagnostics: list[Diagnostic] = list(session.problems)
    written = {name for _, files in env_file_hooks(session.settings) for name in files.values()}
    reports = []
    for file in session.env_files:
        source = env_file_source(file)
        found = _file_findings(file, source, plat)
        powershell = powershell_verdict(file.text)
        if file.event != "outer" and file.name not in written:
            diagnostics.append(
                Diagnostic("warning", "claude-stale-file", None, source,
                           f"{file.name}: no hook configured now writes this file, yet Claude "
                           "Code applies it: it was written under earlier settings (a hook's "
                           "number N shifts when hooks are added, removed or matched "
                           "differently)",
                           hint="start a new session (or /clear) to drop it, or delete the file")
            )  # fmt: skip
        if not file.text.strip():
            reports.append(FileReport(file, "empty", None, (), None))
            continue
        composed = compose(base, layers, **options)
        so_far = composed.env
        origins = {name: str(p.source) for name, p in composed.variables.items()}
        read = read_env_file(file.text, path=file.path, env=so_far, platform=plat, origins=origins)
        ops, lines, problems = list(read.ops), list(read.lines), [*read.errors, *read.warnings]
        if read.errors:
            problems.append(
                Diagnostic(
                    "error", "claude-env-file", None, source,
                    f"{file.name}: the static reader cannot read this file, but Claude Code "
                    "runs it before every Bash command: its effect is not in this prediction",
                    hint="make the hook print JSON (hookSpecificOutput.env) and write the file "
                    "with `envoverlay emit --format claude-env-file`",
                )
            )  # fmt: skip
            reports.append(FileReport(file, "refused", None, (*found, *problems), _ps(powershell)))
        else:
            texts = file.text.splitlines()
            forms = [texts[line - 1] if 0 < line <= len(texts) else "" for line in lines]
            layer = Layer(source, tuple(as_claude_applies(ops, so_far, plat, forms)), "session")
            layers.append(layer)
            reports.append(
                FileReport(
                    file,
                    "applied",
                    layer,
                    (*found, *problems),
                    _ps(powershell),
                    tuple(lines),
                    tuple(ops),
                )
            )
        diagnostics.extend(found)
        diagnostics.extend(problems)
        if powershell is not None and plat == "windows":
            line, why = powershell
            diagnostics.append(
                Diagnostic("warning", "claude-powershell-drops", None, source,
                           f"{file.name} line {line}: {why}",
                           hint="write only `export NAME='value'` lines (envoverlay emit does)")
            )  # fmt: skip
    result = compose(base, layers, **options)
    diagnostics.extend(_repeated(result, layers, plat))
    diagnostics.extend(_snapshot(session, result))
    return ClaudePrediction(
        session, result, per_run_variables(entrypoint, executable), tuple(reports),
        tuple(diagnostics),
    )  # fmt: skip


def _ps(verdict: tuple[int, str] | None) -> str | None:
    return None if verdict is None else f"line {verdict[0]}: {verdict[1]}"


def _file_findings(file: EnvFile, source: Source, platform: Platform) -> list[Diagnostic]:
    found = []
    broken = breaking_line(file.text)
    if broken is not None:
        line, effect = broken
        found.append(
            Diagnostic("error", "claude-breaks-commands", None, source,
                       f"{file.name} line {line}: {effect}",
                       hint="fix or delete that line; Claude Code itself reports no error "
                       "for it")
        )  # fmt: skip
    for line, name in per_command_values(file.text):
        what = f"{name} gets" if name else "this line runs"
        found.append(
            Diagnostic("warning", "claude-per-command-value", name or None, source,
                       f"{file.name} line {line}: {what} a new command substitution before "
                       "every Bash command (Claude Code re-runs the file each time)",
                       hint="compute the value once in the hook and write the result")
        )  # fmt: skip
    return found


def _repeated(
    result: ComposeResult, layers: Sequence[Layer], platform: Platform
) -> list[Diagnostic]:
    from_files = {op.name for layer in layers if layer.kind == "hook" for op in layer.ops}
    names = [name for name in from_files if is_path_list(name)]
    found = []
    for name, entry, count in repeated_entries(result.env, names, list_separator(platform)):
        found.append(
            Diagnostic("warning", "claude-repeated-entry", name, result.provenance(name).source,
                       f"{name} holds {entry} {count} times: the session's env files add it "
                       "again on every resume and compact (Claude Code re-runs the hooks, which "
                       "append to the same file)",
                       hint="write the file with '>' rather than '>>', guard the line with "
                       "case \":$PATH:\", or print JSON and use envoverlay emit")
        )  # fmt: skip
    return found


def _snapshot(session: ClaudeSession, result: ComposeResult) -> list[Diagnostic]:
    env = result.env
    found: list[Diagnostic] = []
    for path, line, name in snapshot_exports(session.profiles):
        if name in env:
            shown = f"comes from {result.provenance(name).source} instead"
        else:
            shown = "is not set"
        found.append(
            Diagnostic("warning", "claude-snapshot-export", name, None,
                       f"{path} line {line} exports {name}, but Claude Code's shell snapshot "
                       f"keeps aliases and functions only: in Bash commands {name} {shown}",
                       hint="set it in settings.json \"env\" or from a SessionStart hook")
        )  # fmt: skip
    return found


def read_env_file(
    text: str,
    *,
    path: str,
    env: Mapping[str, str],
    platform: Platform,
    origins: Mapping[str, str] | None = None,
) -> EnvFileResult:
    """The static env-file reader (SPEC §3a) on one session file, as a hook layer named by
    its path: ops with their lines, findings at ``PATH:LINE``. ``origins`` names where each
    variable of ``env`` came from (for reported references)."""
    from .envfile import read_shell_env_file

    source = Source("hook", path)
    return read_shell_env_file(
        text, env, platform=platform, label=path, source=source, origins=origins
    )


# -- a session as a thread state ------------------------------------------------------------

#: The runtime template of an imported Claude Code thread: the variables Claude Code owns.
CLAUDE_RUNTIME: Final[Mapping[str, str]] = {
    **CLAUDE_CODE_VARIABLES,
    "CLAUDE_CODE_SESSION_ID": "{session_id}",
}


def env_file_hook_result(
    file: EnvFile, env: Mapping[str, str], *, platform: PlatformArg = "posix"
) -> HookResult:
    """One hook's env file as that hook's result (hook id: the file's path), read over
    ``env`` with envoverlay's rules — a re-run replaces the layer instead of appending. A
    file the static reader refuses gives a failed result naming the line."""
    from .envfile import attach_env_files
    from .hooks import HookResult

    plat = resolve_platform(platform)
    read = read_env_file(file.text, path=file.path, env=env, platform=plat)
    return attach_env_files(HookResult(file.path, None), [read], platform=plat)


def thread_state(
    session: ClaudeSession,
    base: Mapping[str, str],
    *,
    thread_id: str | None = None,
    platform: PlatformArg = "posix",
) -> ThreadState:
    """A Claude Code session as a :class:`~envoverlay.ThreadState`: its settings ``env``
    tables as config layers, each env file as its hook's layer (read over the env composed
    so far), Claude Code's own variables as the runtime layer. From then on the §4
    lifecycle applies: a hook that runs again replaces its layer rather than appending. A
    refused file is in the state's ``diagnostics``, with its line."""
    from .composition import compose
    from .lifecycle import ThreadState

    plat = resolve_platform(platform)
    state = ThreadState.new(
        thread_id=thread_id or session.session_id,
        session_id=session.session_id,
        layers=settings_layers(session),
        runtime=CLAUDE_RUNTIME,
        runtime_id="claude-code",
    )
    results: list[HookResult] = []
    for file in session.env_files:
        if not file.text.strip():
            continue
        so_far = compose(
            base, [*state.layers, *(r.layer for r in results if r.layer)], platform=plat
        )
        results.append(env_file_hook_result(file, so_far.env, platform=plat))
    return state.apply("startup", results)


__all__ = [
    "CLAUDE_CODES",
    "CLAUDE_CODE_VARIABLES",
    "CLAUDE_RUNTIME",
    "CLAUDE_VERSION",
    "ENV_FILE_EVENTS",
    "OUTPUT_KEYS",
    "PER_RUN_VARIABLES",
    "SESSION_START_KEYS",
    "SETTINGS_LEVELS",
    "SOURCES",
    "ClaudeHook",
    "ClaudePrediction",
    "ClaudeSession",
    "EnvFile",
    "FileReport",
    "SettingsFile",
    "as_claude_applies",
    "breaking_line",
    "claude_code_variables",
    "env_file_event",
    "env_file_hook_result",
    "env_file_hooks",
    "env_file_name",
    "hook_variables",
    "judge_hook",
    "matched_hooks",
    "order_env_files",
    "output_findings",
    "parse_settings",
    "per_command_values",
    "per_run_variables",
    "powershell_verdict",
    "predict",
    "read_env_file",
    "repeated_entries",
    "session_start_input",
    "settings_layers",
    "shell_start_variables",
    "snapshot_exports",
    "thread_state",
    "transcript_path",
]
