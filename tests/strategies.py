"""The hypothesis strategies the property tests share, one of each meaning.

Names come from small pools so that collisions, and Windows spellings of one name, are
common; values never hold what no environment can (NUL, lone surrogates) unless a strategy
says so. A test file keeps a strategy of its own only when its meaning is specific to that
file's subject, with a comment saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hypothesis import strategies as st

import envoverlay as eo
from envoverlay.ops import ACTIONS

PLATFORMS = st.sampled_from(["posix", "windows"])
SENSITIVE_MODES = st.sampled_from(["warn", "deny", "allow"])
#: The kinds a stack layer can have, in precedence order (``inherited`` is the base).
LAYER_KINDS: tuple[eo.LayerKind, ...] = ("config", "provider", "hook", "thread", "runtime")

# -- names ------------------------------------------------------------------------------------

#: Posix and Windows spellings of a few names: on Windows PATH, Path and path are one
#: variable, STRAßE and STRASSE are two (no length-changing fold), π and Π are one. Runtime,
#: path-list and ignored names (CODEX_THREAD_ID, LD_LIBRARY_PATH, PWD) and a secret-named
#: one (TOKEN) are in the pool so that their rules are exercised.
NAME_POOL = (
    "PATH", "Path", "path", "HOME", "home", "FOO", "Foo", "foo", "BAR", "Bar",
    "STRA\u00dfE", "STRASSE", "\u03c0", "\u03a0", "LD_LIBRARY_PATH", "PYTHONPATH",
    "XDG_DATA_DIRS", "PWD", "CODEX_THREAD_ID", "codex_thread_id", "TOKEN", "A", "B_2",
    "X1", "_",
)  # fmt: skip
names = st.sampled_from(NAME_POOL)

#: Characters whose Windows case mapping is interesting: ASCII, Latin-1, Greek, Cyrillic, the
#: Kelvin and Angstrom signs, dotless i, long s, final sigma, sharp s, a surrogate pair held
#: as two code points, and the character it encodes; ``*`` and ``?`` for globs.
FOLD_CHARS = (
    *"AaKkEeIiSsYy_*?0", "\u212a", "\u212b", "\u00e5", "\u00c5", "\u0131", "\u017f",
    "\u03c2", "\u03c3", "\u03a3", "\u00df", "\u0434", "\u0414", "\u00e9", "\u00c9",
    "\ud83d\ude00", "\U0001f600",
)  # fmt: skip
fold_chars = st.sampled_from(FOLD_CHARS)
#: Names (and glob patterns) built from :data:`FOLD_CHARS`.
fold_names = st.lists(fold_chars, min_size=1, max_size=6).map("".join)

# -- values, entries, separators --------------------------------------------------------------

#: The characters a value can hold in any environment: all but NUL and lone surrogates.
value_chars = st.characters(exclude_characters="\0", exclude_categories=["Cs"])
#: Short values of those characters.
values = st.text(value_chars, max_size=16)
#: Path-list entries: absolute, relative, Windows-spelled, empty, or holding a separator
#: (an op splits an entry there and drops its empty parts, SPEC §2).
entries = st.lists(st.text(alphabet="/abcABC:;\\", max_size=6), min_size=1, max_size=4)
#: The separators of path edits: the platforms' own, several characters long, ones whose
#: characters occur in entries, and characters a shell must quote.
SEPARATORS = (":", ";", "::", ":;", "ab", "aba", "||", ",", "'", "*", "\\", " ", "\u00e9")
separators = st.sampled_from(SEPARATORS)
#: Text made of the separators' characters (and a few others), so that entries and values
#: hold separators, their prefixes and their overlaps.
separator_texts = st.text(alphabet="".join(sorted(set("".join(SEPARATORS)))) + "/A", max_size=6)
#: The separators with which every op is idempotent: one character, or the platform's.
one_char_separators = st.sampled_from([None, ":", ";"])

# -- ops, layers, bases -----------------------------------------------------------------------


#: Where an env file wrote an op: none (most ops), or a file and a line.
origins = st.none() | st.builds(
    eo.Origin,
    st.sampled_from(["CLAUDE_ENV_FILE", "GITHUB_ENV", "/repo/.hooks/env.sh", "\u03c0.env", "a\\b"]),
    st.integers(1, 10**6),
)
NO_ORIGIN: st.SearchStrategy[eo.Origin | None] = st.none()


@st.composite
def ops(
    draw: st.DrawFn,
    names: st.SearchStrategy[str] = names,
    separators: st.SearchStrategy[str | None] = one_char_separators,
    origins: st.SearchStrategy[eo.Origin | None] = NO_ORIGIN,
) -> eo.Op:
    """Any valid op on one of ``names``; path edits use ``separators`` (None: the
    platform's); its origin is drawn from ``origins`` (none by default)."""
    name = draw(names)
    action = draw(st.sampled_from(ACTIONS))
    origin = draw(origins)
    if action == "unset":
        return eo.Op.unset(name, origin=origin)
    secret = draw(st.booleans())
    if action in ("set", "default"):
        return eo.Op(name, action, value=draw(values), secret=secret, origin=origin)
    separator = draw(separators)
    return eo.Op(
        name, action, entries=tuple(draw(entries)), separator=separator, secret=secret,
        origin=origin,
    )  # fmt: skip


@st.composite
def layers(
    draw: st.DrawFn,
    kinds: Sequence[eo.LayerKind] = LAYER_KINDS,
    max_layers: int = 5,
    separators: st.SearchStrategy[str | None] = one_char_separators,
    origins: st.SearchStrategy[eo.Origin | None] = NO_ORIGIN,
) -> list[eo.Layer]:
    """A stack of up to ``max_layers`` layers of up to six ops each, of the given kinds, in
    any order (compose sorts them by kind)."""
    return [
        eo.Layer.from_ops(
            draw(st.lists(ops(separators=separators, origins=origins), max_size=6)),
            kind=draw(st.sampled_from(kinds)),
            id=f"l{i}",
            lifetime=draw(st.sampled_from(["thread", "session"])),
            inherit=draw(st.booleans()),
        )
        for i in range(draw(st.integers(0, max_layers)))
    ]


#: Inherited maps over the name pool.
bases = st.dictionaries(names, values, max_size=8)
#: Windows drive variables (``=C:``) and names no environment block can hold.
DRIVE_AND_BAD_NAMES = ("=C:", "=c:", "=D:", "==C:", "=", "A=B", "=::", "=\u03a9:")

# -- JSON -------------------------------------------------------------------------------------


#: Any JSON scalar.
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()


def json_values(*, floats: bool = True) -> st.SearchStrategy[object]:
    """Any JSON value (``floats=False``: without numbers that are not integers)."""
    scalars = json_scalars if floats else st.none() | st.booleans() | st.integers() | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )


# -- env files --------------------------------------------------------------------------------

#: Directories as an env file adds them to a list.
directories = st.from_regex(r"/[a-z0-9_.]{1,8}(/[a-z0-9_.]{1,8}){0,2}", fullmatch=True)


def shell_single(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def shell_double(value: str) -> str:
    return '"' + "".join("\\" + c if c in '"$`\\' else c for c in value) + '"'


def shell_ansi(value: str) -> str:
    return "$'" + "".join(
        {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t"}.get(c, c) for c in value
    ) + "'"  # fmt: skip


#: Values an env-file line quotes: no carriage return, which a line-oriented reader and bash
#: would see differently at a line's end.
line_values = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\0\r"), max_size=12
)
ENV_FILE_NAMES = ("A", "B", "TOOL_HOME", "PATH", "LD_LIBRARY_PATH", "EDITOR")


@st.composite
def env_file_statements(draw: st.DrawFn) -> str:
    """One statement of the shell subset the static reader takes: a quoted set, a prepend,
    an append, a default, an unset, a reference to the base or to an earlier line."""
    name = draw(st.sampled_from(ENV_FILE_NAMES))
    kind = draw(st.sampled_from(["set", "prepend", "append", "default", "unset", "ref", "earlier"]))
    keyword = draw(st.sampled_from(["export", "declare -x"]))
    if kind == "set":
        quote = draw(st.sampled_from([shell_single, shell_double, shell_ansi]))
        return f"{keyword} {name}={quote(draw(line_values))}"
    if kind == "prepend":
        return f'{keyword} {name}="{draw(directories)}:${name}"'
    if kind == "append":
        return f"{keyword} {name}=${{{name}}}:{draw(directories)}"
    if kind == "default":
        return f"{keyword} {name}=${{{name}:-{draw(directories)}}}"
    if kind == "ref":
        other = draw(st.sampled_from(["HOME", "USER"]))
        return f'{keyword} {name}="${other}{draw(directories)}"'
    if kind == "earlier":  # a variable set on an earlier line of the file
        value = shell_single(draw(line_values))
        return f'export SRC={value}\n{keyword} {name}="${{SRC}}{draw(directories)}"'
    return f"unset {name}"


_LIST_DIRS = st.sampled_from(["/a", "/b", "/opt/x"])
#: Lines of a Claude Code env file: PATH edits (one behind the ``case`` guard Claude Code's
#: docs suggest), sets, defaults and unsets of two names.
claude_env_file_lines = st.one_of(
    _LIST_DIRS.map(lambda d: f'export PATH="{d}:$PATH"'),
    _LIST_DIRS.map(lambda d: f'export PATH="$PATH:{d}"'),
    _LIST_DIRS.map(lambda d: f'case ":$PATH:" in *":{d}:"*) ;; *) export PATH="{d}:$PATH";; esac'),
    st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["1", "two", ""])).map(
        lambda pair: f"export {pair[0]}={pair[1]}"
    ),
    st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["d", "x y"])).map(
        lambda pair: f'export {pair[0]}="${{{pair[0]}:-{pair[1]}}}"'
    ),
    st.sampled_from(["unset A", "unset B"]),
)

# -- emitted values ---------------------------------------------------------------------------


def dangerous(marker: Path) -> list[str]:
    """Texts that run ``touch marker`` if an emitted script does not quote them."""
    m = str(marker)
    return [
        f"$(touch {m})", f"`touch {m}`", f"'; touch {m}; '", f"'\\''$(touch {m})'\\''",
        f'"; touch {m} #', f"\n touch {m}\n", f"\\'$(touch {m})", f"${{X:-$(touch {m})}}",
        f"'\"'\"'`touch {m}`", "\\", "'", '"', "\\\n", "$", "!", "*", "~", "=", "\r\n", "'\\''",
    ]  # fmt: skip


def emit_values(marker: Path) -> st.SearchStrategy[str]:
    """Values for an emitted script: any text, spliced with :func:`dangerous` pieces."""
    return st.lists(st.one_of(values, st.sampled_from(dangerous(marker))), max_size=4).map("".join)
