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
import re
from collections.abc import Iterable, Mapping
from typing import Final, Literal

import attrs

from ._names import Platform, compile_globs, glob_matches, joined_pairs, windows_fold
from .diagnostics import Diagnostic, PolicyError
from .sources import Source

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

#: Variables that let whoever sets them inject code into later commands, with the reason.
#: Sources: glibc's UNSECURE_ENVVARS, sudo's default env_delete list, language runtimes'
#: option variables (see docs/concepts.md).
SENSITIVE_NAMES: Final[Mapping[str, str]] = {
    # dynamic loader
    "LD_PRELOAD": "makes the dynamic loader inject a library into every program",
    "LD_AUDIT": "makes the dynamic loader run an audit library in every program",
    "LD_LIBRARY_PATH": "changes which shared libraries every program loads",
    "LD_ORIGIN_PATH": "changes where the dynamic loader resolves $ORIGIN",
    "GCONV_PATH": "makes glibc load iconv modules from a chosen directory",
    "GLIBC_TUNABLES": "changes glibc's internals (CVE-2023-4911 came through it)",
    "DYLD_*": "makes the macOS dynamic loader inject or replace libraries",
    "LDR_*": "changes the AIX loader's behaviour",
    "_RLD*": "changes the IRIX/Tru64 loader's behaviour",
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
    # language runtimes
    "NODE_OPTIONS": "makes every node process load code (--require, --import)",
    "PYTHONSTARTUP": "is a file every interactive python runs",
    "PYTHONINSPECT": "makes python enter interactive mode",
    "PYTHONWARNINGS": "can make python import a named module",
    "PYTHONBREAKPOINT": "names a callable python imports at breakpoint()",
    "PERL5OPT": "adds options (e.g. -M modules) to every perl",
    "PERL5DB": "is code perl runs under the debugger",
    "RUBYOPT": "adds options (e.g. -r libraries) to every ruby",
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
    "LESSOPEN": "is a command less runs on every file",
    "LESSCLOSE": "is a command less runs on every file",
    # Windows
    "COMSPEC": "is the shell Windows programs run for shell commands",
    "PATHEXT": "decides which files Windows runs as programs",
    "PSMODULEPATH": "is where PowerShell autoloads modules from",
}


@attrs.frozen
class SensitiveMatcher:
    """Decides whether a name is sensitive on one platform, and why."""

    platform: Platform
    _regex: re.Pattern[str] | None = attrs.field(alias="regex")

    @classmethod
    @functools.cache
    def for_platform(cls, platform: Platform) -> SensitiveMatcher:
        """The matcher of one platform (built once: the list never changes)."""
        return cls(
            platform,
            regex=compile_globs(SENSITIVE_NAMES, case_insensitive=platform == "windows"),
        )

    def reason(self, name: str) -> str | None:
        """Why ``name`` is sensitive, or None if it is not."""
        if self._regex is None or self._regex.match(name) is None:
            return None
        windows = self.platform == "windows"
        for pattern, reason in SENSITIVE_NAMES.items():
            if glob_matches(pattern, name, case_insensitive=windows):
                return reason
        return None  # pragma: no cover - the combined regex and the loop agree


@attrs.frozen
class ProtectedNames:
    """Names (exact, or globs with ``*`` and ``?``) that only the runtime layer may change,
    compared by the platform's name rule."""

    platform: Platform
    exact: frozenset[str]
    _regex: re.Pattern[str] | None = attrs.field(alias="regex")

    @classmethod
    def build(
        cls, patterns: Iterable[str], runtime_names: Iterable[str], platform: Platform
    ) -> ProtectedNames:
        windows = platform == "windows"
        # Op names hold a split surrogate pair as its character; so must the patterns.
        fold = windows_fold if windows else joined_pairs
        exact: set[str] = set()
        globs = []
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern:
                raise PolicyError(f"a protected name must be a non-empty string, not {pattern!r}")
            if "*" in pattern or "?" in pattern:
                globs.append(joined_pairs(pattern))
            else:
                exact.add(fold(pattern))
        exact.update(fold(name) for name in runtime_names)
        return cls(platform, frozenset(exact), regex=compile_globs(globs, case_insensitive=windows))

    def __contains__(self, key: object) -> bool:
        """``key`` is a name already folded by the platform rule."""
        if not isinstance(key, str):
            return False
        if key in self.exact:
            return True
        return self._regex is not None and self._regex.match(key) is not None


def _patterns(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen
class InheritPolicy:
    """Which inherited variables a command keeps (Codex ``shell_environment_policy``).

    Applied to the inherited map only, before any op, in Codex's order: ``inherit``
    (``all`` | ``core`` | ``none``), then the default excludes (``*KEY*``, ``*SECRET*``,
    ``*TOKEN*``) if ``default_excludes`` is on, then ``exclude``, then ``include_only``.
    Patterns are whole-name globs with ``*`` and ``?``, matched case-insensitively.
    """

    inherit: InheritMode = "all"
    exclude: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    include_only: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    default_excludes: bool = False

    def __attrs_post_init__(self) -> None:
        if self.inherit not in ("all", "core", "none"):
            raise PolicyError(f"inherit must be 'all', 'core' or 'none', not {self.inherit!r}")
        for field, patterns in (("exclude", self.exclude), ("include_only", self.include_only)):
            for pattern in patterns:
                if not isinstance(pattern, str) or not pattern:
                    raise PolicyError(
                        f"{field}: a pattern must be a non-empty string, not {pattern!r}"
                    )

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
        """The rule that removes inherited ``name``, or None if it is kept."""
        if platform == "windows" and name.startswith("="):
            return None  # cmd.exe's hidden =C: drive variables pass through untouched
        if self.inherit == "none":
            return "inherit = 'none'"
        if self.inherit == "core":
            core = CORE_WINDOWS if platform == "windows" else CORE_POSIX
            # Codex compares with eq_ignore_ascii_case: only ASCII letters fold.
            if not name.isascii() or name.upper() not in core:
                return "inherit = 'core' and it is not a CORE variable"
        if self.default_excludes:
            for pattern in DEFAULT_EXCLUDES:
                if glob_matches(pattern, name, case_insensitive=True):
                    return f"default exclude {pattern!r}"
        for pattern in self.exclude:
            if glob_matches(pattern, name, case_insensitive=True):
                return f"exclude {pattern!r}"
        if self.include_only and not any(
            glob_matches(pattern, name, case_insensitive=True) for pattern in self.include_only
        ):
            return "not matched by include_only"
        return None

    @classmethod
    def from_codex(cls, table: Mapping[str, object]) -> tuple[InheritPolicy, dict[str, str]]:
        """Map a Codex ``[shell_environment_policy]`` table 1:1.

        Returns the policy and the ``set`` table, which becomes a ``config`` layer
        (``Layer.from_overlay(set_table, kind="config", id="shell_environment_policy")``).
        ``ignore_default_excludes`` defaults to true, as in Codex.
        """
        known = {
            "inherit", "ignore_default_excludes", "exclude", "include_only", "set",
            "filters", "experimental_use_profile",
        }  # fmt: skip
        unknown = sorted(set(table) - known)
        if unknown:
            raise PolicyError(
                f"shell_environment_policy: unknown key(s) {', '.join(unknown)}; "
                f"known keys are {', '.join(sorted(known))}"
            )
        inherit = table.get("inherit", "all")
        ignore = table.get("ignore_default_excludes", True)
        if not isinstance(ignore, bool):
            raise PolicyError("shell_environment_policy.ignore_default_excludes must be a boolean")
        exclude = _pattern_list(table, "exclude")
        include_only = _pattern_list(table, "include_only")
        filters = table.get("filters")
        if filters is not None:
            if "exclude" in table or "include_only" in table:
                raise PolicyError(
                    "shell_environment_policy: cannot mix `filters` with legacy `exclude` or "
                    "`include_only`; move every pattern into `filters`"
                )
            if not isinstance(filters, Mapping):
                raise PolicyError("shell_environment_policy.filters must be a table")
            seen: dict[str, str] = {}
            for pattern, action in filters.items():
                lowered = str(pattern).lower()
                if lowered in seen:
                    raise PolicyError(
                        f"shell_environment_policy.filters: {pattern!r} duplicates "
                        f"{seen[lowered]!r} ignoring case; keep one"
                    )
                seen[lowered] = str(pattern)
                if action == "include":
                    include_only.append(str(pattern))
                elif action == "exclude":
                    exclude.append(str(pattern))
                else:
                    raise PolicyError(
                        f"shell_environment_policy.filters[{pattern!r}] must be 'include' or "
                        f"'exclude', not {action!r}"
                    )
        set_table = table.get("set", {})
        if not isinstance(set_table, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in set_table.items()
        ):
            raise PolicyError("shell_environment_policy.set must be a table of strings")
        if inherit not in ("all", "core", "none"):
            raise PolicyError(
                f"shell_environment_policy.inherit must be 'all', 'core' or 'none', not {inherit!r}"
            )
        policy = cls(
            inherit=inherit,
            exclude=tuple(exclude),
            include_only=tuple(include_only),
            default_excludes=not ignore,
        )
        return policy, dict(set_table)


def _pattern_list(table: Mapping[str, object], key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise PolicyError(f"shell_environment_policy.{key} must be a list of non-empty strings")
    return list(value)


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
