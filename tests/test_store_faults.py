"""Fault injection for the thread store, complementing tests/test_store.py.

* SIGKILL at random points: hundreds of trials, run by two worker processes at once, each
  forking writers that save several threads in a tight loop and killing them after 0-20 ms;
* a full disk: a real 64 KiB tmpfs when this process may mount one (root with
  CAP_SYS_ADMIN), else an injected ``ENOSPC`` after the same number of bytes;
* a read-only directory: the same tmpfs remounted read-only, else an injected ``EROFS``;
* concurrent writers: processes and threads saving their own threads and a shared one,
  some of them killed on the way.

After each fault every thread file loads to a complete old or new state, no thread file is
lost and no temp file is left once the next save has run. Figures are printed (run with
``-s``); ``ENVOVERLAY_FAULT_TRIALS=2000`` runs more SIGKILL trials.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import envoverlay as eo
from envoverlay.store import StoreError, ThreadStore

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
POSIX_ONLY = pytest.mark.skipif(
    os.name != "posix" or not hasattr(os, "fork"), reason="fork, SIGKILL and flock"
)
TRIALS = int(os.environ.get("ENVOVERLAY_FAULT_TRIALS", "400"))


def make_state(thread_id: str, tag: str, width: int = 60) -> eo.ThreadState:
    """A state whose every value carries ``tag``: a torn or mixed file cannot equal it."""
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
    assert state == make_state(thread_id, state.session_id, width), state.session_id
    return state


def temps(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".tmp"))


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(TESTS), str(ROOT), env.get("PYTHONPATH")])
    )
    return env


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
    pool = [make_state(tid, f"{tid}-s{i}") for i in range(4) for tid in ids]
    known = {(s.thread_id, s.session_id): s for s in pool}
    for tid in ids:
        known[tid, f"{tid}-init"] = make_state(tid, f"{tid}-init")
        store.save(known[tid, f"{tid}-init"])
    report: dict[str, Any] = {"trials": 0, "survived": 0, "temps_left": 0, "changed": 0}
    problems: list[str] = []
    before = {tid: f"{tid}-init" for tid in ids}
    for trial in range(trials):
        order = rng.sample(pool, len(pool))
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                child = ThreadStore(root)
                while True:
                    for state in order:
                        child.save(state)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0, 0.02))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
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
        store.save(make_state(tid, f"{tid}-final"))
    report["temps_after_final_save"] = len(
        [n for n in temps(Path(root)) if n.startswith(f".{prefix}")]
    )
    report["problems"] = problems
    return report


@pytest.mark.slow
@POSIX_ONLY
def test_sigkill_at_random_points(tmp_path: Path) -> None:
    root = tmp_path / "store"
    ThreadStore(root).save(make_state("anchor", "anchor"))  # creates the root, 0700
    seed = random.randrange(1 << 30)
    started = time.monotonic()
    workers = []
    for index, prefix in enumerate(("a", "b")):  # two workers, one store directory
        code = (
            "import json, sys\n"
            "from test_store_faults import kill_worker\n"
            f"print(json.dumps(kill_worker({str(root)!r}, {prefix!r}, {TRIALS // 2}, "
            f"{seed + index})))\n"
        )
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", code], env=child_env(), stdout=subprocess.PIPE, text=True
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
    assert elapsed < 60


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


@POSIX_ONLY
@pytest.mark.parametrize("free_pages", [0, 1, 2, 3])
def test_disk_full(
    tmpfs: Path | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free_pages: int
) -> None:
    """A save on a full disk fails with ENOSPC naming the path; the old file is intact, a
    new thread gets no file, and no temp file is left. The new state is about four pages,
    so the write fails after 0, 1, 2 or 3 of them."""
    base = tmpfs if tmpfs is not None else tmp_path
    root = base / "store"
    store = ThreadStore(root)
    store.save(make_state("t1", "old", width=2))
    old_bytes = store.path_for("t1").read_bytes()
    new = make_state("t1", "new", width=100)
    assert 3 * 4096 < len(eo.dumps(new).encode()) < 4 * 4096
    if tmpfs is not None:
        filler = _fill(base, free_pages)
    else:
        monkeypatch.setattr(os, "write", _InjectedDisk(free_pages * 4096))
    for state in (new, make_state("fresh", "new", width=100)):
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
    store.save(make_state("t1", "old"))
    store.save(make_state("t2", "old"))
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


@POSIX_ONLY
def test_read_only_directory_refuses_saves(read_only: tuple[ThreadStore, Path, str]) -> None:
    store, base, kind = read_only
    before = {p.name: p.read_bytes() for p in (base / "store").iterdir()}
    for state in (make_state("t1", "new"), make_state("t3", "new")):
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


@POSIX_ONLY
def test_read_only_directory_still_loads(read_only: tuple[ThreadStore, Path, str]) -> None:
    """Found here: a load opened the lock file for writing, so nothing loaded from a
    read-only store (EROFS). Now it locks a read-only descriptor."""
    store, _, _ = read_only
    for tid in ("t1", "t2"):
        assert complete(store, tid).session_id == "old"


@POSIX_ONLY
def test_store_recovers_once_writable(
    tmpfs: Path | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a read-only spell (real remount when possible) saves work again and every
    thread loads to its last complete state."""
    base = tmpfs if tmpfs is not None else tmp_path
    store = ThreadStore(base / "store")
    store.save(make_state("t1", "old"))
    if tmpfs is not None and _mount(["-o", "remount,ro", str(tmpfs)]):
        with pytest.raises(StoreError):
            store.save(make_state("t1", "new"))
        assert _mount(["-o", "remount,rw", str(tmpfs)])
    else:
        monkeypatch.setattr(
            os, "replace", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EROFS, "ro"))
        )
        with pytest.raises(StoreError):
            store.save(make_state("t1", "new"))
        monkeypatch.undo()
    assert complete(store, "t1").session_id == "old"
    store.save(make_state("t1", "new"))
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
            store.save(make_state("shared", tag, width=20))
            store.save(make_state(f"own{writer}", tag, width=20))
            if lane == 1:
                store.save(make_state(f"own{writer}-lane1", tag, width=20))
            state = store.load("shared")
            assert state == make_state("shared", state.session_id, width=20)

    lanes = [threading.Thread(target=work, args=(lane,)) for lane in (0, 1)]
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join()


@POSIX_ONLY
def test_concurrent_writers_some_killed(tmp_path: Path) -> None:
    """Six writer processes (two threads each) on their own threads and a shared one; two
    are SIGKILLed on the way. The others finish (a killed lock holder does not block them),
    every thread file loads to a complete state some writer saved, none is lost."""
    root = tmp_path / "store"
    ThreadStore(root).save(make_state("shared", "init", width=20))
    go = tmp_path / "go"
    writers, saves = 6, 25
    procs = []
    for writer in range(writers):
        code = (
            "from test_store_faults import concurrent_writer\n"
            f"concurrent_writer({str(root)!r}, {writer}, {saves}, {str(go)!r})\n"
        )
        procs.append(subprocess.Popen([sys.executable, "-c", code], env=child_env()))
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
    store.save(make_state("shared", "after", width=20))  # cleans what killed writers left
    assert temps(root) == []
    print(
        f"\n{writers} writer processes x 2 threads, {len(killed)} killed: "
        f"{len(listed)} thread files, all complete"
    )


@POSIX_ONLY
def test_same_thread_writers_in_one_process(tmp_path: Path) -> None:
    """Eight threads of one process save the same thread and other threads with one
    store object each and a shared one; every save is whole and nothing is lost."""
    root = tmp_path / "store"
    shared_store = ThreadStore(root)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        own = ThreadStore(root)
        try:
            for i in range(15):
                (own if i % 2 else shared_store).save(make_state("same", f"n{n}-i{i}", width=10))
                own.save(make_state(f"t{n}", f"n{n}-i{i}", width=10))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert shared_store.list_threads() == sorted(["same", *(f"t{n}" for n in range(8))])
    complete(shared_store, "same", width=10)
    for n in range(8):
        assert complete(shared_store, f"t{n}", width=10).session_id == f"n{n}-i14"
    assert temps(root) == []
