"""The thread store (SPEC §5): real files, real processes, real SIGKILLs.

Figures (writers, saves, kill trials, temp files left by killed writers) are printed; run
with ``-s`` to see them. ``ENVOVERLAY_KILL_TRIALS=1000`` runs more SIGKILL trials. The last
section, "Fault injection", holds the long campaigns (random SIGKILLs by two workers, a full
disk, a read-only directory, killed concurrent writers).
"""

from __future__ import annotations

import errno
import inspect
import itertools
import json
import os
import pickle
import random
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import envoverlay as eo
from envoverlay.store import (
    CorruptStateError,
    StoreError,
    ThreadNotFoundError,
    ThreadStore,
    decode_file_name,
    encode_thread_id,
)

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes, fork and flock")
SECRET = "s3cret-Value-91f2"


def make_state(thread_id: str, tag: str, width: int = 40) -> eo.ThreadState:
    """A state whose every value carries ``tag``: a torn or mixed file cannot equal it."""
    overlay: dict[str, object] = {f"V{k:03d}": f"{tag}:{k}" for k in range(width)}
    overlay["PATH"] = {"prepend": [f"/{tag}/bin", f"/{tag}/sbin"]}
    return eo.ThreadState.new(
        thread_id=thread_id,
        session_id=tag,
        layers=[
            eo.Layer.from_overlay({"CFG": tag}, kind="config", id="cfg"),
            eo.Layer.from_overlay(overlay, kind="hook", id=f"hook-{tag}"),
        ],
    )


def secret_state(thread_id: str) -> eo.ThreadState:
    layer = eo.Layer.from_overlay(
        {"A": "1", "TOKEN": {"set": SECRET, "secret": True}}, kind="hook", id="h"
    )
    return eo.ThreadState.new(thread_id=thread_id, session_id="s1", layers=[layer])


def all_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def temps(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".tmp"))


def run_threads(work: Callable[[int], None], count: int) -> list[BaseException]:
    """Run ``work(0)`` .. ``work(count - 1)`` in threads at once; what they raised."""
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def kill_a_saving_writer(root: str | Path, states: Sequence[eo.ThreadState], delay: float) -> int:
    """Fork a writer that saves ``states`` in turn, in a loop, and SIGKILL it after
    ``delay`` seconds; its wait status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            child = ThreadStore(root)
            for state in itertools.cycle(states):
                child.save(state)
        finally:
            os._exit(0)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return status


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> ThreadStore:
    return ThreadStore(root)


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# -- basics ---------------------------------------------------------------------------------


def test_round_trip(store: ThreadStore, root: Path) -> None:
    state = make_state("t1", "a")
    path = store.save(state)
    assert path == store.path_for("t1") == root / "t1.json"
    assert store.load("t1") == state
    assert path.read_text("utf-8") == eo.dumps(state)
    newer = make_state("t1", "b")
    store.save(newer)
    assert store.load("t1") == newer


def test_list_exists_delete(store: ThreadStore, root: Path) -> None:
    assert store.list_threads() == []
    assert not store.exists("t1")
    assert not store.delete("t1")
    assert not root.exists()  # reading never creates the directory
    for tid in ("t2", "t1", "t3"):
        store.save(make_state(tid, tid))
    assert store.list_threads() == ["t1", "t2", "t3"]
    assert store.exists("t2")
    assert store.delete("t2")
    assert not store.delete("t2")
    assert not store.exists("t2")
    assert store.list_threads() == ["t1", "t3"]
    with pytest.raises(ThreadNotFoundError, match="'t2'") as info:
        store.load("t2")
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, StoreError)
    assert isinstance(info.value, eo.EnvOverlayError)
    assert info.value.thread_id == "t2"
    # delete leaves no lock file behind; live threads keep theirs
    assert sorted(p.name for p in root.iterdir()) == [
        "t1.json",
        "t1.json.lock",
        "t3.json",
        "t3.json.lock",
    ]


AWKWARD_IDS = [
    "a/b",
    "a%2Fb",
    "../../etc/passwd",
    "..",
    ".",
    ".hidden",
    "with space",
    "tab\there",
    "ünïcødé",
    "日本語のスレッド",
    "emoji 🧵",
    "A",
    "a",
    "CON",
    "nul",
    "com1.txt",
    "a\\b",
    "~",
    "x.json",
    "x.json.lock",
    "x.json.corrupt-20250101T000000Z",
    ".x.json~0123.tmp",
    "-",
]


def test_awkward_ids_map_to_distinct_safe_files(store: ThreadStore, root: Path) -> None:
    for tid in AWKWARD_IDS:
        store.save(make_state(tid, "v", width=2))
    names = [store.path_for(tid).name for tid in AWKWARD_IDS]
    assert len({n.casefold() for n in names}) == len(AWKWARD_IDS)
    for tid, name in zip(AWKWARD_IDS, names, strict=True):
        assert store.path_for(tid).parent == root
        assert not name.startswith(".")
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789._-%ABCDEF")
        assert decode_file_name(name) == tid
        assert store.load(tid) == make_state(tid, "v", width=2)
    assert store.list_threads() == sorted(AWKWARD_IDS)
    assert sorted(p.name for p in root.iterdir() if p.name.endswith(".json")) == sorted(names)


@given(st.text(min_size=1, max_size=60))
def test_encoding_is_reversible_and_safe(thread_id: str) -> None:
    stem = encode_thread_id(thread_id)
    assert not stem.startswith(".")
    assert stem not in (".", "..")
    assert "/" not in stem
    assert "\\" not in stem
    assert "~" not in stem
    assert stem == stem.encode("ascii").decode("ascii")
    assert decode_file_name(stem + ".json") == thread_id
    for derived in (".lock", ".corrupt-20250101T000000Z", ".corrupt-20250101T000000Z-3"):
        assert decode_file_name(stem + ".json" + derived) is None
    assert decode_file_name(f".{stem}.json~0011.tmp") is None


@given(st.text(min_size=1, max_size=12), st.text(min_size=1, max_size=12))
def test_encoding_is_injective_under_case_folding(a: str, b: str) -> None:
    if a != b:
        assert encode_thread_id(a).casefold() != encode_thread_id(b).casefold()


def test_non_canonical_names_are_not_threads(store: ThreadStore, root: Path) -> None:
    store.save(make_state("a", "v"))
    for name in ("%61.json", "A.json", "%zz.json", "%2.json", ".json", "x y.json", "%C3.json"):
        (root / name).write_text("{}")
    assert store.list_threads() == ["a"]


def test_bad_ids(store: ThreadStore) -> None:
    with pytest.raises(StoreError, match="non-empty"):
        store.path_for("")
    with pytest.raises(StoreError, match="too long"):
        store.path_for("é" * 100)
    store.path_for("a" * 200)
    with pytest.raises(TypeError):
        store.path_for(7)  # type: ignore[arg-type]


def test_default_root_is_under_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import platformdirs

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    store = ThreadStore()
    assert store.root == platformdirs.user_state_path("envoverlay")
    assert not (tmp_path / "xdg").exists()  # nothing touches the disk before a call


def test_errors_pickle(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFoundError) as info:
        store.load("nope")
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is ThreadNotFoundError
    assert str(again) == str(info.value)
    assert again.thread_id == "nope"


# -- permissions ----------------------------------------------------------------------------


@POSIX_ONLY
@pytest.mark.usefixtures("umask")
@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277])
def test_modes_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    os.umask(mask)
    root = tmp_path / "deep" / "er" / "store"
    store = ThreadStore(root)
    path = store.save(make_state("t1", "a"))
    for directory in (tmp_path / "deep", tmp_path / "deep" / "er", root):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    for file in root.iterdir():
        assert stat.S_IMODE(file.lstat().st_mode) == 0o600, file
    store.save(make_state("t1", "b"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@POSIX_ONLY
def test_too_open_root_is_refused_not_changed(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    root.chmod(0o755)
    store = ThreadStore(root)
    for call in (lambda: store.save(make_state("t1", "a")), store.list_threads):
        with pytest.raises(StoreError, match=r"chmod 700") as info:
            call()
        assert info.value.path == root
    assert stat.S_IMODE(root.stat().st_mode) == 0o755
    root.chmod(0o700)
    store.save(make_state("t1", "a"))


def test_root_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        ThreadStore(tmp_path / "file").save(make_state("t1", "a"))


@POSIX_ONLY
def test_symlinked_root_is_followed_and_its_target_checked(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    store = ThreadStore(tmp_path / "link")
    store.save(make_state("t1", "a"))
    assert (real / "t1.json").is_file()
    real.chmod(0o777)
    with pytest.raises(StoreError, match="other users"):
        store.load("t1")


# -- secrets --------------------------------------------------------------------------------


def test_secrets_never_written_by_default(store: ThreadStore, root: Path) -> None:
    for tid in ("s1", "s2"):
        store.save(secret_state(tid))
    files = all_bytes(root)
    assert files
    for name, data in files.items():
        assert SECRET.encode() not in data, name
    loaded = store.load("s1")
    assert SECRET not in repr(loaded)
    assert SECRET not in eo.dumps(loaded, include_secrets=True)


def test_secrets_written_only_when_asked(root: Path) -> None:
    store = ThreadStore(root, include_secrets=True)
    assert store.include_secrets
    store.save(secret_state("s1"))
    assert SECRET.encode() in (root / "s1.json").read_bytes()
    assert store.load("s1") == secret_state("s1")
    assert stat.S_IMODE((root / "s1.json").stat().st_mode) == 0o600 or os.name != "posix"


# -- corruption -----------------------------------------------------------------------------


def _corruptions() -> dict[str, bytes]:
    good = eo.dumps(make_state("t1", "a"))
    wrong = {"format": "something.else", "version": 1, "thread_id": "t1"}
    other = eo.dumps(make_state("other", "a"))
    return {
        "truncated": good[: len(good) // 2].encode(),
        "garbage": bytes(range(256)) * 4,
        "empty": b"",
        "whitespace": b" \n\t",
        "wrong-format": json.dumps(wrong).encode(),
        "json-array": b"[]",
        "latin-1": '{"é": 1}'.encode("latin-1"),
        "other-thread": other.encode(),
    }


CORRUPTIONS = _corruptions()


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupt_file_is_moved_aside(store: ThreadStore, root: Path, kind: str) -> None:
    store.save(make_state("t1", "a"))
    path = store.path_for("t1")
    path.write_bytes(CORRUPTIONS[kind])
    with pytest.raises(CorruptStateError) as info:
        store.load("t1")
    error = info.value
    assert isinstance(error, StoreError)
    assert error.path == path
    assert error.thread_id == "t1"
    assert error.moved_to.parent == root
    assert error.moved_to.name.startswith("t1.json.corrupt-")
    for part in ("'t1'", str(path), str(error.moved_to)):
        assert part in str(error)
    assert error.reason
    assert error.reason in str(error)
    assert error.moved_to.read_bytes() == CORRUPTIONS[kind]
    assert not path.exists()
    assert store.list_threads() == []
    assert not store.exists("t1")
    with pytest.raises(ThreadNotFoundError):
        store.load("t1")
    store.save(make_state("t1", "b"))
    assert store.load("t1") == make_state("t1", "b")
    assert error.moved_to.read_bytes() == CORRUPTIONS[kind]
    assert store.list_threads() == ["t1"]


def test_reasons_name_the_problem(store: ThreadStore) -> None:
    expected = {
        "empty": "empty",
        "wrong-format": "format",
        "latin-1": "UTF-8",
        "other-thread": "'other'",
    }
    for kind, word in expected.items():
        store.path_for("t1").parent.mkdir(mode=0o700, exist_ok=True)
        store.path_for("t1").write_bytes(CORRUPTIONS[kind])
        with pytest.raises(CorruptStateError, match=word):
            store.load("t1")


def test_corrupt_copies_are_never_overwritten(store: ThreadStore, root: Path) -> None:
    moved = []
    for n in range(4):  # same second: the names get a counter
        store.save(make_state("t1", "a"))
        store.path_for("t1").write_bytes(b"broken %d" % n)
        with pytest.raises(CorruptStateError) as info:
            store.load("t1")
        moved.append(info.value.moved_to)
    assert len(set(moved)) == 4
    for n, path in enumerate(moved):
        assert path.read_bytes() == b"broken %d" % n
    assert store.list_threads() == []


# -- temp files left by a crash ---------------------------------------------------------


def test_leftover_temp_files_are_ignored_then_cleaned(store: ThreadStore, root: Path) -> None:
    store.save(make_state("t1", "a"))
    store.save(make_state("t10", "a"))
    orphan = root / ".t1.json~deadbeefdeadbeef.tmp"
    orphan.write_bytes(b'{"format": "envoverlay.thr')  # what a killed writer leaves
    other = root / ".t10.json~deadbeefdeadbeef.tmp"
    other.write_bytes(b"half")
    assert store.list_threads() == ["t1", "t10"]
    assert store.load("t1") == make_state("t1", "a")
    store.save(make_state("t1", "b"))
    assert not orphan.exists()
    assert other.exists()  # another thread's temp file is that thread's business
    store.delete("t10")
    assert not other.exists()


# -- OS failures ----------------------------------------------------------------------------


def _assert_intact(store: ThreadStore, root: Path, before: dict[str, bytes]) -> None:
    assert all_bytes(root) == before
    assert temps(root) == []
    assert store.load("t1") == make_state("t1", "old")


@POSIX_ONLY
@pytest.mark.skipif(
    os.name == "posix" and os.geteuid() == 0,
    reason="root ignores directory permissions; test_simulated_read_only_directory covers it",
)
def test_read_only_directory(store: ThreadStore, root: Path) -> None:
    store.save(make_state("t1", "old"))
    before = all_bytes(root)
    root.chmod(0o500)
    try:
        with pytest.raises(StoreError) as info:
            store.save(make_state("t1", "new"))
    finally:
        root.chmod(0o700)
    assert str(root / "t1.json") in str(info.value)
    assert info.value.errno == errno.EACCES
    assert "EACCES" in str(info.value)
    _assert_intact(store, root, before)


# Running as root, chmod cannot make a directory read-only, and a read-only bind mount
# needs privileges the tests do not have: the OS refusal is injected instead, at each
# call that can see it (creating the temp file, renaming it into place).
@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS, errno.EPERM])
@pytest.mark.parametrize("call", ["open", "replace"])
def test_simulated_read_only_directory(
    store: ThreadStore, root: Path, monkeypatch: pytest.MonkeyPatch, code: int, call: str
) -> None:
    store.save(make_state("t1", "old"))
    before = all_bytes(root)
    real_open, real_replace = os.open, os.replace

    def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_EXCL:  # the temp file; the lock file already exists
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)

    def refusing_replace(src: Any, dst: Any, **kwargs: Any) -> None:
        raise OSError(code, os.strerror(code), str(src), None, str(dst))

    monkeypatch.setattr(os, call, refusing_open if call == "open" else refusing_replace)
    with pytest.raises(StoreError) as info:
        store.save(make_state("t1", "new"))
    monkeypatch.setattr(os, "open", real_open)
    monkeypatch.setattr(os, "replace", real_replace)
    message = str(info.value)
    assert str(root / "t1.json") in message
    assert errno.errorcode[code] in message
    assert info.value.errno == code
    assert info.value.path == root / "t1.json"
    assert isinstance(info.value.__cause__, OSError)
    _assert_intact(store, root, before)


@pytest.mark.parametrize("call", ["write", "fsync"])
def test_disk_full(
    store: ThreadStore, root: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    store.save(make_state("t1", "old"))
    before = all_bytes(root)
    real_write = os.write

    def full_write(fd: int, data: Any) -> int:
        if len(data) > 100:
            return real_write(fd, bytes(data[:100]))  # a short write, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full_fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, call, full_write if call == "write" else full_fsync)
    with pytest.raises(StoreError, match="ENOSPC") as info:
        store.save(make_state("t1", "new"))
    monkeypatch.undo()
    assert str(root / "t1.json") in str(info.value)
    assert "disk space" in str(info.value)
    _assert_intact(store, root, before)


def test_an_interrupted_save_leaves_nothing(
    store: ThreadStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(make_state("t1", "old"))
    before = all_bytes(root)

    def interrupted(fd: int, data: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save(make_state("t1", "new"))
    monkeypatch.undo()
    _assert_intact(store, root, before)


# -- symbolic links -------------------------------------------------------------------------


@POSIX_ONLY
@pytest.mark.parametrize("dangling", [False, True])
def test_symlinked_thread_file_is_refused(
    store: ThreadStore, root: Path, tmp_path: Path, dangling: bool
) -> None:
    store.save(make_state("other", "a"))  # creates the root
    victim = tmp_path / "victim.json"
    if not dangling:
        victim.write_text(eo.dumps(make_state("t1", "victim")))
    link = store.path_for("t1")
    link.symlink_to(victim)
    for action, call in (
        ("save", lambda: store.save(make_state("t1", "new"))),
        ("load", lambda: store.load("t1")),
        ("delete", lambda: store.delete("t1")),
    ):
        with pytest.raises(StoreError, match="symbolic link") as info:
            call()
        assert not isinstance(info.value, CorruptStateError), action
        assert str(link) in str(info.value)
        assert link.is_symlink()
    if dangling:
        assert not victim.exists()
    else:
        assert victim.read_text() == eo.dumps(make_state("t1", "victim"))
    assert not list(root.glob("*corrupt*"))


@POSIX_ONLY
def test_symlinked_lock_file_is_refused(store: ThreadStore, root: Path, tmp_path: Path) -> None:
    store.save(make_state("other", "a"))
    victim = tmp_path / "victim"
    lock = root / "t1.json.lock"
    lock.symlink_to(victim)
    with pytest.raises(StoreError, match=r"ELOOP") as info:
        store.save(make_state("t1", "a"))
    assert str(lock) in str(info.value)
    assert not victim.exists()
    assert not store.path_for("t1").exists()


# -- concurrency ----------------------------------------------------------------------------

CHILD_PRELUDE = (
    "import json, os, sys, time\n"
    "import envoverlay as eo\n"
    "from envoverlay.store import ThreadStore\n" + inspect.getsource(make_state)
)

WRITER = CHILD_PRELUDE + textwrap.dedent(
    """
    root, writer, saves = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = ThreadStore(root)
    states = [make_state("shared", f"w{writer}-i{i}") for i in range(saves)]
    while not os.path.exists(os.path.join(root, "..", "go")):
        time.sleep(0.001)
    for state in states:
        store.save(state)
    """
)

READER = CHILD_PRELUDE + textwrap.dedent(
    """
    root = sys.argv[1]
    store = ThreadStore(root)
    seen, loads, bad = set(), 0, []
    stop = os.path.join(root, "..", "stop")
    while True:
        done = os.path.exists(stop)
        try:
            state = store.load("shared")
            if state != make_state("shared", state.session_id):
                bad.append(f"mixed state {state.session_id}")
            seen.add(state.session_id)
            # Without the lock too (as any other reader would): the rename is atomic.
            with open(store.path_for("shared"), "rb") as file:
                raw = eo.loads(file.read())
            if raw != make_state("shared", raw.session_id):
                bad.append(f"mixed unlocked read {raw.session_id}")
            seen.add(raw.session_id)
        except Exception as exc:
            bad.append(f"{type(exc).__name__}: {exc}")
        loads += 1
        if done:
            break
    print(json.dumps({"loads": loads, "distinct": len(seen), "bad": bad[:5]}))
    """
)


def _child_env() -> dict[str, str]:
    """The environment of a child Python: it imports envoverlay and this module."""
    path = os.pathsep.join(filter(None, [str(TESTS), str(ROOT), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


@pytest.mark.slow  # waits out a timeout or kills processes: seconds, run by .ci/run
def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    writers, saves = 8, 50
    root = tmp_path / "store"
    store = ThreadStore(root)
    store.save(make_state("shared", "init"))
    env = _child_env()
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(root)], env=env, stdout=subprocess.PIPE, text=True
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(w), str(saves)], env=env)
        for w in range(writers)
    ]
    time.sleep(0.2)
    (tmp_path / "go").touch()  # the writers start together, once imported
    try:
        assert [p.wait(timeout=120) for p in procs] == [0] * writers
    finally:
        (tmp_path / "stop").touch()
        out, _ = reader.communicate(timeout=60)
    assert reader.returncode == 0
    report = json.loads(out)
    print(
        f"\n{writers} writers x {saves} saves of one thread; "
        f"reader: {report['loads']} loads, {report['distinct']} distinct states"
    )
    assert report["bad"] == []
    assert report["loads"] > 1
    final = store.load("shared")
    assert final == make_state("shared", final.session_id)
    assert final.session_id.endswith(f"-i{saves - 1}")  # the last save of some writer
    assert sorted(p.name for p in root.iterdir()) == ["shared.json", "shared.json.lock"]


def test_threads_of_one_process_share_the_lock(tmp_path: Path) -> None:
    store = ThreadStore(tmp_path / "store")

    def work(n: int) -> None:
        for i in range(30):
            store.save(make_state("t", f"n{n}-{i}", width=5))
            try:
                state = store.load("t")
                assert state == make_state("t", state.session_id, width=5)
            except ThreadNotFoundError:
                pass
            if i % 7 == n % 7:
                store.delete("t")

    assert run_threads(work, 4) == []
    assert temps(tmp_path / "store") == []


# -- crash safety ---------------------------------------------------------------------------


@pytest.mark.slow  # waits out a timeout or kills processes: seconds, run by .ci/run
@POSIX_ONLY
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_during_save_leaves_old_or_new(tmp_path: Path) -> None:
    trials = int(os.environ.get("ENVOVERLAY_KILL_TRIALS", "50"))
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    root = tmp_path / "store"
    store = ThreadStore(root)
    store.save(make_state("k", "init", width=200))
    # States are built before forking so that the child spends its time saving.
    states = [make_state("k", f"c{t}-i{i}", width=200) for t in range(3) for i in range(20)]
    left_temps = changed = 0
    for trial in range(trials):
        before = store.load("k")
        status = kill_a_saving_writer(root, states, rng.uniform(0, 0.05))
        assert os.WIFSIGNALED(status), f"trial {trial}, seed {seed}"
        left_temps += bool(temps(root))
        assert store.list_threads() == ["k"], f"trial {trial}, seed {seed}"
        after = store.load("k")
        assert after == make_state("k", after.session_id, width=200), f"seed {seed}"
        changed += after != before
    assert store.save(make_state("k", "final", width=200))
    assert temps(root) == []
    print(
        f"\nSIGKILL trials: {trials} run, {trials} survived (seed {seed}); "
        f"{left_temps} left a temp file, {changed} changed the state"
    )


def test_a_file_from_a_newer_envoverlay_is_left_in_place(store: ThreadStore) -> None:
    store.save(make_state("t1", "a"))
    path = store.path_for("t1")
    newer = json.loads(path.read_text())
    newer["version"] = 2
    newer["feature_of_the_future"] = True
    path.write_text(json.dumps(newer))
    before = path.read_bytes()
    with pytest.raises(eo.NewerStateError, match="newer envoverlay") as info:
        store.load("t1")
    assert not isinstance(info.value, CorruptStateError)
    assert isinstance(info.value, StoreError)
    assert isinstance(info.value.__cause__, eo.NewerVersionError)
    assert (info.value.version, info.value.thread_id, info.value.path) == (2, "t1", path)
    again = pickle.loads(pickle.dumps(info.value))
    assert (type(again), again.version, str(again)) == (eo.NewerStateError, 2, str(info.value))
    assert pickle.loads(pickle.dumps(info.value.__cause__)).version == 2
    with pytest.raises(eo.NewerStateError, match="will not overwrite it") as saving:
        store.save(make_state("t1", "b"))
    assert saving.value.version == 2
    assert path.read_bytes() == before
    assert store.list_threads() == ["t1"]


# == Fault injection ===========================================================================
# The campaigns of the store's crash safety: SIGKILL at random points (hundreds of trials, run
# by two worker processes at once, each forking writers that save several threads in a tight
# loop and killing them after 0-20 ms); a full disk (a real 64 KiB tmpfs when this process may
# mount one, with CAP_SYS_ADMIN, else an injected ENOSPC after the same number of bytes); a
# read-only directory (the same tmpfs remounted read-only, else an injected EROFS); concurrent
# writers, processes and threads saving their own threads and a shared one, some killed on the
# way. After each fault every thread file loads to a complete old or new state, no thread file
# is lost and no temp file is left once the next save has run. Figures are printed (run with
# ``-s``); ``ENVOVERLAY_FAULT_TRIALS=2000`` runs more SIGKILL trials.

FORK_ONLY = pytest.mark.skipif(
    os.name != "posix" or not hasattr(os, "fork"), reason="fork, SIGKILL and flock"
)
FAULT_TRIALS = int(os.environ.get("ENVOVERLAY_FAULT_TRIALS", "400"))


def fault_state(thread_id: str, tag: str, width: int = 60) -> eo.ThreadState:
    """A state whose every value carries ``tag``, with the Codex runtime template: a torn or
    mixed file cannot equal it."""
    overlay: dict[str, object] = {f"V{k:03d}": f"{tag}:{k}:" + "x" * 40 for k in range(width)}
    overlay["PATH"] = {"prepend": [f"/{tag}/bin"]}
    return eo.ThreadState.new(
        thread_id=thread_id,
        session_id=tag,
        layers=[eo.Layer.from_overlay(overlay, kind="hook", id=f"hook-{tag}")],
        runtime=eo.CODEX_RUNTIME,
    )


def complete(store: ThreadStore, thread_id: str, width: int = 60) -> eo.ThreadState:
    """The stored state of ``thread_id``, asserting it is whole: exactly a state some writer
    built (the session id names the one)."""
    state = store.load(thread_id)
    assert state == fault_state(thread_id, state.session_id, width), state.session_id
    return state


# -- SIGKILL at random points ---------------------------------------------------------------------


def kill_worker(root: str, prefix: str, trials: int, seed: int) -> dict[str, Any]:
    """Run ``trials`` SIGKILL trials on threads ``<prefix>0..2`` (in a worker process).

    Each trial forks a writer that saves states of the three threads in a random order, in
    a loop, and kills it after 0-20 ms. Then every thread must load to a complete state —
    the one it had before or one the writer saved — and the thread list must hold every
    thread."""
    rng = random.Random(seed)
    store = ThreadStore(root)
    ids = [f"{prefix}{n}" for n in range(3)]
    # Built before any fork, so that the writers spend their time saving.
    pool = [fault_state(tid, f"{tid}-s{i}") for i in range(4) for tid in ids]
    known = {(s.thread_id, s.session_id): s for s in pool}
    for tid in ids:
        known[tid, f"{tid}-init"] = fault_state(tid, f"{tid}-init")
        store.save(known[tid, f"{tid}-init"])
    report: dict[str, Any] = {"trials": 0, "survived": 0, "temps_left": 0, "changed": 0}
    problems: list[str] = []
    before = {tid: f"{tid}-init" for tid in ids}
    for trial in range(trials):
        order = rng.sample(pool, len(pool))
        status = kill_a_saving_writer(root, order, rng.uniform(0, 0.02))
        report["trials"] += 1
        report["temps_left"] += bool([n for n in temps(Path(root)) if n.startswith(f".{prefix}")])
        try:
            listed = store.list_threads()
            missing = [tid for tid in ids if tid not in listed]
            assert not missing, f"lost {missing}"
            for tid in ids:
                state = store.load(tid)
                # whole: exactly the old state or one the writer saved, never a mix
                assert state == known.get((tid, state.session_id)), state.session_id
                report["changed"] += state.session_id != before[tid]
                before[tid] = state.session_id
            assert os.WIFSIGNALED(status), "the writer was not killed"
        except (AssertionError, eo.EnvOverlayError) as exc:
            problems.append(f"trial {trial} (seed {seed}): {type(exc).__name__}: {exc}")
            if len(problems) > 5:
                break
        else:
            report["survived"] += 1
    for tid in ids:  # the next save cleans what killed writers left
        store.save(fault_state(tid, f"{tid}-final"))
    report["temps_after_final_save"] = len(
        [n for n in temps(Path(root)) if n.startswith(f".{prefix}")]
    )
    report["problems"] = problems
    return report


@pytest.mark.slow
@FORK_ONLY
def test_sigkill_at_random_points(tmp_path: Path) -> None:
    root = tmp_path / "store"
    ThreadStore(root).save(fault_state("anchor", "anchor"))  # creates the root, 0700
    seed = random.randrange(1 << 30)
    started = time.monotonic()
    workers = []
    for index, prefix in enumerate(("a", "b")):  # two workers, one store directory
        code = (
            "import json, sys\n"
            "from unit.test_store import kill_worker\n"
            f"print(json.dumps(kill_worker({str(root)!r}, {prefix!r}, {FAULT_TRIALS // 2}, "
            f"{seed + index})))\n"
        )
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", code], env=_child_env(), stdout=subprocess.PIPE, text=True
            )
        )
    reports = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        reports.append(json.loads(out))
    elapsed = time.monotonic() - started
    trials = sum(r["trials"] for r in reports)
    survived = sum(r["survived"] for r in reports)
    print(
        f"\nSIGKILL trials: {trials} run, {survived} survived in {elapsed:.1f} s "
        f"(2 workers, seed {seed}); {sum(r['temps_left'] for r in reports)} left a temp file, "
        f"{sum(r['changed'] for r in reports)} thread files changed"
    )
    assert [p for r in reports for p in r["problems"]] == []
    assert trials >= 200
    assert survived == trials
    store = ThreadStore(root)
    assert store.list_threads() == ["a0", "a1", "a2", "anchor", "b0", "b1", "b2"]
    for tid in store.list_threads():
        complete(store, tid)
    assert [r["temps_after_final_save"] for r in reports] == [0, 0]
    assert temps(root) == []


# -- a small real file system ------------------------------------------------------------------


def _mount(args: list[str]) -> bool:
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    proc = subprocess.run(["mount", *args], capture_output=True, check=False)
    return proc.returncode == 0


def _unmount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True, check=False).returncode:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path | None]:
    """A 64 KiB tmpfs (None when this process may not mount one: tests then inject the
    error the file system would give)."""
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    if not _mount(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mountpoint)]):
        yield None
        return
    try:
        yield mountpoint
    finally:
        _unmount(mountpoint)


def _fill(directory: Path, leave_pages: int) -> Path:
    """Fill the file system of ``directory`` up, then free ``leave_pages`` 4 KiB pages."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        while True:
            try:
                os.write(fd, b"\0" * 4096)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    finally:
        os.close(fd)
    if leave_pages:
        size = filler.stat().st_size
        os.truncate(filler, max(0, size - leave_pages * 4096))
    return filler


class _InjectedDisk:
    """``os.write`` that accepts ``budget`` more bytes, then fails with ENOSPC."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.real = os.write

    def __call__(self, fd: int, data: Any) -> int:
        if self.budget <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        chunk = bytes(data[: self.budget])
        self.budget -= len(chunk)
        return self.real(fd, chunk)


@FORK_ONLY
@pytest.mark.parametrize("free_pages", [0, 1, 2, 3])
def test_disk_full_on_a_small_file_system(
    tmpfs: Path | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free_pages: int
) -> None:
    """A save on a full disk fails with ENOSPC naming the path; the old file is intact, a
    new thread gets no file, and no temp file is left. The new state is about four pages,
    so the write fails after 0, 1, 2 or 3 of them."""
    base = tmpfs if tmpfs is not None else tmp_path
    root = base / "store"
    store = ThreadStore(root)
    store.save(fault_state("t1", "old", width=2))
    old_bytes = store.path_for("t1").read_bytes()
    new = fault_state("t1", "new", width=100)
    assert 3 * 4096 < len(eo.dumps(new).encode()) < 4 * 4096
    if tmpfs is not None:
        filler = _fill(base, free_pages)
    else:
        monkeypatch.setattr(os, "write", _InjectedDisk(free_pages * 4096))
    for state in (new, fault_state("fresh", "new", width=100)):
        with pytest.raises(StoreError) as info:
            store.save(state)
        assert info.value.errno == errno.ENOSPC
        assert str(store.path_for(state.thread_id)) in str(info.value)
        assert "disk space" in str(info.value)
        assert temps(root) == []
    monkeypatch.undo()
    print(f"\ndisk full ({'real 64 KiB tmpfs' if tmpfs else 'injected ENOSPC'}), "
          f"{free_pages} page(s) free: refused, old file intact")  # fmt: skip
    assert store.path_for("t1").read_bytes() == old_bytes
    assert complete(store, "t1", width=2).session_id == "old"
    assert store.list_threads() == ["t1"]
    if tmpfs is not None:
        filler.unlink()
    store.save(new)  # space again: the save goes through
    assert complete(store, "t1", width=100).session_id == "new"
    assert temps(root) == []


# -- a read-only directory ---------------------------------------------------------------------


@pytest.fixture
def read_only(
    tmpfs: Path | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ThreadStore, Path, str]]:
    """A store with threads t1 and t2, then made read-only: the tmpfs remounted ``ro`` when
    possible, else ``EROFS`` injected where a write would see it."""
    base = tmpfs if tmpfs is not None else tmp_path
    store = ThreadStore(base / "store")
    store.save(fault_state("t1", "old"))
    store.save(fault_state("t2", "old"))
    if tmpfs is not None and _mount(["-o", "remount,ro", str(tmpfs)]):
        kind = "real read-only tmpfs"
    else:
        kind = "injected EROFS"
        real_open = os.open

        def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    try:
        yield store, base, kind
    finally:
        monkeypatch.undo()
        if tmpfs is not None:
            _mount(["-o", "remount,rw", str(tmpfs)])


@FORK_ONLY
def test_read_only_directory_refuses_saves(read_only: tuple[ThreadStore, Path, str]) -> None:
    store, base, kind = read_only
    before = {p.name: p.read_bytes() for p in (base / "store").iterdir()}
    for state in (fault_state("t1", "new"), fault_state("t3", "new")):
        with pytest.raises(StoreError) as info:
            store.save(state)
        assert info.value.errno == errno.EROFS
        assert "read-only" in str(info.value)
        assert str(store.root) in str(info.value)
    with pytest.raises(StoreError, match="read-only"):
        store.delete("t2")
    print(f"\nread-only directory ({kind}): saves and deletes refused")
    assert {p.name: p.read_bytes() for p in (base / "store").iterdir()} == before
    assert store.list_threads() == ["t1", "t2"]


@FORK_ONLY
def test_read_only_directory_still_loads(read_only: tuple[ThreadStore, Path, str]) -> None:
    """Found here: a load opened the lock file for writing, so nothing loaded from a
    read-only store (EROFS). Now it locks a read-only descriptor."""
    store, _, _ = read_only
    for tid in ("t1", "t2"):
        assert complete(store, tid).session_id == "old"


@FORK_ONLY
def test_store_recovers_once_writable(
    tmpfs: Path | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a read-only spell (real remount when possible) saves work again and every
    thread loads to its last complete state."""
    base = tmpfs if tmpfs is not None else tmp_path
    store = ThreadStore(base / "store")
    store.save(fault_state("t1", "old"))
    if tmpfs is not None and _mount(["-o", "remount,ro", str(tmpfs)]):
        with pytest.raises(StoreError):
            store.save(fault_state("t1", "new"))
        assert _mount(["-o", "remount,rw", str(tmpfs)])
    else:
        monkeypatch.setattr(
            os, "replace", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EROFS, "ro"))
        )
        with pytest.raises(StoreError):
            store.save(fault_state("t1", "new"))
        monkeypatch.undo()
    assert complete(store, "t1").session_id == "old"
    store.save(fault_state("t1", "new"))
    assert complete(store, "t1").session_id == "new"
    assert temps(base / "store") == []


# -- concurrent writers ------------------------------------------------------------------------


def concurrent_writer(root: str, writer: int, saves: int, go: str) -> None:
    """One writer process: two threads, each saving the process's own thread, a thread
    shared by every writer and (the second) its own per-thread id, in turns."""
    store = ThreadStore(root)
    while not os.path.exists(go):
        time.sleep(0.001)

    def work(lane: int) -> None:
        for i in range(saves):
            tag = f"w{writer}-l{lane}-i{i}"
            store.save(fault_state("shared", tag, width=20))
            store.save(fault_state(f"own{writer}", tag, width=20))
            if lane == 1:
                store.save(fault_state(f"own{writer}-lane1", tag, width=20))
            state = store.load("shared")
            assert state == fault_state("shared", state.session_id, width=20)

    # A lane's failure fails the process, so that the test sees it.
    assert run_threads(work, 2) == []


@pytest.mark.slow  # waits out a timeout or kills processes: seconds, run by .ci/run
@FORK_ONLY
def test_concurrent_writers_some_killed(tmp_path: Path) -> None:
    """Six writer processes (two threads each) on their own threads and a shared one; two
    are SIGKILLed on the way. The others finish (a killed lock holder does not block them),
    every thread file loads to a complete state some writer saved, none is lost."""
    root = tmp_path / "store"
    ThreadStore(root).save(fault_state("shared", "init", width=20))
    go = tmp_path / "go"
    writers, saves = 6, 25
    procs = []
    for writer in range(writers):
        code = (
            "from unit.test_store import concurrent_writer\n"
            f"concurrent_writer({str(root)!r}, {writer}, {saves}, {str(go)!r})\n"
        )
        procs.append(subprocess.Popen([sys.executable, "-c", code], env=_child_env()))
    time.sleep(0.3)
    go.touch()
    time.sleep(0.15)
    killed = [0, 3]
    for index in killed:
        procs[index].send_signal(signal.SIGKILL)
    codes = [proc.wait(timeout=120) for proc in procs]
    for index, code in enumerate(codes):
        if index in killed:
            assert code in (0, -signal.SIGKILL)
        else:
            assert code == 0, f"writer {index} failed"
    store = ThreadStore(root)
    listed = store.list_threads()
    survivors = [w for w in range(writers) if w not in killed]
    assert "shared" in listed
    for writer in survivors:
        assert f"own{writer}" in listed
        assert f"own{writer}-lane1" in listed
        final = complete(store, f"own{writer}-lane1", width=20)
        assert final.session_id == f"w{writer}-l1-i{saves - 1}"
    for tid in listed:
        state = complete(store, tid, width=20)
        if tid.startswith("own"):
            assert state.session_id.startswith(f"w{tid[3:].split('-')[0]}-")
    store.save(fault_state("shared", "after", width=20))  # cleans what killed writers left
    assert temps(root) == []
    print(
        f"\n{writers} writer processes x 2 threads, {len(killed)} killed: "
        f"{len(listed)} thread files, all complete"
    )


@FORK_ONLY
def test_same_thread_writers_in_one_process(tmp_path: Path) -> None:
    """Eight threads of one process save the same thread and other threads with one
    store object each and a shared one; every save is whole and nothing is lost."""
    root = tmp_path / "store"
    shared_store = ThreadStore(root)

    def work(n: int) -> None:
        own = ThreadStore(root)
        for i in range(15):
            (own if i % 2 else shared_store).save(fault_state("same", f"n{n}-i{i}", width=10))
            own.save(fault_state(f"t{n}", f"n{n}-i{i}", width=10))

    assert run_threads(work, 8) == []
    assert shared_store.list_threads() == sorted(["same", *(f"t{n}" for n in range(8))])
    complete(shared_store, "same", width=10)
    for n in range(8):
        assert complete(shared_store, f"t{n}", width=10).session_id == f"n{n}-i14"
    assert temps(root) == []
