"""Policies: which inherited variables a command keeps, which names only the runtime may
change, and which names let an env producer inject code.

* :class:`InheritPolicy` filters the inherited map before any op, with the semantics and
  CORE lists of Codex's ``shell_environment_policy`` (:meth:`InheritPolicy.from_codex` maps a
  Codex table 1:1). One documented difference: ``include_only`` filters the inherited map
  only, so it never removes a value an overlay layer set.
* :data:`SENSITIVE_NAMES` lists variables that make every later command load or run code.
  Ops from ``provider`` and ``hook`` layers on them are warned about (default), rejected
  (``deny``, "secure mode") or allowed. Inherited values are never stripped.
* Protected names are given by the caller; every name the runtime layer sets or unsets is
  added.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final, Literal

import attrs

from ._names import (
    POSIX,
    NameGlobs,
    Platform,
    PlatformRules,
    names_argument,
    rules_for,
    windows_fold,
)
from .diagnostics import Diagnostic, PolicyError
from .errors import ArgumentError
from .sources import Source

if TYPE_CHECKING:
    from .ops import Op

InheritMode = Literal["all", "core", "none"]
SensitiveMode = Literal["warn", "deny", "allow"]
SENSITIVE_MODES: Final = ("warn", "deny", "allow")

#: Codex's CORE lists (``inherit = "core"``), matched case-insensitively on every platform.
CORE_POSIX: Final = (
    "PATH", "SHELL", "TMPDIR", "TEMP", "TMP", "HOME", "LANG", "LC_ALL", "LC_CTYPE",
    "LOGNAME", "USER",
)  # fmt: skip
CORE_WINDOWS: Final = (
    "PATH", "PATHEXT", "SHELL", "COMSPEC", "SYSTEMROOT", "WINDIR", "SYSTEMDRIVE",
    "USERNAME", "USERDOMAIN", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "PROGRAMFILES",
    "PROGRAMFILES(X86)", "PROGRAMW6432", "PROGRAMDATA", "LOCALAPPDATA", "APPDATA", "TEMP",
    "TMP", "TMPDIR", "POWERSHELL", "PWSH",
)  # fmt: skip
#: Codex's default excludes, applied when ``default_excludes`` is on.
DEFAULT_EXCLUDES: Final = ("*KEY*", "*SECRET*", "*TOKEN*")

#: Variables through which a value makes later commands load or run code, with the reason
#: (SPEC §1). Sources: glibc's UNSECURE_ENVVARS, sudo's default env_delete list, flatpak's
#: default exports, language runtimes' option and module-search variables, tools that run a
#: command named in the environment (see docs/concepts.md). Deliberately not here: PATH
#: (prepending to it is what providers are for; provenance shows who did), and the commands
#: only interactive programs run (EDITOR, VISUAL, PAGER, MANPAGER, BROWSER, GIT_EDITOR,
#: GIT_PAGER: a pager needs a terminal, an editor a user).
SENSITIVE_NAMES: Final[Mapping[str, str]] = {
    # dynamic loader
    "LD_PRELOAD": "makes the dynamic loader inject a library into every program",
    "LD_AUDIT": "makes the dynamic loader run an audit library in every program",
    "LD_LIBRARY_PATH": "changes which shared libraries every program loads",
    "LD_ORIGIN_PATH": "changes where the dynamic loader resolves $ORIGIN",
    "GCONV_PATH": "makes glibc load iconv modules from a chosen directory",
    "GETCONF_DIR": "is where getconf finds the programs it runs",
    "GLIBC_TUNABLES": "changes glibc's internals (CVE-2023-4911 came through it)",
    "DYLD_*": "makes the macOS dynamic loader inject or replace libraries",
    "LDR_*": "changes the AIX loader's behaviour",
    "LIBPATH": "changes which shared libraries every program loads (AIX)",
    "SHLIB_PATH": "changes which shared libraries every program loads (HP-UX)",
    "_RLD*": "changes the IRIX/Tru64 loader's behaviour",
    "KRB5_CONFIG*": "is a Kerberos configuration, which can name plugin modules to load",
    # libraries that load plugins from a directory or file the environment names
    "GIO_EXTRA_MODULES": "makes every GIO program load modules from a chosen directory",
    "GST_PLUGIN_*": "makes GStreamer load plugins (or run a scanner) from a chosen place",
    "GST_REGISTRY*": "is a GStreamer registry, which names the plugin files to load",
    "GST_PTP_HELPER*": "is a program GStreamer runs",
    "GST_INSTALL_PLUGINS_HELPER": "is a program GStreamer runs",
    "VK_ADD_DRIVER_FILES": "makes the Vulkan loader load chosen drivers",
    "VK_DRIVER_FILES": "makes the Vulkan loader load chosen drivers",
    "VK_ICD_FILENAMES": "makes the Vulkan loader load chosen drivers",
    "VK_ADD_LAYER_PATH": "makes the Vulkan loader load layers from a chosen directory",
    "VK_LAYER_PATH": "makes the Vulkan loader load layers from a chosen directory",
    "__EGL_*": "makes the EGL loader load libraries from a chosen place",
    # shells
    "BASH_ENV": "is a file every non-interactive bash sources",
    "ENV": "is a file every interactive POSIX sh sources",
    "PROMPT_COMMAND": "is shell code bash runs before each prompt",
    "BASH_FUNC_*": "defines shell functions in every bash",
    "SHELLOPTS": "turns on bash options (e.g. xtrace with PS4) in every bash",
    "BASHOPTS": "turns on bash options in every bash",
    "PS4": "is expanded (command substitution included) when tracing",
    "IFS": "changes how every shell splits words",
    "ZDOTDIR": "makes zsh read its startup files from a chosen directory",
    "GLOBIGNORE": "changes bash's filename expansion",
    "FPATH": "is where zsh and ksh autoload shell functions from",
    "NULLCMD": "is the command zsh runs for a redirection without one",
    "READNULLCMD": "is the command zsh runs for an input redirection without one",
    # language runtimes
    "NODE_OPTIONS": "makes every node process load code (--require, --import)",
    "PYTHONSTARTUP": "is a file every interactive python runs",
    "PYTHONPATH": "is searched first for modules (a sitecustomize.py there runs in every python)",
    "PYTHONHOME": "replaces the standard library every python loads",
    "PYTHONUSERBASE": "is where python loads user site-packages (and their .pth code) from",
    "PYTHONINSPECT": "makes python enter interactive mode",
    "PYTHONWARNINGS": "can make python import a named module",
    "PYTHONBREAKPOINT": "names a callable python imports at breakpoint()",
    "PERL5OPT": "adds options (e.g. -M modules) to every perl",
    "PERL5DB": "is code perl runs under the debugger",
    "PERL5LIB": "is searched first for the modules every perl loads",
    "PERLLIB": "is searched first for the modules every perl loads",
    "RUBYOPT": "adds options (e.g. -r libraries) to every ruby",
    "RUBYLIB": "is searched first for the libraries every ruby loads",
    "NODE_PATH": "is searched for the modules node loads",
    "CLASSPATH": "is where every JVM loads classes from",
    "JAVA_TOOL_OPTIONS": "adds options (e.g. -javaagent) to every JVM",
    "_JAVA_OPTIONS": "adds options (e.g. -javaagent) to every JVM",
    "JDK_JAVA_OPTIONS": "adds options (e.g. -javaagent) to every java launcher",
    "DOTNET_STARTUP_HOOKS": "makes every .NET process load an assembly",
    "CORECLR_*": "attaches a profiler to every .NET Core process",
    "COR_ENABLE_PROFILING": "attaches a profiler to every .NET Framework process",
    "COR_PROFILER*": "attaches a profiler to every .NET Framework process",
    # tools that run a command named in the environment
    "GIT_SSH": "is the program git runs to reach remotes",
    "GIT_SSH_COMMAND": "is a command git runs to reach remotes",
    "GIT_PROXY_COMMAND": "is a command git runs to connect",
    "GIT_ASKPASS": "is a program git runs for credentials",
    "SSH_ASKPASS": "is a program ssh runs for credentials",
    "GIT_EXEC_PATH": "is where git finds its subcommands",
    "GIT_TEMPLATE_DIR": "installs hooks into every new repository",
    "GIT_CONFIG": "is a config file git reads (core.sshCommand, core.fsmonitor, ...)",
    "GIT_CONFIG_*": "injects git configuration (core.sshCommand, core.fsmonitor, ...)",
    "GIT_DIR": "points git at a repository whose config (core.fsmonitor, hooks) git runs",
    "GIT_COMMON_DIR": "points git at a repository whose config (core.fsmonitor, hooks) git runs",
    "LESSOPEN": "is a command less runs on every file",
    "LESSCLOSE": "is a command less runs on every file",
    # Windows
    "COMSPEC": "is the shell Windows programs run for shell commands",
    "PATHEXT": "decides which files Windows runs as programs",
    "PSMODULEPATH": "is where PowerShell autoloads modules from",
    "SYSTEMROOT": "is where Windows programs resolve system DLLs from",
    "WINDIR": "is where Windows programs resolve system DLLs from",
}


@functools.cache
def _sensitive_globs(platform: Platform) -> NameGlobs:
    return rules_for(platform).globs(SENSITIVE_NAMES)


@attrs.frozen
class SensitiveMatcher:
    """Decides whether a name is sensitive on one platform, and why (compared by the
    platform's name rule: on Windows every spelling with the same key agrees)."""

    platform: Platform
    _globs: NameGlobs = attrs.field(alias="globs", repr=False)

    @classmethod
    @functools.cache
    def for_platform(cls, platform: Platform) -> SensitiveMatcher:
        """The matcher of one platform (built once: the list never changes)."""
        return cls(platform, globs=_sensitive_globs(platform))

    def reason(self, name: str) -> str | None:
        """Why ``name`` is sensitive, or None if it is not."""
        pattern = self._globs.first_match(name)
        return None if pattern is None else SENSITIVE_NAMES[pattern]


@attrs.frozen
class ProtectedNames:
    """Names (exact, or globs with ``*`` and ``?``) that only the runtime layer may change,
    compared by the platform's name rule (:meth:`PlatformRules.globs`), plus the names the
    runtime layer itself sets (exact, even when they hold ``*``)."""

    platform: Platform
    exact: frozenset[str]
    _globs: NameGlobs = attrs.field(alias="globs", repr=False)

    @classmethod
    def build(
        cls, patterns: Iterable[str], runtime_names: Iterable[str], platform: Platform
    ) -> ProtectedNames:
        """``patterns`` as :func:`~envoverlay._names.names_argument` reads them (a bare str is
        one name); ``runtime_names`` are the names a runtime layer sets or unsets."""
        globs = rules_for(platform).globs(names_argument(patterns, argument="protected"))
        exact = frozenset(map(globs.key, runtime_names))
        return cls(platform, exact, globs=globs)

    def __contains__(self, key: object) -> bool:
        """``key`` is a name already folded by the platform rule."""
        if not isinstance(key, str):
            return False
        return key in self.exact or self._globs.matches_key(key)

    def matches(self, name: str) -> bool:
        """Whether ``name`` (as spelled) is protected."""
        return self._globs.key(name) in self


def _exclude(value: Iterable[str]) -> tuple[str, ...]:
    return names_argument(value, argument="exclude")


def _include_only(value: Iterable[str]) -> tuple[str, ...]:
    return names_argument(value, argument="include_only")


@attrs.frozen
class InheritPolicy:
    """Which inherited variables a command keeps (Codex ``shell_environment_policy``).

    Applied to the inherited map only, before any op, in Codex's order: ``inherit``
    (``all`` | ``core`` | ``none``), then the default excludes (``*KEY*``, ``*SECRET*``,
    ``*TOKEN*``) if ``default_excludes`` is on, then ``exclude``, then ``include_only``.
    Patterns are whole-name globs with ``*`` and ``?``, matched case-insensitively.
    """

    inherit: InheritMode = "all"
    exclude: tuple[str, ...] = attrs.field(default=(), converter=_exclude)
    include_only: tuple[str, ...] = attrs.field(default=(), converter=_include_only)
    default_excludes: bool = False

    def __attrs_post_init__(self) -> None:
        if self.inherit not in ("all", "core", "none"):
            raise PolicyError(f"inherit must be 'all', 'core' or 'none', not {self.inherit!r}")

    @property
    def is_identity(self) -> bool:
        """True when the policy keeps every inherited variable."""
        return (
            self.inherit == "all"
            and not self.exclude
            and not self.include_only
            and not self.default_excludes
        )

    def why_removed(self, name: str, platform: Platform) -> str | None:
        """The rule that removes inherited ``name``, or None if it is kept.

        Patterns match case-insensitively on every platform (as Codex's do), by the
        platform rules' fold (:meth:`PlatformRules.globs`), so on Windows every spelling of
        a name gets the same answer."""
        if platform == "windows" and name.startswith("="):
            return None  # cmd.exe's hidden =C: drive variables pass through untouched
        if self.inherit == "none":
            return "inherit = 'none'"
        if self.inherit == "core" and windows_fold(name) not in _CORE_KEYS[platform]:
            # Codex compares with eq_ignore_ascii_case; no non-ASCII character folds to ASCII.
            return "inherit = 'core' and it is not a CORE variable"
        if self.default_excludes:
            pattern = _globs(DEFAULT_EXCLUDES).first_match(name)
            if pattern is not None:
                return f"default exclude {pattern!r}"
        if self.exclude:
            pattern = _globs(self.exclude).first_match(name)
            if pattern is not None:
                return f"exclude {pattern!r}"
        if self.include_only and not _globs(self.include_only).matches(name):
            return "not matched by include_only"
        return None

    @classmethod
    def from_codex(cls, table: Mapping[str, object]) -> tuple[InheritPolicy, dict[str, str]]:
        """Map a Codex ``[shell_environment_policy]`` table 1:1.

        The table is read by Codex's own rules (:meth:`envoverlay.codex.CodexPolicy.from_table`,
        the one parser), strictly: a key Codex does not know is an error here, as under
        Codex's ``--strict-config``, since this mapping has no way to warn. A malformed table
        raises :class:`~envoverlay.PolicyError` naming the key and the fix.

        Returns the policy and the ``set`` table, which becomes a ``config`` layer
        (``Layer.from_overlay(set_table, kind="config", id="shell_environment_policy")``).
        ``ignore_default_excludes`` defaults to true, as in Codex. An empty pattern matches
        nothing, as in Codex: it is left out, and an ``include_only`` of empty patterns only
        keeps no inherited variable (``inherit="none"``).
        """
        from .codex import CodexPolicy
        from .errors import CodexConfigError

        try:
            codex = CodexPolicy.from_table(table, file="shell_environment_policy", strict=True)
        except CodexConfigError as exc:
            raise PolicyError(f"{exc.key or exc.file}: {exc.problem}; {exc.fix}") from None
        include_only = tuple(pattern for pattern in codex.include_only if pattern)
        keeps_nothing = bool(codex.include_only) and not include_only
        policy = cls(
            inherit="none" if keeps_nothing else codex.inherit,
            exclude=tuple(pattern for pattern in codex.exclude if pattern),
            include_only=include_only,
            default_excludes=not codex.ignore_default_excludes,
        )
        return policy, dict(codex.set)


_CORE_KEYS: Final[Mapping[Platform, frozenset[str]]] = {
    "posix": frozenset(CORE_POSIX),
    "windows": frozenset(CORE_WINDOWS),
}


@functools.lru_cache(maxsize=256)
def _globs(patterns: tuple[str, ...]) -> NameGlobs:
    """Inherit-policy patterns: case-insensitive on every platform, with the same fold."""
    return POSIX.globs(patterns, case_insensitive=True)


def sensitive_mode(value: object) -> SensitiveMode:
    """``value`` checked as a ``sensitive=`` argument (``"warn"``, ``"deny"`` or ``"allow"``);
    anything else raises :class:`~envoverlay.ArgumentError` (a ``ValueError``) naming the
    argument and the values it takes."""
    if isinstance(value, str) and value in SENSITIVE_MODES:
        return value  # type: ignore[return-value]  # one of the three literals
    raise ArgumentError(
        f"sensitive must be 'warn', 'deny' or 'allow', not {value!r}; "
        "pass sensitive='deny' for secure mode"
    )


# -- the judge ------------------------------------------------------------------------------

Fate = Literal["applied", "rejected-protected", "rejected-sensitive", "warned-sensitive"]
FATES: Final[tuple[Fate, ...]] = (
    "applied", "rejected-protected", "rejected-sensitive", "warned-sensitive",
)  # fmt: skip
#: The layer kinds whose ops on sensitive names are judged (SPEC §1).
SENSITIVE_KINDS: Final = frozenset({"provider", "hook"})


@attrs.frozen
class Verdict:
    """The policy's decision on one op: its ``fate`` and the findings to report (none when
    the op is simply applied)."""

    fate: Fate
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def applies(self) -> bool:
        """Whether the op is applied (a warned op is)."""
        return self.fate in ("applied", "warned-sensitive")


_APPLIED: Final = Verdict("applied")


def judge_op(
    op: Op,
    source: Source,
    *,
    rules: PlatformRules,
    protected: ProtectedNames,
    sensitive: SensitiveMode,
) -> Verdict:
    """Decide one op's fate under the policy of SPEC §1. Pure; the one place this is decided.

    * ``op``: the op; ``source``: its layer's source (the kind decides what applies).
    * ``rules``: the platform rules (``rules_for(platform)``, resolved once by the caller).
    * ``protected``: :meth:`ProtectedNames.build` of the caller's patterns and the names its
      runtime layers set or unset (pass ``()`` when there is no runtime layer, as in hook
      parsing).
    * ``sensitive``: ``"warn"`` | ``"deny"`` | ``"allow"``.

    Returns ``rejected-protected`` (an error) for an op from any layer but ``runtime`` on a
    protected name; otherwise, for an op from a ``provider`` or ``hook`` layer that sets or
    edits a sensitive name, ``rejected-sensitive`` (an error) under ``deny`` or
    ``warned-sensitive`` (a warning; the op applies) under ``warn``; otherwise ``applied``.
    An ``unset`` is never sensitive: removing a value cannot inject code. The diagnostics
    carry no JSON pointer; callers that have one add it with ``attrs.evolve`` (a pointer is
    not part of a finding's identity, so the same finding from hook parsing and from
    compose() is one finding).
    """
    name = op.name
    if source.kind != "runtime" and rules.key(name) in protected:
        return Verdict("rejected-protected", (protected_diagnostic(name, source),))
    if sensitive == "allow" or op.action == "unset" or source.kind not in SENSITIVE_KINDS:
        return _APPLIED
    reason = SensitiveMatcher.for_platform(rules.platform).reason(name)
    if reason is None:
        return _APPLIED
    fate: Fate = "rejected-sensitive" if sensitive == "deny" else "warned-sensitive"
    return Verdict(fate, (sensitive_diagnostic(name, reason, sensitive, source),))


def protected_diagnostic(name: str, source: Source) -> Diagnostic:
    """The error for an op from a non-runtime layer on a protected name."""
    return Diagnostic(
        "error",
        "protected",
        name,
        source,
        f"rejected: {name} is protected; only the runtime layer may change it",
        hint=f"remove {name} from this {source.kind} layer",
    )


def sensitive_diagnostic(
    name: str, reason: str, mode: SensitiveMode, source: Source | None
) -> Diagnostic:
    """The diagnostic for an op on a sensitive name under ``mode`` (warn or deny)."""
    if mode == "deny":
        return Diagnostic(
            "error",
            "sensitive",
            name,
            source,
            f"rejected: {name} {reason}, and sensitive variables are denied (secure mode)",
            hint=f"set {name} in a config or thread layer, or compose with sensitive='warn'",
        )
    return Diagnostic(
        "warning",
        "sensitive",
        name,
        source,
        f"{name} {reason}; applied, but review that this producer should control it",
        hint="compose with sensitive='deny' (--secure) to reject such ops from hooks and providers",
    )
