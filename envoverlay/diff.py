"""Env diff: the smallest overlay that turns one env map into another.

This is how any activation script's effect becomes data: capture the env before and after
(direnv, ``mise env``, a sourced script), diff, and get ops that still compose correctly over
a *different* base:

* a variable that is gone → ``unset``;
* a path-list variable whose new value is the old one with entries added at the front and/or
  back → ``prepend`` and/or ``append`` of just those entries (so ``PATH_add bin`` stays a
  prepend over any PATH); a path-list variable that did not exist → ``prepend`` (an
  activation adds to whatever list the command's base has, as ``${X:+:$X}`` scripts do);
* anything else → ``set``.

Every candidate is checked by applying it with :func:`~envoverlay.ops.apply_op` — the same
function compose() uses — and falls back to ``set`` when it would not give the new value
exactly. Shell bookkeeping (``PWD``, ``OLDPWD``, ``SHLVL``, ``_``, and the rest of direnv's
ignore list) is never part of a diff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final

from ._names import (
    Platform,
    PlatformArg,
    list_separator,
    name_key,
    names_argument,
    resolve_platform,
    windows_fold,
)
from .layers import Layer, Lifetime
from .ops import PATH_LIST_NAMES, Op, apply_op
from .sources import LayerKind

#: Names that are shell or tool bookkeeping, not environment a command should inherit from a
#: diff (direnv's IgnoredKeys and CleanContext, plus the shells' own counters).
IGNORED_NAMES: Final = frozenset(
    {
        "PWD", "OLDPWD", "SHLVL", "_", "PS1", "PS2", "SHELLOPTS", "BASHOPTS", "COMP_WORDBREAKS",
        "DIRENV_CONFIG", "DIRENV_BASH", "DIRENV_IN_ENVRC", "DIRENV_DIFF", "DIRENV_DIR",
        "DIRENV_FILE", "DIRENV_WATCHES", "DIRENV_DUMP_FILE_PATH",
    }
)  # fmt: skip
#: Name prefixes that are bookkeeping (exported bash functions, fish's internals).
IGNORED_PREFIXES: Final = ("BASH_FUNC_", "__fish")
_PATH_LIKE_SUFFIXES: Final = ("PATH", "_DIRS")


def is_ignored(name: str) -> bool:
    """Whether ``name`` is bookkeeping that a diff leaves out."""
    return name in IGNORED_NAMES or name.startswith(IGNORED_PREFIXES)


def is_path_list(name: str) -> bool:
    """Whether ``name`` holds a path list: a known one (``PATH``, ``PYTHONPATH``,
    ``XDG_DATA_DIRS``, ...) or any name ending in ``PATH`` or ``_DIRS``."""
    return is_folded_path_list(windows_fold(name))


def is_folded_path_list(folded: str) -> bool:
    """:func:`is_path_list` of a name already folded by
    :func:`~envoverlay._names.windows_fold` (its case is ignored on every platform)."""
    return folded in PATH_LIST_NAMES or folded.endswith(_PATH_LIKE_SUFFIXES)


def env_diff(
    before: Mapping[str, str],
    after: Mapping[str, str],
    *,
    platform: PlatformArg = "auto",
    ignore: Iterable[str] = (),
) -> list[Op]:
    """The ops that turn ``before`` into ``after`` (names compared by the platform's rule).
    ``ignore`` adds names to leave out besides the bookkeeping ones (a bare str is one name)."""
    plat = resolve_platform(platform)
    key = name_key(plat)
    extra = {key(name) for name in names_argument(ignore, argument="ignore")}
    separator = list_separator(plat)
    old = {key(name): (name, value) for name, value in before.items()}
    new = {key(name): (name, value) for name, value in after.items()}
    ops: list[Op] = []
    for k, (name, value) in new.items():
        if is_ignored(name) or k in extra:
            continue
        previous = old.get(k, (name, None))[1]
        if previous == value:
            continue
        ops.extend(_change(name, previous, value, plat, separator))
    for k, (name, _) in old.items():
        if k not in new and not is_ignored(name) and k not in extra:
            ops.append(Op.unset(name))
    return ops


def diff_layer(
    before: Mapping[str, str],
    after: Mapping[str, str],
    *,
    kind: LayerKind = "provider",
    id: str,
    platform: PlatformArg = "auto",
    lifetime: Lifetime = "thread",
    inherit: bool = True,
    ignore: Iterable[str] = (),
) -> Layer:
    """:func:`env_diff` as a layer."""
    ops = env_diff(before, after, platform=platform, ignore=ignore)
    return Layer.from_ops(ops, kind=kind, id=id, lifetime=lifetime, inherit=inherit)


def _change(name: str, old: str | None, new: str, platform: Platform, separator: str) -> list[Op]:
    if not is_path_list(name) or not new:
        return [Op.set(name, new)]
    key = name_key(platform)
    entries = new.split(separator)
    if not old:
        candidate = [Op.prepend(name, entries)]
    else:
        candidate = _edit_ops(name, old.split(separator), entries, key)
    if candidate and _applies(old, candidate, new, separator, key):
        return candidate
    return [Op.set(name, new)]


def _edit_ops(name: str, old: list[str], new: list[str], key: Callable[[str], str]) -> list[Op]:
    """Prepend/append ops when ``new`` is ``old`` with entries added at either end (the
    shortest such edit), else none. Moving an existing entry to the front counts as an
    addition there, as a prepend would do it."""
    old_keys = [key(entry) for entry in old]
    head_keys: set[str] = set()  # the keys of new[:front]
    first = 0  # the first entry of old whose key is not in head_keys: where kept starts
    # Find where the old list (minus entries that were moved to the front) sits in new. A
    # front is checked in full only where new[front] is the first entry kept, so a long
    # list of added entries costs one pass, not one pass per entry.
    for front in range(len(new) + 1):
        if front:
            head_keys.add(key(new[front - 1]))
        while first < len(old) and old_keys[first] in head_keys:
            first += 1
        if first < len(old) and (front == len(new) or new[front] != old[first]):
            continue  # new[front:] does not start with the first entry kept
        kept = [entry for entry, k in zip(old, old_keys, strict=True) if k not in head_keys]
        end = front + len(kept)
        if new[front:end] != kept:
            continue
        tail = new[end:]
        tail_keys = {key(entry) for entry in tail}
        if any(key(entry) in tail_keys for entry in kept):
            continue
        ops = []
        if front:
            ops.append(Op.prepend(name, new[:front]))
        if tail:
            ops.append(Op.append(name, tail))
        return ops
    return []


def _applies(
    old: str | None, ops: list[Op], new: str, separator: str, key: Callable[[str], str]
) -> bool:
    value = old
    for op in ops:
        value = apply_op(value, op, separator=separator, entry_key=key)
    return value == new


__all__ = ["IGNORED_NAMES", "diff_layer", "env_diff", "is_ignored", "is_path_list"]
