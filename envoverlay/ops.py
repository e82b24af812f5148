"""Ops: one change to one variable, and what each does to a value.

An :class:`Op` is pure data. :func:`apply_op` is the one place where the meaning of each
action is written down:

``set v``
    the value becomes ``v``.
``unset``
    the variable is removed.
``default v``
    the value becomes ``v`` only if the variable is absent or empty at that point.
``prepend [entries]`` / ``append [entries]``
    path-list edits: the current value is split by the separator, the new entries go
    first / last, an existing entry equal to a new one is removed so the new position wins
    (Windows compares entries case-insensitively), other existing entries — empty ones too —
    stay as they are. On an absent or empty variable the result is just the new entries, so
    no empty entry (which means "the current directory" in PATH) is ever created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, Literal

import attrs

from ._names import (
    Platform,
    is_portable_name,
    joined_pairs,
    keys_of,
    list_separator,
    name_problem,
    value_problem,
    windows_fold,
)
from .diagnostics import Diagnostic, OverlayError
from .errors import ArgumentTypeError
from .sources import Source

Action = Literal["set", "unset", "default", "prepend", "append"]
ACTIONS: Final[tuple[Action, ...]] = ("set", "unset", "default", "prepend", "append")
PATH_ACTIONS: Final = frozenset({"prepend", "append"})

REDACTED: Final = "***"

#: Variables known to hold path lists: a ``set`` of one of these is checked for empty and
#: relative entries like a prepend/append is (names compared upper-cased).
PATH_LIST_NAMES: Final = frozenset(
    {
        "PATH", "PATHEXT", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "C_INCLUDE_PATH",
        "CPLUS_INCLUDE_PATH", "DYLD_LIBRARY_PATH", "DYLD_FALLBACK_LIBRARY_PATH",
        "DYLD_FRAMEWORK_PATH", "PYTHONPATH", "PKG_CONFIG_PATH", "ACLOCAL_PATH", "CLASSPATH",
        "GOPATH", "NODE_PATH", "PERL5LIB", "PERLLIB", "RUBYLIB", "GEM_PATH", "XDG_DATA_DIRS",
        "XDG_CONFIG_DIRS", "PSMODULEPATH", "CDPATH", "FPATH", "TERMINFO_DIRS",
        "GST_PLUGIN_PATH", "GIO_EXTRA_MODULES", "VK_LAYER_PATH", "XCURSOR_PATH",
    }
)  # fmt: skip


def _invalid(
    name: str | None, message: str, code: str = "invalid-op", hint: str = ""
) -> OverlayError:
    diagnostic = Diagnostic("error", code, name, None, message, hint=hint)
    return OverlayError(diagnostic.describe(), [diagnostic])


def _entries(value: object) -> tuple[str, ...]:
    items: tuple[Any, ...]
    if isinstance(value, str):
        items = (value,)
    elif isinstance(value, tuple):
        items = value
    elif isinstance(value, (list, Sequence)) and not isinstance(value, (bytes, bytearray)):
        items = tuple(value)
    else:
        raise ArgumentTypeError(
            f"path entries must be a string or a sequence of strings, not {value!r}"
        )
    return tuple(joined_pairs(item) if isinstance(item, str) else item for item in items)


@attrs.frozen(repr=False, cache_hash=True)
class Op:
    """One change to one variable.

    Build ops with :meth:`set`, :meth:`unset`, :meth:`default`, :meth:`prepend` and
    :meth:`append`. A ``secret`` op's value is real in the spawn map and redacted
    (``***``) everywhere else, ``repr`` included.
    """

    name: str = attrs.field(converter=joined_pairs)
    action: Action
    value: str | None = attrs.field(default=None, converter=joined_pairs)
    entries: tuple[str, ...] = attrs.field(default=(), converter=_entries)
    separator: str | None = attrs.field(default=None, converter=joined_pairs)
    secret: bool = False
    #: A secret whose value was not persisted (``dumps`` without ``include_secrets``):
    #: composing it reports ``missing-secret`` instead of applying anything.
    redacted: bool = False

    def __attrs_post_init__(self) -> None:
        problem = name_problem(self.name)
        if problem is not None:
            code, message = problem
            raise _invalid(
                self.name if isinstance(self.name, str) else None,
                message,
                code,
                "use a non-empty name without '=' or NUL",
            )
        if self.action not in ACTIONS:
            raise _invalid(
                self.name, f"unknown action {self.action!r}; one of {', '.join(ACTIONS)}"
            )
        if not isinstance(self.redacted, bool):
            raise _invalid(self.name, "redacted must be true or false")
        if self.redacted:
            if self.secret is not True or self.action == "unset":
                raise _invalid(
                    self.name, "only a secret set/default/prepend/append can be redacted"
                )
            if self.value is not None or self.entries or self.separator is not None:
                raise _invalid(self.name, "a redacted op holds no value, entries or separator")
            return
        if self.action in ("set", "default"):
            if self.entries or self.separator is not None:
                raise _invalid(
                    self.name, f"a {self.action} op takes a value, not entries or a separator"
                )
            problem = value_problem(self.value)
            if problem is not None:
                raise _invalid(
                    self.name, problem[1], problem[0], "pass a string without NUL characters"
                )
        elif self.action == "unset":
            if self.value is not None or self.entries or self.separator is not None or self.secret:
                raise _invalid(
                    self.name, "an unset op takes no value, entries, separator or secret flag"
                )
        else:
            if self.value is not None:
                raise _invalid(self.name, f"a {self.action} op takes entries, not a value")
            if not self.entries:
                raise _invalid(self.name, f"a {self.action} op needs at least one entry")
            for entry in self.entries:
                problem = value_problem(entry)
                if problem is not None:
                    raise _invalid(self.name, f"path entry: {problem[1]}", problem[0])
            if self.separator is not None and (
                not isinstance(self.separator, str) or not self.separator or "\0" in self.separator
            ):
                raise _invalid(self.name, "a separator must be a non-empty string without NUL")
        if not isinstance(self.secret, bool):
            raise _invalid(self.name, "secret must be true or false")

    # -- constructors -------------------------------------------------------------------

    def without_secret_value(self) -> Op:
        """This op with its secret value dropped (what is persisted by default). The
        separator goes too: a redacted op is never applied."""
        if not self.secret or self.redacted:
            return self
        return Op(self.name, self.action, secret=True, redacted=True)

    @classmethod
    def set(cls, name: str, value: str, *, secret: bool = False) -> Op:
        return cls(name, "set", value=value, secret=secret)

    @classmethod
    def unset(cls, name: str) -> Op:
        return cls(name, "unset")

    @classmethod
    def default(cls, name: str, value: str, *, secret: bool = False) -> Op:
        return cls(name, "default", value=value, secret=secret)

    @classmethod
    def prepend(
        cls,
        name: str,
        entries: str | Iterable[str],
        *,
        separator: str | None = None,
        secret: bool = False,
    ) -> Op:
        return cls(name, "prepend", entries=_as_tuple(entries), separator=separator, secret=secret)

    @classmethod
    def append(
        cls,
        name: str,
        entries: str | Iterable[str],
        *,
        separator: str | None = None,
        secret: bool = False,
    ) -> Op:
        return cls(name, "append", entries=_as_tuple(entries), separator=separator, secret=secret)

    # -- views --------------------------------------------------------------------------

    def argument(self, *, redact: bool = True) -> str | list[str] | None:
        """The op's argument (value or entries), redacted when secret unless told not to."""
        if self.redacted:
            return [REDACTED] if self.action in PATH_ACTIONS else REDACTED
        if self.action in PATH_ACTIONS:
            if self.secret and redact:
                return [REDACTED for _ in self.entries]
            return list(self.entries)
        if self.value is None:
            return None
        return REDACTED if self.secret and redact else self.value

    def to_overlay(self, *, redact: bool = True) -> str | dict[str, object] | None:
        """This op in the overlay JSON format of SPEC §3 (secrets redacted by default)."""
        if self.action == "unset":
            return None
        if self.action == "set" and not self.secret and not self.redacted:
            return self.value
        out: dict[str, object] = {self.action: self.argument(redact=redact)}
        if self.separator is not None:
            out["separator"] = self.separator
        if self.secret:
            out["secret"] = True
        return out

    def describe(self) -> str:
        """Short human form, e.g. ``prepend ['/x/bin']`` or ``set '***'``."""
        argument = self.argument()
        if argument is None:
            return self.action
        return f"{self.action} {argument!r}"

    def __repr__(self) -> str:
        extra = f", separator={self.separator!r}" if self.separator is not None else ""
        secret = ", secret=True" if self.secret else ""
        argument = self.argument()
        shown = "" if argument is None else f", {argument!r}"
        return f"Op({self.name!r}, {self.action!r}{shown}{extra}{secret})"


def _as_tuple(entries: str | Iterable[str]) -> tuple[str, ...]:
    return _entries(entries)


def apply_op(
    current: str | None,
    op: Op,
    *,
    separator: str,
    entry_key: Callable[[str], str],
) -> str | None:
    """The value of ``op.name`` after ``op``, given its value before (None = absent).

    ``separator`` is the platform's default list separator (used when the op names none);
    ``entry_key`` maps a path entry to the key entries are compared by.
    """
    action = op.action
    if action == "set":
        return op.value
    if action == "unset":
        return None
    if action == "default":
        return current if current else op.value
    sep = op.separator if op.separator is not None else separator
    new = new_entries(op, entry_key)
    if not new:
        return current
    if not current:
        return sep.join(new)
    new_keys = {entry_key(entry) for entry in new}
    kept = [entry for entry in current.split(sep) if entry_key(entry) not in new_keys]
    if action == "prepend":
        return sep.join(new + kept)
    return sep.join(kept + new)


def new_entries(op: Op, entry_key: Callable[[str], str]) -> list[str]:
    """The entries a prepend/append really adds: first of each key, empty ones dropped."""
    return [entry for entry in _unique(op.entries, entry_key) if entry]


class PathList:
    """A path-list value being edited by many prepends/appends: the same result as folding
    :func:`apply_op` over it, in time linear in the entries (``apply_op`` rebuilds the whole
    list on every edit). Used by compose(); a property test checks the two agree.

    Entries live in a dict keyed by an order number (new front entries get smaller numbers,
    new back entries larger ones) with an index from entry key to an order number (and, for
    a key held more than once, ``_more`` with the other orders), so removing the entries
    equal to a new one is a dict lookup, and the list is joined once. The index of a long
    inherited list is built in C-level passes: duplicate entries are rare.
    """

    __slots__ = (
        "_back", "_front", "_index", "_items", "_key", "_more", "ascii", "chars", "separator"
    )  # fmt: skip

    def __init__(self, value: str, separator: str, entry_key: Callable[[str], str]) -> None:
        parts = value.split(separator) if value else []
        self.separator = separator
        self._key = entry_key
        self._items: dict[int, str] = dict(enumerate(parts))
        keys = keys_of(parts, entry_key)
        self._index: dict[str, int] = dict(zip(keys, range(len(keys)), strict=True))
        self._more: dict[str, list[int]] = {}
        if len(self._index) != len(keys):  # some entry is there twice: note the others
            for order, key in enumerate(keys):
                if self._index[key] != order:
                    self._more.setdefault(key, []).append(order)
        self._front = 0
        self._back = len(parts)
        #: Characters in the entries (without separators).
        self.chars = sum(map(len, parts))
        #: Whether every entry (and the separator) is ASCII: then sizes need no encoding.
        self.ascii = value.isascii() and separator.isascii()

    def __len__(self) -> int:
        """The length of the joined value."""
        count = len(self._items)
        return self.chars + (count - 1) * len(self.separator) if count else 0

    def _orders(self, key: str) -> list[int]:
        """The order numbers of the entries whose key is ``key``."""
        order = self._index.get(key)
        return [] if order is None else [order, *self._more.get(key, ())]

    def length_after(self, entries: list[str]) -> int:
        """The length of the joined value after an edit adding ``entries``."""
        items, key = self._items, self._key
        removed = {order for entry in entries for order in self._orders(key(entry))}
        parts = [part for entry in entries for part in entry.split(self.separator)]
        count = len(items) - len(removed) + len(parts)
        chars = self.chars - sum(len(items[order]) for order in removed) + sum(map(len, parts))
        return chars + (count - 1) * len(self.separator) if count else 0

    def edit(self, action: str, entries: list[str]) -> None:
        """Apply a prepend or append of ``entries`` (already cleaned by :func:`new_entries`)."""
        items, index, more, key, sep = (
            self._items, self._index, self._more, self._key, self.separator
        )  # fmt: skip
        for entry in entries:  # existing entries equal to a new one go
            entry_key = key(entry)
            for order in self._orders(entry_key):
                self.chars -= len(items.pop(order))
            index.pop(entry_key, None)
            more.pop(entry_key, None)
        # An entry holding the separator is several entries once joined (as apply_op sees
        # it on the next edit), so it is stored as its parts.
        parts = [part for entry in entries for part in entry.split(sep)]
        start = self._front - len(parts) if action == "prepend" else self._back
        for offset, part in enumerate(parts):
            items[start + offset] = part
            part_key = key(part)
            if part_key in index:
                more.setdefault(part_key, []).append(start + offset)
            else:
                index[part_key] = start + offset
            self.chars += len(part)
            self.ascii = self.ascii and part.isascii()
        if action == "prepend":
            self._front = start
        else:
            self._back = start + len(parts)

    def value(self) -> str:
        items = self._items
        return self.separator.join(map(items.__getitem__, sorted(items)))


def _unique(entries: Iterable[str], key: Callable[[str], str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for entry in entries:
        k = key(entry)
        if k not in seen:
            seen.add(k)
            out.append(entry)
    return out


def is_absolute_entry(entry: str, platform: Platform) -> bool:
    """Whether a path-list entry is absolute on ``platform`` (no expansion is done: ``~``
    and ``$HOME`` are relative)."""
    if platform == "windows":
        return (
            len(entry) >= 3 and entry[1] == ":" and entry[0].isalpha() and entry[2] in "\\/"
        ) or (entry.startswith(("\\\\", "//")))
    return entry.startswith("/")


def op_warnings(op: Op, platform: Platform, source: Source | None) -> list[Diagnostic]:
    """Warnings about one op that do not stop it from applying: a name not every shell can
    use, and empty or relative entries added to a path list (an empty entry is skipped, as
    it would mean "the current directory")."""
    out: list[Diagnostic] = []
    name = op.name
    if not is_portable_name(name):
        out.append(
            Diagnostic(
                "warning",
                "non-portable-name",
                name,
                source,
                f"{name!r} is outside [A-Za-z_][A-Za-z0-9_]*; shells cannot read or re-export it",
                hint="use letters, digits and underscores, not starting with a digit",
            )
        )
    if op.action in PATH_ACTIONS:
        entries: Iterable[str] = op.entries
        skipped = "skipped: "
    elif op.value and op.action != "unset" and windows_fold(name) in PATH_LIST_NAMES:
        sep = list_separator(platform)
        entries = op.value.split(sep)
        skipped = ""
    else:
        return out
    separator = op.separator or list_separator(platform)
    for entry in entries:
        shown = REDACTED if op.secret else entry
        if op.action in PATH_ACTIONS and entry and separator in entry:
            out.append(
                Diagnostic(
                    "warning",
                    "separator-in-entry",
                    name,
                    source,
                    f"entry {shown!r} of {name} holds the separator {separator!r}, so it "
                    "becomes several entries",
                    hint="give each directory as its own entry",
                )
            )
        if not entry:
            out.append(
                Diagnostic(
                    "warning",
                    "empty-path-entry",
                    name,
                    source,
                    f"{skipped}an empty entry in {name} means the current directory",
                    hint="remove the empty entry (no leading, trailing or doubled separator)",
                )
            )
        elif not is_absolute_entry(entry, platform):
            out.append(
                Diagnostic(
                    "warning",
                    "relative-path-entry",
                    name,
                    source,
                    f"entry {shown!r} in {name} is relative: it resolves against each "
                    "command's working directory (~ and $VARS are not expanded)",
                    hint="use an absolute path",
                )
            )
    return out
