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

import itertools
import operator
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final, Literal, cast

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
from .sources import Origin, Source

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
    if value.__class__ is tuple and not value:  # the default (no entries): most ops
        return ()
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
    #: The file and line the op was read from (env files), carried into provenance.
    origin: Origin | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.origin is not None and not isinstance(self.origin, Origin):
            raise ArgumentTypeError(f"an op's origin is an Origin, not {self.origin!r}")
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
        return Op(self.name, self.action, secret=True, redacted=True, origin=self.origin)

    @classmethod
    def set(
        cls, name: str, value: str, *, secret: bool = False, origin: Origin | None = None
    ) -> Op:
        return cls(name, "set", value=value, secret=secret, origin=origin)

    @classmethod
    def unset(cls, name: str, *, origin: Origin | None = None) -> Op:
        return cls(name, "unset", origin=origin)

    @classmethod
    def default(
        cls, name: str, value: str, *, secret: bool = False, origin: Origin | None = None
    ) -> Op:
        return cls(name, "default", value=value, secret=secret, origin=origin)

    @classmethod
    def prepend(
        cls,
        name: str,
        entries: str | Iterable[str],
        *,
        separator: str | None = None,
        secret: bool = False,
        origin: Origin | None = None,
    ) -> Op:
        return cls(
            name, "prepend", entries=_as_tuple(entries), separator=separator, secret=secret,
            origin=origin,
        )  # fmt: skip

    @classmethod
    def append(
        cls,
        name: str,
        entries: str | Iterable[str],
        *,
        separator: str | None = None,
        secret: bool = False,
        origin: Origin | None = None,
    ) -> Op:
        return cls(
            name, "append", entries=_as_tuple(entries), separator=separator, secret=secret,
            origin=origin,
        )  # fmt: skip

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


def _slot_setter(cls: type, name: str) -> Callable[[object, object], None]:
    """The slot's own setter: it writes past a frozen class's ``__setattr__``."""
    return cast("Callable[[object, object], None]", cls.__dict__[name].__set__)


_new_object: Final = object.__new__
_op_name, _op_action, _op_value, _op_entries, _op_separator, _op_secret, _op_redacted = (
    _slot_setter(Op, field.name) for field in attrs.fields(Op)[:7]
)
_op_origin = _slot_setter(Op, "origin")
_op_hash = _slot_setter(Op, "_attrs_cached_hash")  # attrs' cache_hash slot, empty until hashed


def unchecked_op(
    name: str,
    action: Action,
    value: str | None,
    entries: tuple[str, ...],
    secret: bool,
    origin: Origin | None,
) -> Op:
    """The :class:`Op` that ``Op(name, action, value, entries, secret=secret,
    origin=origin)`` builds, without its converters and checks — for a reader whose grammar
    already guarantees them: a name of ``[A-Za-z_][A-Za-z0-9_]*``; text without NUL or
    surrogates; a value for a set or default, a non-empty tuple of entries for a path edit.
    It costs a third of the checked constructor, which is most of reading a long env file
    (the ``envfile_static_vs_bash_source`` benchmark). Anything else goes through ``Op``."""
    op = _new_object(Op)
    _op_name(op, name)
    _op_action(op, action)
    _op_value(op, value)
    _op_entries(op, entries)
    _op_separator(op, None)
    _op_secret(op, secret)
    _op_redacted(op, False)
    _op_origin(op, origin)
    _op_hash(op, None)
    return op


def stored_op(
    name: str,
    action: Action,
    value: str | None = None,
    entries: Sequence[str] = (),
    separator: str | None = None,
    secret: bool = False,
    redacted: bool = False,
    *,
    origin: Origin | None = None,
) -> Op:
    """``Op(name, action, value, entries, separator, secret, redacted, origin=origin)`` for
    fields read back from a document: every check of the constructor runs (it raises what
    ``Op`` raises), but its converters are skipped when they would change nothing — ASCII
    text has no surrogate pair to join, and a list of ASCII entries only becomes a tuple. That
    saves a third of building an op, which is most of loading a thread state (the
    ``state_roundtrip_vs_json`` benchmark); any other op is built by ``Op`` itself."""
    if (
        name.__class__ is not str
        or not name.isascii()
        or (value is not None and (value.__class__ is not str or not value.isascii()))
        or (separator is not None and (separator.__class__ is not str or not separator.isascii()))
        or (entries.__class__ is not list and entries.__class__ is not tuple)  # '' is one entry
        or (
            entries
            and (
                operator.countOf(map(type, entries), str) != len(entries)
                or not "".join(entries).isascii()
            )
        )
    ):
        return Op(name, action, value, entries, separator, secret, redacted, origin=origin)
    op = _new_object(Op)
    _op_name(op, name)
    _op_action(op, action)
    _op_value(op, value)
    _op_entries(op, tuple(entries))
    _op_separator(op, separator)
    _op_secret(op, secret)
    _op_redacted(op, redacted)
    _op_origin(op, origin)
    _op_hash(op, None)
    op.__attrs_post_init__()
    return op


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
    ``entry_key`` maps a path entry to the key entries are compared by. Path-list edits go
    through :class:`PathList`, the one engine compose()'s fold and provenance use too.
    """
    action = op.action
    if action == "set":
        return op.value
    if action == "unset":
        return None
    if action == "default":
        return current if current else op.value
    sep = op.separator if op.separator is not None else separator
    added = new_entries(op, entry_key, sep)
    if not added:
        return current
    path_list = PathList(current or "", sep, entry_key)
    path_list.edit(action, added)
    return path_list.value()


def new_entries(op: Op, entry_key: Callable[[str], str], default_separator: str = ":") -> list[str]:
    """The entries a prepend/append really adds (SPEC §2): each given entry split at the
    separator (the op's own, else ``default_separator``), empty parts dropped, and the first
    of each key kept. An op never creates an empty entry, whatever its input."""
    sep = op.separator if op.separator is not None else default_separator
    parts = [part for entry in op.entries for part in entry.split(sep) if part]
    return _unique(parts, entry_key)


class PathList:
    """A path-list value under edit: the one engine behind :func:`apply_op`, compose()'s
    fold and provenance, linear in the entries however many edits it takes.

    The value is ``separator.join`` of its entries, and its entries are always
    ``value.split(separator)``: an edit removes every existing entry equal (by
    ``entry_key``) to a new one, puts the new ones first or last, and keeps every other
    entry — empty ones too — as it is.

    Entries live in three lists — the ones prepended (last first), the value's own, the
    ones appended — where a removed entry leaves a hole (None), with an index from entry
    key to position (``_more`` holds the other positions of a key held more than once), so
    removing the entries equal to a new one is a dict lookup, and the list is joined once
    (not at all while no edit was made). The value's own entries, often a long PATH that a
    few edits add to, are indexed lazily: while they hold no key twice, a set of their keys
    answers "is it there?" and their positions are indexed at the first edit that removes
    one; until then the joined value reuses the value's own text. ``size`` is the joined
    value's size in the unit ``measure`` counts (characters by default; compose() passes
    the platform's bytes or UTF-16 units), kept up to date per edit so that a size check
    never re-encodes the list.

    With a separator of several characters, joining and splitting again is not always the
    identity (``":"`` joined to ``"/a"`` by ``"::"`` reads back as ``""`` and ``":/a"``).
    Only then, when an entry holds one of the separator's characters, is the joined value
    split again after each edit, so the entries stay what splitting the value gives.
    """

    __slots__ = (
        "_appended", "_count", "_index", "_key", "_measure", "_more", "_own", "_own_holes",
        "_own_keys", "_own_text", "_plain", "_prepended", "_separator_size", "_text",
        "_unindexed", "_units", "separator",
    )  # fmt: skip

    def __init__(
        self,
        value: str,
        separator: str,
        entry_key: Callable[[str], str],
        measure: Callable[[str], int] = len,
    ) -> None:
        self.separator = separator
        self._key = entry_key
        self._measure = measure
        self._separator_size = measure(separator)
        self._load(value)

    def _load(self, value: str) -> None:
        separator = self.separator
        parts: list[str | None] = value.split(separator) if value else []  # type: ignore[assignment]
        self._own = parts
        self._prepended: list[str | None] = []
        self._appended: list[str | None] = []
        self._count = len(parts)
        self._text: str | None = value  # the joined value, while no edit was made
        self._own_text = value  # the own entries joined, while none was removed
        self._own_holes = 0
        # A position is an index into _own; -1 - i into _prepended; len(_own) + i into
        # _appended.
        keys = keys_of(parts, self._key)  # type: ignore[arg-type]  # no hole yet
        self._index: dict[str, int] = {}
        self._more: dict[str, list[int]] = {}
        own_keys = set(keys)
        # The own keys not in _index yet: all of them, until an edit removes an own entry.
        self._own_keys: set[str] | None = own_keys
        self._unindexed: list[str] | None = keys
        if len(own_keys) != len(keys):  # some entry is there twice: index them all now
            self._index_own()
            for position, key in enumerate(keys):
                if self._index[key] != position:  # note the others
                    self._more.setdefault(key, []).append(position)
        # Size of the entries without separators (one pass over the whole value).
        self._units = self._measure(value) - self._separator_size * max(len(parts) - 1, 0)
        self._plain = len(separator) == 1 or not _holds_any(value.replace(separator, ""), separator)

    def _index_own(self) -> None:
        """Index the positions of the value's own entries (an edit's entries keep theirs)."""
        keys = self._unindexed
        if keys is None:
            return
        own = dict(zip(keys, range(len(keys)), strict=True))
        own.update(self._index)  # a key an edit added is at the edit's position now
        self._index, self._own_keys, self._unindexed = own, None, None

    def __len__(self) -> int:
        """The number of entries."""
        return self._count

    @property
    def size(self) -> int:
        """The size of the joined value, in ``measure``'s unit."""
        count = self._count
        return self._units + (count - 1) * self._separator_size if count else 0

    def _entry(self, position: int) -> str:
        own = self._own
        if position < 0:
            entry = self._prepended[-1 - position]
        elif position < len(own):
            entry = own[position]
        else:
            entry = self._appended[position - len(own)]
        assert entry is not None  # the index holds the positions of entries, never of holes
        return entry

    def _drop(self, position: int) -> None:
        own = self._own
        if position < 0:
            self._prepended[-1 - position] = None
        elif position < len(own):
            own[position] = None
            self._own_holes += 1
        else:
            self._appended[position - len(own)] = None

    def _replaced(self, entries: list[str]) -> set[int]:
        """The positions of the existing entries an edit adding ``entries`` removes."""
        index, more, key, own_keys = self._index, self._more, self._key, self._own_keys
        removed = set()
        for entry in entries:
            entry_key = key(entry)
            position = index.get(entry_key)
            if position is None and own_keys is not None and entry_key in own_keys:
                self._index_own()  # an own entry goes: index them (once)
                index, own_keys = self._index, None
                position = index.get(entry_key)
            if position is not None:
                removed.add(position)
                removed.update(more.get(entry_key, ()))
        return removed

    def edit(self, action: str, entries: list[str], *, max_size: int | None = None) -> int:
        """Prepend or append ``entries`` (as cleaned by :func:`new_entries`) — unless the
        value would then be larger than ``max_size``: then nothing changes. Returns the
        size of the value the edit makes (made or not), in ``measure``'s unit."""
        measure, separator = self._measure, self.separator
        removed = self._replaced(entries)
        added = "".join(entries)
        plain = self._plain and (len(separator) == 1 or not _holds_any(added, separator))
        # Sizes add up (bytes and UTF-16 units alike): one measure per edit, not per entry.
        units = self._units + measure(added)
        if removed:
            units -= measure("".join([self._entry(position) for position in removed]))
        count = self._count - len(removed) + len(entries)
        if plain:
            size = units + (count - 1) * self._separator_size if count else 0
        else:  # joining may make separators of entry characters: measure the joined text
            size = measure(self._joined(action, entries, removed))
        if max_size is not None and size > max_size:
            return size
        if not plain:
            self._load(self._joined(action, entries, removed))  # what splitting gives
            return size
        index, more, key = self._index, self._more, self._key
        for position in removed:  # existing entries equal to a new one go
            self._drop(position)
        for entry in entries:
            more.pop(key(entry), None)
        if action == "prepend":
            prepended = self._prepended
            start = -1 - len(prepended)  # the last entry goes in first: it ends up last
            prepended.extend(reversed(entries))
            for offset, entry in enumerate(entries):
                index[key(entry)] = start - (len(entries) - 1 - offset)
        else:
            appended = self._appended
            start = len(self._own) + len(appended)
            appended.extend(entries)
            for offset, entry in enumerate(entries):
                index[key(entry)] = start + offset
        self._units, self._count, self._text = units, count, None
        return size

    def _joined(self, action: str, entries: list[str], removed: AbstractSet[int]) -> str:
        """The value after an edit, as text."""
        kept = self._pieces(removed)
        return self.separator.join([*entries, *kept] if action == "prepend" else [*kept, *entries])

    def _pieces(self, removed: AbstractSet[int] = frozenset()) -> list[str]:
        """Texts whose join by the separator is the value (without ``removed``): the entries
        in order without the holes — the value's own ones as their text, while none of them
        was removed (a long list is neither rebuilt nor joined again)."""
        if not removed and not self._own_holes:  # only the edits' entries can have holes
            prepended, appended = self._prepended[::-1], self._appended
            own = [self._own_text] if self._own else []
            return [*_present(prepended), *own, *_present(appended)]
        ordered = [*reversed(self._prepended), *self._own, *self._appended]
        if removed:
            first = -len(self._prepended)  # the position of ordered[0]
            for position in removed:
                ordered[position - first] = None
        present = map(operator.is_not, ordered, itertools.repeat(None))
        return cast("list[str]", list(itertools.compress(ordered, present)))

    def value(self) -> str:
        """The joined value."""
        if self._text is None:
            self._text = self.separator.join(self._pieces())
        return self._text


def _present(entries: list[str | None]) -> Iterable[str]:
    """The entries that are not holes (None), in order; C-level."""
    present = map(operator.is_not, entries, itertools.repeat(None))
    return cast("Iterable[str]", itertools.compress(entries, present))


def _holds_any(text: str, characters: str) -> bool:
    """Whether ``text`` holds any of ``characters``."""
    return any(char in text for char in set(characters))


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
    use; in a path list, an entry holding the separator (it becomes several entries), an
    empty entry (a prepend/append drops it: it would mean "the current directory"; a
    ``set`` of a known path list keeps it, with the warning) and a relative entry."""
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
        separator = op.separator or list_separator(platform)
        for entry in op.entries:
            out.extend(_entry_warnings(op, entry, separator, platform, source))
    elif op.value and op.action != "unset" and windows_fold(name) in PATH_LIST_NAMES:
        parts = op.value.split(list_separator(platform))
        if not all(parts):
            out.append(
                _warning(
                    op, "empty-path-entry", source,
                    f"an empty entry in {name} means the current directory",
                    "remove the empty entry (no leading, trailing or doubled separator)",
                )
            )  # fmt: skip
        out.extend(_relative_warnings(op, parts, platform, source))
    return out


def _warning(op: Op, code: str, source: Source | None, message: str, hint: str) -> Diagnostic:
    return Diagnostic("warning", code, op.name, source, message, hint=hint)


def _entry_warnings(
    op: Op, entry: str, separator: str, platform: Platform, source: Source | None
) -> list[Diagnostic]:
    """Warnings about one entry given to a prepend/append (see :func:`new_entries`)."""
    name = op.name
    shown = REDACTED if op.secret else entry
    parts = entry.split(separator)
    out: list[Diagnostic] = []
    if not entry:
        out.append(
            _warning(
                op, "empty-path-entry", source,
                f"skipped: an empty entry in {name} would mean the current directory",
                "remove the empty entry",
            )
        )  # fmt: skip
    elif not all(parts):
        out.append(
            _warning(
                op, "empty-path-entry", source,
                f"entry {shown!r} of {name} holds the separator {separator!r} with an empty "
                "part: it is split there and the empty part dropped (it would mean the "
                "current directory)",
                "give each directory as its own entry, with no leading, trailing or doubled "
                "separator",
            )
        )  # fmt: skip
    elif len(parts) > 1:
        out.append(
            _warning(
                op, "separator-in-entry", source,
                f"entry {shown!r} of {name} holds the separator {separator!r}, so it "
                "becomes several entries",
                "give each directory as its own entry",
            )
        )  # fmt: skip
    out.extend(_relative_warnings(op, [part for part in parts if part], platform, source))
    return out


def _relative_warnings(
    op: Op, entries: Iterable[str], platform: Platform, source: Source | None
) -> list[Diagnostic]:
    name = op.name
    return [
        _warning(
            op, "relative-path-entry", source,
            f"entry {REDACTED if op.secret else entry!r} in {name} is relative: it resolves "
            "against each command's working directory (~ and $VARS are not expanded)",
            "use an absolute path",
        )
        for entry in entries
        if entry and not is_absolute_entry(entry, platform)
    ]  # fmt: skip
