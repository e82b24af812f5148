"""The login-shell guard: keep a composed environment alive through a login shell's profile.

Runtimes compose a correct environment and then run the command as ``bash -lc CMD``. The login
shell sources its profile files first, and those may rewrite ``PATH``, activate another Python or
re-export a variable the overlay removed: the overlay silently loses. :func:`login_shell_argv`
builds an argv that runs the command through the login shell and, *after* the profile files
ran, re-applies what the overlay owns (:func:`reapply_plan` says exactly what that is).

How the argv works
------------------
No value is ever parsed as shell code: the scripts below contain only variable names (checked to
be ``[A-Za-z_][A-Za-z0-9_]*``), fixed text and references to positional parameters, and every
value reaches the shell either through the environment or as a separate argv element.

1. **Save** (skipped when there is nothing to save): the same shell, started without any
   startup file (``bash --posix --noprofile --norc``, ``zsh --emulate sh -f``, ``sh``,
   ``fish --no-config``), copies each variable to be restored exactly into a helper variable
   ``ENVOVERLAY_REAPPLY_<n>`` (absent stays absent), then ``exec`` runs step 2. Values come from
   the environment the process was given — ``result.env`` — so none of them, and no secret,
   ever appears in argv.
2. **Login**: ``SHELL -l -c REAPPLY ...`` — the profile files run, then the re-apply script:
   restored variables are read back from their helpers, removed ones are unset again, path-list
   edits are folded again over whatever the profile left, with their entries passed as
   positional parameters. The helpers and the script's own variables and function are removed.
3. **Run**: a sequence is run exactly with ``exec`` (``exec -- "$@"``; dash: ``exec "$@"``;
   fish: ``exec $argv``); a string is shell code run in the login shell itself, like
   ``bash -lc CODE`` (``eval``, with no positional parameters left).

fish decodes its environment with the locale it starts in and garbles non-ASCII values when that
is not a working UTF-8 locale (fish 3.x), so fish is started through ``env`` with
``LC_CTYPE=C.UTF-8`` (``UTF-8`` on macOS) and without ``LC_ALL``; the re-apply script puts both
back as they were unless the profile changed them.

:func:`capture_login_env` and :func:`drift_report` are the imperative edge: they run the real
login shell and report what its profile files change.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Final, Literal

import attrs

from ._names import POSIX, is_portable_name, names_argument
from .errors import ArgumentError, ArgumentTypeError
from .errors import ShellError as ShellError  # noqa: PLC0414 (re-exported from its old home)
from .ops import REDACTED, Op, new_entries
from .policy import ProtectedNames
from .secrets import DEFAULT_SECRET_PATTERNS

if TYPE_CHECKING:
    from .composition import ComposeResult

from ._shells import SHELLS as SHELLS  # noqa: PLC0414  (the guard's own list)
from ._shells import Shell as Shell  # noqa: PLC0414

#: Prefix of the helper variables that carry saved values from the save step to the re-apply
#: script. The namespace is reserved: the guard sets and removes these names.
HELPER_PREFIX: Final = "ENVOVERLAY_REAPPLY_"

#: The ``env`` program used to start fish in a UTF-8 locale and to print an environment.
ENV_PROGRAM: Final = "/usr/bin/env"

#: The LC_CTYPE fish is started with (see the module docs).
FISH_CTYPE: Final = "UTF-8" if sys.platform == "darwin" else "C.UTF-8"

#: Options that start each shell without reading any startup file (the save step).
_BARE_FLAGS: Final[Mapping[Shell, tuple[str, ...]]] = {
    "bash": ("--posix", "--noprofile", "--norc"),  # --posix: BASH_ENV is not read either
    "zsh": ("--emulate", "sh", "-f"),  # sh emulation: not even /etc/zshenv is read
    "sh": (),
    "fish": ("--no-config",),
}

#: Names each shell maintains itself or will not let a script set: the guard leaves them to
#: the shell (and :func:`drift_report` ignores the bookkeeping ones).
_COMMON_RESERVED: Final = frozenset({"_", "PWD", "OLDPWD", "SHLVL"})
SHELL_RESERVED: Final[Mapping[Shell, frozenset[str]]] = {
    "bash": _COMMON_RESERVED
    | {
        "BASHOPTS", "SHELLOPTS", "BASH_VERSINFO", "EUID", "UID", "PPID", "BASHPID",
        "BASH_ARGC", "BASH_ARGV", "BASH_LINENO", "BASH_SOURCE", "BASH_SUBSHELL",
        "BASH_COMMAND", "FUNCNAME", "GROUPS", "LINENO", "RANDOM", "SRANDOM", "SECONDS",
        "EPOCHSECONDS", "EPOCHREALTIME", "HISTCMD", "DIRSTACK", "PIPESTATUS",
    },
    "zsh": _COMMON_RESERVED
    | {
        "ARGC", "UID", "EUID", "GID", "EGID", "USERNAME", "PPID", "HISTCMD", "LINENO",
        "TTYIDLE", "ZSH_SUBSHELL", "ZSH_ARGZERO", "ZSH_EVAL_CONTEXT", "RANDOM", "SECONDS",
        "EPOCHSECONDS", "EPOCHREALTIME", "status", "pipestatus", "argv",
    },
    "sh": _COMMON_RESERVED | {"PPID"},
    "fish": _COMMON_RESERVED
    | {
        "FISH_VERSION", "fish_pid", "hostname", "history", "status", "pipestatus",
        "status_generation", "version", "umask", "last_pid", "argv",
    },
}  # fmt: skip

#: Variables :func:`drift_report` ignores: shell bookkeeping (direnv's ignore list, plus
#: BASHOPTS and DIRENV_*), and names starting with these prefixes.
DRIFT_IGNORED: Final = frozenset(
    {"PWD", "OLDPWD", "SHLVL", "_", "SHELL", "PS1", "COMP_WORDBREAKS", "SHELLOPTS", "BASHOPTS"}
)
DRIFT_IGNORED_PREFIXES: Final = ("__fish", "DIRENV_", "BASH_FUNC_")

#: Names whose values :func:`drift_report` redacts by default even when the overlay did not
#: mark them secret: a profile can export credentials too.
DEFAULT_REDACT: Final = DEFAULT_SECRET_PATTERNS


# -- the re-apply plan --------------------------------------------------------------------

Rule = Literal["restore", "unset", "edit", "skip"]


@attrs.frozen
class PathEdit:
    """One path-list edit re-applied after the profile: ``entries`` go first (``prepend``) or
    last (``append``), an equal existing entry is removed, no empty entry is ever created."""

    action: Literal["prepend", "append"]
    entries: tuple[str, ...]
    separator: str


@attrs.frozen
class Reapply:
    """What the guard does to one variable after the profile files ran.

    ``restore``: the variable gets back its value at spawn (the composed value) exactly.
    ``unset``: it is removed again. ``edit``: ``edits`` are folded again, in order, over the
    value the profile left. ``skip``: the guard cannot manage it (``reason`` says why).
    Never holds a value: a restored value travels through the environment.
    """

    name: str
    rule: Rule
    reason: str
    edits: tuple[PathEdit, ...] = ()


def _check_shell(shell: str) -> Shell:
    if shell not in SHELLS:
        raise ArgumentError(f"unknown shell {shell!r}; supported: {', '.join(SHELLS)}")
    return shell


def _applied_ops(result: ComposeResult, name: str) -> list[tuple[str, str, Op]]:
    """The applied ops on ``name`` in order, as (layer kind, layer source, op)."""
    try:
        history = result.provenance(name).history
    except KeyError:
        return []
    return [
        (step.source.kind, str(step.source), step.op)
        for step in history
        if step.status == "applied" and step.op is not None
    ]


def _touched(result: ComposeResult) -> list[str]:
    """Every name the result knows: the spawn map, what was removed, and names an op touched
    (an ``unset`` of a variable that never existed is not in ``removed``)."""
    names = dict.fromkeys(result.env)
    names.update(dict.fromkeys(result.removed))
    names.update(dict.fromkeys(result.touched_names))
    return list(names)


def _clean_entries(op: Op) -> tuple[str, ...]:
    """The entries an op really adds on POSIX (first of each, empty ones dropped)."""
    return tuple(new_entries(op, POSIX.key))


def reapply_plan(
    shell: str,
    result: ComposeResult,
    *,
    protect: Iterable[str] = (),
    reapply_policy: bool = True,
) -> tuple[Reapply, ...]:
    """What :func:`login_shell_argv` re-applies after the profile files of ``shell`` ran.

    The rule, per variable, from its applied contributions:

    1. A variable a ``runtime`` layer set or unset, or named by ``protect`` (exact names or ``*``/
       ``?`` globs; a glob only matches names the result knows), is **restored** exactly —
       value or absence.
    2. Otherwise, if its last ``set``/``default``/``unset`` came from a layer, that layer owns
       the whole value: it is restored exactly (later prepends/appends included) or unset.
    3. Otherwise, if the inherit policy removed it (and ``reapply_policy``), it gets its
       composed state back: the policy curates the environment, a profile does not undo it.
    4. Otherwise its value is inherited (or absent) plus path-list edits: the edits are
       **folded again over the profile's value** — the overlay's entries go back in front (or
       at the end), an equal entry the profile left is removed, the profile keeps the rest,
       and no empty entry is created. A variable with a secret path edit is restored instead,
       so no secret entry ever appears in argv; so is one with an entry that contains its
       separator (folding it again would split it).
    5. Anything else (inherited, untouched) is the profile's to change.

    Names the shell cannot manage are ``skip``: names outside ``[A-Za-z_][A-Za-z0-9_]*``
    (bash, zsh and fish pass them through untouched; dash drops them) and the shell's own
    variables (:data:`SHELL_RESERVED`).
    """
    sh = _check_shell(shell)
    if result.platform != "posix":
        raise ArgumentError("login shells are POSIX: compose the result with platform='posix'")
    patterns = [*result.protected, *names_argument(protect, argument="protect")]
    # The judge's protected names (policy.judge_op), by the same rule compose() used.
    protected_names = ProtectedNames.build(patterns, (), "posix")
    exact = [p for p in patterns if "*" not in p and "?" not in p]
    env = result.env
    names = _touched(result)
    names.extend(name for name in exact if name not in names)
    plan: list[Reapply] = []
    for name in names:
        protected = protected_names.matches(name)
        whole: Rule = "restore" if name in env else "unset"
        item = _plan_one(name, result, whole, protected=protected, reapply_policy=reapply_policy)
        if item is not None:
            plan.append(_checked(item, sh))
    return tuple(plan)


def _plan_one(
    name: str, result: ComposeResult, whole: Rule, *, protected: bool, reapply_policy: bool
) -> Reapply | None:
    """One variable's entry of the plan; ``whole`` is how to put back its composed state."""
    ops = _applied_ops(result, name)
    if protected:
        return Reapply(name, whole, "protected")
    # What the runtime sets or unsets is its own (as compose() protects it); its path-list
    # edits and defaults are edits like any layer's, folded again below.
    if any(kind == "runtime" and op.action in ("set", "unset") for kind, _, op in ops):
        return Reapply(name, whole, "owned by the runtime layer")
    owners = [(source, op) for _, source, op in ops if op.action in ("set", "default", "unset")]
    if owners:
        source, op = owners[-1]
        return Reapply(name, whole, f"{op.action} by {source}")
    if reapply_policy and _policy_removed(result, name):
        return Reapply(name, whole, "removed by the inherit policy")
    if not ops:
        return None
    sources = ", ".join(dict.fromkeys(source for _, source, _ in ops))
    if any(op.secret for _, _, op in ops):
        return Reapply(name, whole, f"secret path edit by {sources}")
    if any((op.separator or ":") in entry for _, _, op in ops for entry in op.entries):
        # Folding such an entry again would split it: keep the composed value instead.
        return Reapply(name, whole, f"path edit by {sources} with an entry holding its separator")
    edits = tuple(
        PathEdit(op.action, entries, op.separator or ":")  # type: ignore[arg-type]
        for _, _, op in ops
        if (entries := _clean_entries(op))
    )
    if not edits:
        return None
    return Reapply(name, "edit", f"path edits by {sources}", edits)


def _policy_removed(result: ComposeResult, name: str) -> bool:
    try:
        history = result.provenance(name).history
    except KeyError:
        return False
    return any(step.action == "exclude" and step.status == "applied" for step in history)


def _checked(item: Reapply, shell: Shell) -> Reapply:
    name = item.name
    if name.startswith(HELPER_PREFIX):
        raise ArgumentError(f"{name!r} is in the guard's reserved namespace {HELPER_PREFIX}*")
    if not is_portable_name(name):
        return Reapply(name, "skip", f"{item.reason}; not a shell variable name, left as it is")
    if name in SHELL_RESERVED[shell]:
        return Reapply(name, "skip", f"{item.reason}; {shell} maintains {name} itself")
    return item


# -- building the argv --------------------------------------------------------------------


def _posix_edit_function() -> str:
    # __envoverlay_edit NAME ACTION SEP ENTRY...: the fold of apply_op, on the current value.
    return """__envoverlay_edit() {
__eo_name=$1 __eo_act=$2 __eo_sep=$3
shift 3
eval "__eo_cur=\\${$__eo_name-}"
__eo_kept= __eo_has=
if [ -n "$__eo_cur" ]; then
__eo_rest=$__eo_cur
while :; do
case $__eo_rest in
*"$__eo_sep"*)
__eo_f=${__eo_rest%%"$__eo_sep"*}
__eo_rest=${__eo_rest#*"$__eo_sep"}
__eo_more=1 ;;
*)
__eo_f=$__eo_rest
__eo_more= ;;
esac
__eo_keep=1
for __eo_e in "$@"; do
if [ "x$__eo_f" = "x$__eo_e" ]; then __eo_keep=; fi
done
if [ -n "$__eo_keep" ]; then
if [ -n "$__eo_has" ]; then
__eo_kept=$__eo_kept$__eo_sep$__eo_f
else
__eo_kept=$__eo_f
__eo_has=1
fi
fi
if [ -z "$__eo_more" ]; then break; fi
done
fi
__eo_new= __eo_first=1
for __eo_e in "$@"; do
if [ -n "$__eo_first" ]; then
__eo_new=$__eo_e
__eo_first=
else
__eo_new=$__eo_new$__eo_sep$__eo_e
fi
done
if [ -n "$__eo_has" ]; then
if [ "$__eo_act" = prepend ]; then
__eo_new=$__eo_new$__eo_sep$__eo_kept
else
__eo_new=$__eo_kept$__eo_sep$__eo_new
fi
fi
eval "$__eo_name=\\$__eo_new; export $__eo_name"
}"""


_POSIX_LOCALS: Final = (
    "__eo_name __eo_act __eo_sep __eo_cur __eo_kept __eo_has __eo_rest __eo_f __eo_more "
    "__eo_keep __eo_e __eo_new __eo_first"
)


def _fish_edit_function() -> str:
    # __envoverlay_edit NAME ACTION SEP CURRENT ENTRY...
    return """function __envoverlay_edit
set -l __eo_name $argv[1]
set -l __eo_act $argv[2]
set -l __eo_sep $argv[3]
set -l __eo_cur $argv[4]
set -l __eo_entries $argv[5..-1]
set -l __eo_kept
set -l __eo_fields
if test -n "$__eo_cur"
printf '%s' $__eo_cur | read -z -l -a -d $__eo_sep __eo_fields
for __eo_f in $__eo_fields
if not contains -- $__eo_f $__eo_entries
set -a __eo_kept $__eo_f
end
end
end
set -l __eo_all $__eo_entries $__eo_kept
if test $__eo_act = append
set __eo_all $__eo_kept $__eo_entries
end
set -l __eo_value
set -l __eo_started
for __eo_e in $__eo_all
if set -q __eo_started[1]
set __eo_value "$__eo_value$__eo_sep$__eo_e"
else
set __eo_value $__eo_e
set __eo_started 1
end
end
set -gx $__eo_name "$__eo_value"
end"""


def _fish_unset(name: str) -> str:
    # fish exports a universal variable (set -Ux) even under an erased or unexported global,
    # and erasing it would change the user's settings for good: such a name is stripped by
    # `env -u` when the command is exec'd (see _guarded_argv).
    return f"set -e -g {name}\nif set -q -U {name}\nset -a __eo_strip -u {name}\nend"


@attrs.frozen
class _Built:
    save: list[str]  # save-step lines
    reapply: list[str]  # re-apply lines (before cleanup)
    cleanup: list[str]
    data: list[str]  # positional data for the re-apply script
    helpers: list[str]


def _build(shell: Shell, plan: Sequence[Reapply], fish_locale: dict[str, str | None]) -> _Built:
    save: list[str] = []
    lines: list[str] = []
    data: list[str] = []
    helpers: list[str] = []
    fish = shell == "fish"

    def datum(value: str) -> str:
        """Pass ``value`` as the next positional parameter; the script's reference to it."""
        data.append(value)
        index = len(data)
        return f"$argv[{index}]" if fish else f'"${{{index}}}"'

    if fish and fish_locale:
        # Put LC_ALL / LC_CTYPE back unless the profile changed them (or the overlay owns them:
        # then they are restored below from the same data, unconditionally).
        owned = {item.name for item in plan if item.rule in ("restore", "unset")}
        for name, original in fish_locale.items():
            forced_absent = name == "LC_ALL"
            if name in owned:
                continue
            test = f"not set -q {name}" if forced_absent else f'test "${name}" = {FISH_CTYPE}'
            if original is None:
                if forced_absent:
                    continue
                lines += [f"if {test}", _fish_unset(name), "end"]
            else:
                lines += [f"if {test}", f"set -gx {name} {datum(original)}", "end"]
    if shell == "bash":
        lines += _bash_readonly_check(plan)
    if any(item.rule == "edit" for item in plan):
        lines.append(_fish_edit_function() if fish else _posix_edit_function())
    for item in plan:
        name = item.name
        if item.rule == "skip":
            continue
        if item.rule == "unset":
            lines.append(_fish_unset(name) if fish else f"unset -v {name}")
        elif item.rule == "restore":
            if fish and name in fish_locale:
                original = fish_locale[name]
                if original is None:
                    lines.append(_fish_unset(name))
                else:
                    lines.append(f"set -gx {name} {datum(original)}")
                continue
            helper = f"{HELPER_PREFIX}{len(helpers)}"
            helpers.append(helper)
            if fish:
                save.append(
                    f'if set -q {name}\nset -gx {helper} "${name}"\nelse\nset -e {helper}\nend'
                )
                lines.append(
                    f'if set -q {helper}\nset -gx {name} "${helper}"\n'
                    f"else\n{_fish_unset(name)}\nend"
                )
            else:
                save.append(
                    f'if [ "${{{name}+x}}" = x ]; then {helper}=${name}; export {helper}; '
                    f"else unset -v {helper}; fi"
                )
                lines.append(
                    f'if [ "${{{helper}+x}}" = x ]; then {name}=${helper}; export {name}; '
                    f"else unset -v {name}; fi"
                )
        else:
            for edit in item.edits:
                args = [datum(edit.separator)] + [datum(entry) for entry in edit.entries]
                if fish:
                    lines.append(
                        f"__envoverlay_edit {name} {edit.action} {args[0]} "
                        f'"${name}" {" ".join(args[1:])}'
                    )
                else:
                    lines.append(f"__envoverlay_edit {name} {edit.action} {' '.join(args)}")
    cleanup: list[str] = []
    if helpers:
        cleanup.append(("set -e -g " if fish else "unset -v ") + " ".join(helpers))
    if any(item.rule == "edit" for item in plan):
        cleanup.append("functions -e __envoverlay_edit" if fish else "unset -f __envoverlay_edit")
        if not fish:
            cleanup.append(f"unset -v {_POSIX_LOCALS}")
    return _Built(save, lines, cleanup, data, helpers)


#: The exit status of a guarded command refused because the profile made a variable the
#: overlay owns read-only (as ``env`` exits 125 when it cannot do its job).
READONLY_EXIT: Final = 125


def _bash_readonly_check(plan: Sequence[Reapply]) -> list[str]:
    """Lines that refuse to go on when the profile made a variable the plan re-applies
    read-only, naming each such variable. dash and zsh stop on their own at the first
    assignment to a read-only variable; bash only prints an error and carries on, so the
    command would run with the profile's value. A variable is read-only when ``unset -v``
    fails in a subshell: one subshell for all of them, and one per name only to name them."""
    names = " ".join(item.name for item in plan if item.rule != "skip")
    if not names:
        return []
    return [
        f"if ! ( unset -v {names} ) 2>/dev/null; then",
        "__eo_ro=",
        f"for __eo_n in {names}; do",
        '( unset -v "$__eo_n" ) 2>/dev/null || __eo_ro="$__eo_ro $__eo_n"',
        "done",
        "printf 'envoverlay: the login profile made%s read-only, and the overlay owns it: "
        "the command does not run (fix: do not make variables the overlay owns readonly in "
        'the profile)\\n\' "$__eo_ro" >&2',
        f"exit {READONLY_EXIT}",
        "fi",
    ]


def _fish_locale(env: Mapping[str, str], result: ComposeResult | None) -> dict[str, str | None]:
    """LC_ALL / LC_CTYPE as they are in ``env``, when fish must be started with another
    locale; empty when no change is needed (or a secret locale value would end up in argv)."""
    lc_all = env.get("LC_ALL")
    lc_ctype = env.get("LC_CTYPE")
    if lc_all is None and lc_ctype == FISH_CTYPE:
        return {}
    if result is not None and (result.is_secret("LC_ALL") or result.is_secret("LC_CTYPE")):
        return {}
    return {"LC_ALL": lc_all, "LC_CTYPE": lc_ctype}


def _check_command(command: Sequence[str] | str) -> Sequence[str] | str:
    if isinstance(command, str):
        if "\0" in command:
            raise ArgumentError("the command contains a NUL character")
        return command
    args = list(command)
    if not args:
        raise ArgumentError("the command is empty")
    for arg in args:
        if not isinstance(arg, str):
            raise ArgumentTypeError(f"command arguments must be strings, not {type(arg).__name__}")
        if "\0" in arg:
            raise ArgumentError("a command argument contains a NUL character")
    return args


def _shell_program(shell: Shell, shell_path: str | None) -> str:
    program = shell if shell_path is None else shell_path
    if not program or program.startswith("-") or "\0" in program:
        raise ArgumentError(f"shell_path must be a program name or path, not {program!r}")
    return program


def _guarded_argv(
    shell: Shell,
    plan: Sequence[Reapply],
    command: Sequence[str] | str,
    program: str,
    fish_locale: dict[str, str | None],
) -> list[str]:
    built = _build(shell, plan, fish_locale)
    fish = shell == "fish"
    skip = len(built.data)
    lines = built.reapply + built.cleanup
    strip = fish and any("__eo_strip" in line for line in lines)
    if strip:
        lines.insert(0, "set -l __eo_strip")
    if isinstance(command, str):
        if fish:
            if strip:
                lines.append("set -e __eo_strip")
            lines += [
                f"set -l __eo_code $argv[{skip + 1}]",
                "set -e argv",
                'eval "set -e __eo_code; $__eo_code"',
            ]
        else:
            if skip:
                lines.append(f"shift {skip}")
            lines.append('eval "shift;$1"')
        tail = [command]
    else:
        if fish:
            if strip:
                lines += [
                    "if set -q __eo_strip[1]",
                    f"exec {ENV_PROGRAM} $__eo_strip -- $argv[{skip + 1}..-1]",
                    "end",
                ]
            lines += [f"exec $argv[{skip + 1}..-1]", "exit 127"]
        else:
            if skip:
                lines.append(f"shift {skip}")
            lines += ['exec "$@"' if shell == "sh" else 'exec -- "$@"', "exit 127"]
        tail = list(command)
    script = "\n".join(lines)
    if fish:
        login = [program, "-l", "-c", script, "--", *built.data, *tail]
    else:
        login = [program, "-l", "-c", script, program, *built.data, *tail]
    if built.save:
        if fish:
            save = "\n".join([*built.save, "exec $argv"])
            argv = [program, *_BARE_FLAGS[shell], "-c", save, "--", *login]
        else:
            run = 'exec "$@"' if shell == "sh" else 'exec -- "$@"'
            save = "\n".join([*built.save, run])
            argv = [program, *_BARE_FLAGS[shell], "-c", save, program, *login]
    else:
        argv = login
    if fish and fish_locale:
        prefix = [ENV_PROGRAM]
        if fish_locale.get("LC_ALL") is not None:
            prefix += ["-u", "LC_ALL"]
        argv = [*prefix, f"LC_CTYPE={FISH_CTYPE}", *argv]
    return argv


def login_shell_argv(
    shell: str,
    result: ComposeResult,
    command: Sequence[str] | str,
    *,
    shell_path: str | None = None,
    protect: Iterable[str] = (),
    reapply_policy: bool = True,
) -> list[str]:
    """The argv that runs ``command`` through ``shell``'s login shell (``bash``, ``zsh``,
    ``sh`` — dash or another POSIX sh — or ``fish``) and re-applies the overlay after the
    profile files ran (see :func:`reapply_plan` for the rule). Run it with ``env=result.env``.

    ``command``: a sequence is an argv, executed exactly (never re-parsed); a string is shell
    code in that shell's language, run like ``bash -lc CODE``. ``shell_path``: the program to
    run (default: the shell's name, found on the spawn ``PATH``). No value of the overlay is
    embedded in a script; restored values travel through the environment, so secrets never
    appear in argv (see the module docs).
    """
    sh = _check_shell(shell)
    cmd = _check_command(command)
    program = _shell_program(sh, shell_path)
    plan = reapply_plan(sh, result, protect=protect, reapply_policy=reapply_policy)
    env = result.env
    locale = _fish_locale(env, result) if sh == "fish" else {}
    return _guarded_argv(sh, plan, cmd, program, locale)


# -- the imperative edge: running a real login shell ---------------------------------------


def _login_argv_plain(
    shell: Shell, env: Mapping[str, str], command: Sequence[str] | str, program: str
) -> list[str]:
    """A login shell that runs ``command`` with nothing re-applied (fish's locale excepted)."""
    locale = _fish_locale(env, None) if shell == "fish" else {}
    return _guarded_argv(shell, (), command, program, locale)


def capture_login_env(
    shell: str,
    env: Mapping[str, str],
    *,
    shell_path: str | None = None,
    timeout: float = 30.0,
) -> dict[str, str]:
    """Run ``shell`` as a login shell with ``env`` and return its environment after the profile
    files ran (as a command it runs would see it). The listing (``env -0``) follows a random
    marker line, so whatever the profile prints before it is ignored. Raises
    :class:`ShellError` when the shell is missing, times out (its whole process group is
    killed), fails, or prints no environment.
    """
    # The edge that runs programs: its modules are imported here, not with the package.
    import secrets

    from .runner import run_in_process_group

    sh = _check_shell(shell)
    program = _shell_program(sh, shell_path)
    marker = f"envoverlay-env-{secrets.token_hex(16)}"
    code = f"echo {marker}\nexec {ENV_PROGRAM} -0"
    argv = _login_argv_plain(sh, env, code, program)
    try:
        # Its own process group, killed whole on the timeout or an interrupt.
        proc = run_in_process_group(argv, env=env, timeout=timeout)
    except OSError as error:
        raise ShellError(
            f"cannot run {sh} login shell {program!r}: {error.strerror or error}"
        ) from error
    out, err = proc.stdout, proc.stderr
    if proc.pipes_held:
        raise ShellError(
            f"the {sh} login shell's output stayed open after {timeout:g}s: a process its "
            "profile files started outside its process group holds it"
        )
    if proc.interrupted is not None:
        raise ShellError(f"the {sh} login shell was killed: {proc.interrupted} arrived")
    if proc.timed_out and not proc.leader_exited:
        raise ShellError(
            f"the {sh} login shell did not finish within {timeout:g}s (its profile files "
            "may wait for input or hang); it was killed"
        )
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip()[-2000:]
        raise ShellError(
            f"the {sh} login shell exited with status {proc.returncode}"
            + (f": {tail}" if tail else "")
        )
    _, found, listing = out.rpartition(marker.encode() + b"\n")
    if not found:
        raise ShellError(f"the {sh} login shell printed no environment")
    return _parse_env0(listing, sh)


def _parse_env0(out: bytes, shell: str) -> dict[str, str]:
    captured: dict[str, str] = {}
    if not out:
        raise ShellError(f"the {shell} login shell printed no environment")
    if not out.endswith(b"\0"):
        raise ShellError(f"the {shell} login shell printed something that is not an env -0 listing")
    for entry in out[:-1].split(b"\0"):
        name, sep, value = entry.partition(b"=")
        if not sep or not name:
            raise ShellError(f"the {shell} login shell printed an entry that is not NAME=value")
        captured.setdefault(os.fsdecode(name), os.fsdecode(value))
    return captured


Change = Literal["added", "changed", "removed"]


@attrs.frozen
class Drift:
    """One variable a login shell's profile files changed. ``before`` is its value in the
    composed env, ``after`` what the command would see without the guard (``***`` for secrets,
    None for absent). ``reapplied``: the guard puts the overlay's value back."""

    name: str
    change: Change
    before: str | None
    after: str | None
    source: str
    reapplied: bool

    def to_json(self) -> dict[str, object]:
        """The drift's JSON view (see :mod:`.views`)."""
        from .views import drift_view

        return drift_view(self)


def _drift_ignored(name: str) -> bool:
    return name in DRIFT_IGNORED or name.startswith(DRIFT_IGNORED_PREFIXES)


def drift_report(
    shell: str,
    result: ComposeResult,
    *,
    shell_path: str | None = None,
    timeout: float = 30.0,
    protect: Iterable[str] = (),
    reapply_policy: bool = True,
    redact: Iterable[str] = DEFAULT_REDACT,
) -> tuple[Drift, ...]:
    """What ``shell``'s login profile files change in ``result.env``, sorted by name.

    Runs the real login shell (:func:`capture_login_env`) and compares. Each record's source
    is ``login-shell:<shell>``; shell bookkeeping (:data:`DRIFT_IGNORED`) is left out. Values
    are redacted (``***``) for the result's secrets and for names matching ``redact`` globs.
    ``reapplied`` says whether :func:`login_shell_argv` (same ``protect``/``reapply_policy``)
    puts the overlay's value back.
    """
    sh = _check_shell(shell)
    plan = reapply_plan(sh, result, protect=protect, reapply_policy=reapply_policy)
    guarded = {item.name for item in plan if item.rule != "skip"}
    before = result.env
    after = capture_login_env(sh, before, shell_path=shell_path, timeout=timeout)
    hide = POSIX.globs(names_argument(redact, argument="redact"), case_insensitive=True)
    source = f"login-shell:{sh}"
    out: list[Drift] = []
    for name in sorted(set(before) | set(after)):
        if _drift_ignored(name):
            continue
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        change: Change = "added" if old is None else "removed" if new is None else "changed"
        if result.is_secret(name, by_name=False) or hide.matches(name):
            old = None if old is None else REDACTED
            new = None if new is None else REDACTED
        out.append(Drift(name, change, old, new, source, name in guarded))
    return tuple(out)
