"""The env-diff primitive: applying diff(before, after) to before gives after."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import PLATFORMS, names

import envoverlay as eo
from envoverlay import windows_fold
from envoverlay.diff import diff_layer, env_diff, is_ignored


def apply(before, ops, platform):
    layer = eo.Layer.from_ops(ops, kind="provider", id="diff")
    return eo.compose(before, [layer], platform=platform, sensitive="allow").env


def folded(env, platform):
    if platform == "posix":
        return dict(env)
    return {windows_fold(k): v for k, v in env.items()}


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            {"PATH": "/usr/bin:/bin"},
            {"PATH": "/repo/bin:/usr/bin:/bin"},
            [eo.Op.prepend("PATH", ["/repo/bin"])],
        ),
        ({"PATH": "/usr/bin"}, {"PATH": "/usr/bin:/opt/bin"}, [eo.Op.append("PATH", ["/opt/bin"])]),
        (
            {"PATH": "/b"},
            {"PATH": "/a:/b:/c"},
            [eo.Op.prepend("PATH", ["/a"]), eo.Op.append("PATH", ["/c"])],
        ),
        ({"PATH": "/a:/b"}, {"PATH": "/b:/a"}, [eo.Op.prepend("PATH", ["/b"])]),
        ({"PATH": "/a:/b"}, {"PATH": "/c"}, [eo.Op.set("PATH", "/c")]),
        (
            {},
            {"PKG_CONFIG_PATH": "/v/lib/pkgconfig"},
            [eo.Op.prepend("PKG_CONFIG_PATH", ["/v/lib/pkgconfig"])],
        ),
        ({"FOO": "a"}, {"FOO": "b:a"}, [eo.Op.set("FOO", "b:a")]),
        ({"FOO": "1"}, {}, [eo.Op.unset("FOO")]),
        ({}, {"NEW": ""}, [eo.Op.set("NEW", "")]),
        ({"PWD": "/a", "SHLVL": "1"}, {"PWD": "/b", "SHLVL": "2", "_": "/bin/env"}, []),
        ({}, {"DIRENV_DIFF": "x", "BASH_FUNC_f%%": "() {", "__fish_x": "1"}, []),
        ({"PATH": "/a"}, {"PATH": "/x:/x:/a"}, [eo.Op.set("PATH", "/x:/x:/a")]),
        ({"PATH": "/a"}, {"PATH": ":/a"}, [eo.Op.set("PATH", ":/a")]),
    ],
    ids=[
        "prepend",
        "append",
        "prepend and append",
        "move to front is a prepend",
        "replaced list is a set",
        "new path list is a prepend",
        "non-path variable is a set",
        "removal is unset",
        "empty value is a set",
        "shell bookkeeping is ignored",
        "direnv and shell internals are ignored",
        "duplicated new entries fall back to set",
        "an added empty entry falls back to set",
    ],
)
def test_diff_cases(before, after, expected):
    assert env_diff(before, after, platform="posix") == expected


def test_windows_diff_compares_names_and_entries_case_insensitively():
    ops = env_diff(
        {"Path": r"C:\Windows"}, {"PATH": r"C:\venv\Scripts;C:\Windows"}, platform="windows"
    )
    assert ops == [eo.Op.prepend("PATH", [r"C:\venv\Scripts"])]
    result = apply({"Path": r"C:\Windows"}, ops, "windows")
    assert result == {"Path": r"C:\venv\Scripts;C:\Windows"}


def test_a_diff_layer_composes_over_a_different_base():
    layer = diff_layer(
        {"PATH": "/usr/bin"},
        {"PATH": "/repo/bin:/usr/bin", "A": "1"},
        id="direnv:/repo",
        platform="posix",
    )
    other = eo.compose({"PATH": "/opt/bin:/bin"}, [layer], platform="posix")
    assert other.env == {"PATH": "/repo/bin:/opt/bin:/bin", "A": "1"}
    assert layer.source == eo.Source("provider", "direnv:/repo")


# Values that are often path lists over a few entries (some differing only in case), so
# that diffs meet list edits; other values are any short text (specific to drift).
entries = st.sampled_from(["/a", "/b", "/c", "/A", "C:\\x", "c:\\X", ""])


@st.composite
def values(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=6).filter(lambda s: "\0" not in s))
    separator = draw(st.sampled_from([":", ";"]))
    return separator.join(draw(st.lists(entries, max_size=5)))


maps = st.dictionaries(names, values(), max_size=6)


def without_ignored(env):
    return {k: v for k, v in env.items() if not is_ignored(k)}


def one_spelling(env):
    out, seen = {}, set()
    for name, value in env.items():
        if windows_fold(name) not in seen:
            seen.add(windows_fold(name))
            out[name] = value
    return out


@given(maps, maps, PLATFORMS)
def test_applying_the_diff_to_before_gives_after(before, after, platform):
    if platform == "windows":  # one spelling per name, as a Windows block has
        before, after = one_spelling(before), one_spelling(after)
    ops = env_diff(before, after, platform=platform)
    result = apply(before, ops, platform)
    expected = without_ignored(after)
    kept_ignored = {k: v for k, v in before.items() if is_ignored(k)}
    assert folded(without_ignored(result), platform) == folded(expected, platform)
    assert {k: v for k, v in result.items() if is_ignored(k)} == kept_ignored


@given(maps, maps)
def test_the_diff_is_minimal_for_unchanged_variables(before, after):
    ops = env_diff(before, after, platform="posix")
    touched = {op.name for op in ops}
    for name in touched:
        assert before.get(name) != after.get(name)


def _shortest_edit(old, new, key):
    """The definition of the path-list edit a diff uses, one front at a time: the shortest
    head such that new is head + (old without the head's entries) + a tail of new keys."""
    for front in range(len(new) + 1):
        head_keys = {key(entry) for entry in new[:front]}
        kept = [entry for entry in old if key(entry) not in head_keys]
        end = front + len(kept)
        tail_keys = {key(entry) for entry in new[end:]}
        if new[front:end] == kept and not any(key(entry) in tail_keys for entry in kept):
            return new[:front], new[end:]
    return None


_ENTRIES = st.lists(st.sampled_from(["/a", "/b", "/c", "/A", "/d", ""]), max_size=7)


@given(_ENTRIES, _ENTRIES, st.sampled_from(["posix", "windows"]))
def test_path_edits_are_the_shortest_edit(old, new, platform):
    from envoverlay._names import name_key
    from envoverlay.diff import _edit_ops

    key = name_key(platform)
    ops = _edit_ops("PATH", old, new, key)
    expected = _shortest_edit(old, new, key)
    if expected is None:
        assert ops == []
        return
    head, tail = expected
    assert [(op.action, list(op.entries)) for op in ops] == (
        [("prepend", head)] * bool(head) + [("append", tail)] * bool(tail)
    )


def test_a_long_prepended_list_is_one_edit():
    # 2,000 entries added in front of 3: one prepend (checked one front at a time, this
    # was 2,000 passes over the list).
    old = ["/usr/bin", "/bin", "/sbin"]
    added = [f"/opt/tool{i}/bin" for i in range(2000)]
    ops = env_diff({"PATH": ":".join(old)}, {"PATH": ":".join(added + old)}, platform="posix")
    assert [(op.action, list(op.entries)) for op in ops] == [("prepend", added)]
