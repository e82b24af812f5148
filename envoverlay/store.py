"""The per-thread store: one crash-safe JSON file per thread (SPEC §5).

This is the imperative edge of the library. Everything else is pure; here are files, locks
and ``fsync``. The guarantees, the file layout and the failure behaviour are described in
``docs/store.md``; in short:

* a save is atomic: a reader (or a crash) sees the old file or the new one, never a mix;
* writers of one thread are serialized by a lock; loads take the same lock;
* files are created 0600 and directories 0700 whatever the umask;
* a file that does not load is moved aside, never overwritten, deleted or silently reset;
* links are never followed for the thread file, its temp files or its lock file.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .errors import (
    ArgumentTypeError,
    CorruptStateError,
    EnvOverlayError,
    NewerStateError,
    StoreError,
    ThreadNotFoundError,
)

if TYPE_CHECKING:
    from .lifecycle import ThreadState

if sys.platform == "win32":  # pragma: no cover - not tested here
    import msvcrt
else:
    import fcntl

__all__ = [
    "CorruptStateError",
    "NewerStateError",
    "StoreError",
    "ThreadNotFoundError",
    "ThreadStore",
]

#: File name suffix of a thread file.
SUFFIX: Final = ".json"
#: Suffix of the lock file next to a thread file (``<name>.lock``).
LOCK_SUFFIX: Final = ".lock"
#: Infix of a moved-aside corrupt file (``<name>.corrupt-<UTC timestamp>[-<n>]``).
CORRUPT_INFIX: Final = ".corrupt-"
#: The longest encoded thread id, in bytes. Leaves room for the temp, lock and corrupt
#: names derived from it under the common 255-byte limit on one path component.
MAX_ENCODED_ID: Final = 200

_SAFE: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_HEX: Final = frozenset("0123456789ABCDEF")
# Names Windows reserves whatever their extension; a thread file must never be one.
_RESERVED: Final = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(10)] + [f"lpt{i}" for i in range(10)]
)
# A temp file is ``.<name>~<random>.tmp``: encoded names never start with "." and never
# contain "~", so the prefix ``.<name>~`` belongs to exactly one thread.
_TEMP_SEP: Final = "~"
_TEMP_SUFFIX: Final = ".tmp"

_POSIX: Final = os.name == "posix"
_O_NOFOLLOW: Final[int] = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC: Final[int] = getattr(os, "O_CLOEXEC", 0)
_O_BINARY: Final[int] = getattr(os, "O_BINARY", 0)
_O_NONBLOCK: Final[int] = getattr(os, "O_NONBLOCK", 0)
_O_DIRECTORY: Final[int] = getattr(os, "O_DIRECTORY", 0)

_HINTS: Final[dict[int, str]] = {
    _errno.ENOSPC: "free some disk space",
    _errno.EDQUOT: "free some space under your disk quota",
    _errno.EACCES: "check the permissions of the store directory",
    _errno.EPERM: "check the permissions of the store directory",
    _errno.EROFS: "the file system is read-only; pass root= on a writable one",
    _errno.ELOOP: "a symbolic link is in the way; the store never follows links",
}


def _open_lock(lock: Path, thread_id: str) -> int | None:
    """A descriptor of the thread's lock file, created if needed. On a read-only store an
    existing lock file is opened read-only (flock works on it); None when there is none and
    none can be made."""
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY, 0o600)
    except OSError as exc:
        if exc.errno not in (_errno.EROFS, _errno.EACCES, _errno.EPERM):
            raise _os_error(f"cannot lock thread {thread_id!r}", lock, exc, thread_id) from exc
        try:
            return os.open(lock, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY)
        except FileNotFoundError:
            return None
        except OSError:
            raise _os_error(f"cannot lock thread {thread_id!r}", lock, exc, thread_id) from exc


# -- thread id <-> file name ------------------------------------------------------------


def encode_thread_id(thread_id: str) -> str:
    """The file name stem of a thread: its UTF-8 bytes with every byte outside
    ``[a-z0-9._-]`` written ``%XX`` (upper-case hex), and a leading ``.`` escaped too.

    Upper-case letters are escaped so that two ids never map to names that differ only in
    case (macOS and Windows file systems fold case); a stem that Windows reserves (``con``,
    ``nul``, ``com1``...) gets its first letter escaped. The mapping is injective and
    :func:`decode_file_name` reverses it."""
    if not isinstance(thread_id, str):
        raise ArgumentTypeError(f"a thread id must be a string, not {type(thread_id).__name__}")
    out: list[str] = []
    for index, byte in enumerate(thread_id.encode("utf-8", "surrogatepass")):
        char = chr(byte)
        if char in _SAFE and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.append(f"%{byte:02X}")
    stem = "".join(out)
    if stem.split(".", 1)[0] in _RESERVED:
        stem = f"%{ord(stem[0]):02X}{stem[1:]}"
    return stem


def decode_file_name(name: str) -> str | None:
    """The thread id a file name stands for, or None when ``name`` is not a thread file
    written by this store (temp, lock and corrupt files, anything else)."""
    if not name.endswith(SUFFIX) or name.startswith("."):
        return None
    stem = name[: -len(SUFFIX)]
    raw = bytearray()
    index = 0
    while index < len(stem):
        char = stem[index]
        if char == "%":
            digits = stem[index + 1 : index + 3]
            if len(digits) != 2 or not set(digits) <= _HEX:
                return None
            raw.append(int(digits, 16))
            index += 3
        elif char in _SAFE:
            raw.append(ord(char))
            index += 1
        else:
            return None
    try:
        thread_id = raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None
    if not thread_id or encode_thread_id(thread_id) != stem:
        return None  # not the canonical name of any id
    return thread_id


# -- OS helpers ---------------------------------------------------------------------------


def _reason(exc: OSError) -> str:
    code = _errno.errorcode.get(exc.errno or 0)
    text = exc.strerror or str(exc)
    reason = f"{text} ({code})" if code else text
    hint = _HINTS.get(exc.errno or 0)
    return f"{reason}; {hint}" if hint else reason


def _os_error(what: str, path: Path, exc: OSError, thread_id: str | None = None) -> StoreError:
    return StoreError(
        f"{what}: {path}: {_reason(exc)}", path=path, thread_id=thread_id, errno=exc.errno
    )


def _cannot_move_aside(thread_id: str, path: Path, exc: OSError) -> StoreError:
    what = f"thread {thread_id!r} is corrupt and could not be moved aside"
    return _os_error(what, path, exc, thread_id)


def _save_error(thread_id: str, path: Path, step: str, temp: Path, exc: OSError) -> StoreError:
    return StoreError(
        f"cannot save thread {thread_id!r} to {path}: {step} {temp.name} failed: "
        f"{_reason(exc)}; the previous file (if any) is unchanged",
        path=path,
        thread_id=thread_id,
        errno=exc.errno,
    )


def _fsync_file(fd: int) -> None:
    if sys.platform == "darwin":  # pragma: no cover - fsync does not reach the disk there
        try:
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
        except OSError:
            os.fsync(fd)
        else:
            return
    else:
        os.fsync(fd)


def _fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (POSIX; a no-op elsewhere)."""
    if not _POSIX:  # pragma: no cover
        return
    fd = os.open(directory, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems cannot fsync a directory; nothing more can be done there.
        if exc.errno not in (_errno.EINVAL, _errno.ENOTSUP, _errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


# -- the store ----------------------------------------------------------------------------


class ThreadStore:
    """One JSON file per thread under ``root``.

    ``root`` defaults to ``platformdirs.user_state_path("envoverlay")``. Nothing
    touches the disk until the first call; :meth:`save` creates missing directories (0700).
    ``include_secrets=True`` writes secret values in clear (the file is still 0600);
    by default they are stored as redacted markers and reported missing on resume.

    Every method takes the thread's lock where it reads or changes its file, so it is safe
    to use one store from many threads and processes at once.
    """

    def __init__(
        self, root: str | os.PathLike[str] | None = None, *, include_secrets: bool = False
    ) -> None:
        if root is None:
            import platformdirs

            root = platformdirs.user_state_path("envoverlay")
        self._root = Path(root)
        self._include_secrets = bool(include_secrets)

    @property
    def root(self) -> Path:
        """The directory holding the thread files."""
        return self._root

    @property
    def include_secrets(self) -> bool:
        """Whether :meth:`save` writes secret values in clear."""
        return self._include_secrets

    def __repr__(self) -> str:
        return f"ThreadStore({str(self._root)!r}, include_secrets={self._include_secrets})"

    # -- public API -----------------------------------------------------------------------

    def path_for(self, thread_id: str) -> Path:
        """The file that holds ``thread_id`` (whether or not it exists)."""
        return self._root / (self._stem(thread_id) + SUFFIX)

    def save(self, state: ThreadState) -> Path:
        """Write ``state`` to its thread's file atomically and durably; return the path.

        On any failure the previous file is untouched, no temp file is left behind and a
        :class:`StoreError` names the path and the OS reason."""
        from .serialize import dumps

        thread_id = state.thread_id
        path = self.path_for(thread_id)
        data = dumps(state, include_secrets=self._include_secrets).encode("utf-8")
        self._ensure_root(create=True)
        with self._locked(thread_id, path):
            self._remove_temps(path)
            self._refuse_link(path, thread_id, "save")
            self._refuse_newer(thread_id, path)
            temp = path.with_name(f".{path.name}{_TEMP_SEP}{secrets.token_hex(8)}{_TEMP_SUFFIX}")
            try:
                fd = os.open(
                    temp,
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY,
                    0o600,
                )
            except OSError as exc:
                raise _save_error(thread_id, path, "creating the temp file", temp, exc) from exc
            step = "writing"
            try:
                try:
                    if _POSIX:
                        os.fchmod(fd, 0o600)  # whatever the umask
                    _write_all(fd, data)
                    step = "flushing (fsync)"
                    _fsync_file(fd)
                finally:
                    os.close(fd)
                step = "renaming"
                os.replace(temp, path)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise _save_error(thread_id, path, f"{step} the temp file", temp, exc) from exc
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
            try:
                _fsync_dir(self._root)
            except OSError as exc:
                raise _os_error(
                    f"thread {thread_id!r} was replaced but the directory could not be "
                    "synced, so the change may not survive a power loss",
                    self._root,
                    exc,
                    thread_id,
                ) from exc
        return path

    def load(self, thread_id: str) -> ThreadState:
        """The stored state of ``thread_id``.

        Raises :class:`ThreadNotFoundError` when there is none, :class:`CorruptStateError`
        (after moving the file aside) when its file does not load, and :class:`StoreError`
        when it cannot be read or is a symbolic link."""
        path = self.path_for(thread_id)
        if not self._ensure_root(create=False) or not os.path.lexists(path):
            raise self._not_found(thread_id, path)
        with self._locked(thread_id, path):
            data = self._read(thread_id, path)
            state, reason = self._parse(thread_id, data)
            if state is not None:
                return state
            moved_to = self._move_aside(thread_id, path)
        raise CorruptStateError(
            f"the file of thread {thread_id!r}, {path}, does not hold a valid thread state; "
            f"it was moved aside to {moved_to} (kept for inspection; the next save writes "
            f"a fresh file). Reason: {reason}",
            path=path,
            moved_to=moved_to,
            thread_id=thread_id,
            reason=reason,
        )

    def exists(self, thread_id: str) -> bool:
        """Whether a file is stored for ``thread_id`` (it may still fail to load)."""
        path = self.path_for(thread_id)
        if not self._ensure_root(create=False):
            return False
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise _os_error(f"cannot check thread {thread_id!r}", path, exc, thread_id) from exc
        return not stat.S_ISDIR(mode)

    def list_threads(self) -> list[str]:
        """The ids of the stored threads, sorted. Temp, lock and moved-aside corrupt files
        (and anything else not named like a thread file) are ignored."""
        if not self._ensure_root(create=False):
            return []
        found: list[str] = []
        try:
            with os.scandir(self._root) as entries:
                for entry in entries:
                    thread_id = decode_file_name(entry.name)
                    if thread_id is None:
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            continue
                    except OSError:
                        continue
                    found.append(thread_id)
        except OSError as exc:
            raise _os_error("cannot list the stored threads", self._root, exc) from exc
        return sorted(found)

    def delete(self, thread_id: str) -> bool:
        """Remove the file of ``thread_id`` (and its leftover temp files). Returns whether
        there was one. Moved-aside corrupt copies are kept."""
        path = self.path_for(thread_id)
        if not self._ensure_root(create=False):
            return False
        with self._locked(thread_id, path, remove_lock=True):
            self._remove_temps(path)
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise _os_error(
                    f"cannot delete thread {thread_id!r}", path, exc, thread_id
                ) from exc
            if stat.S_ISLNK(mode) or not stat.S_ISREG(mode):
                raise StoreError(
                    f"cannot delete thread {thread_id!r}: {path} is "
                    f"{'a symbolic link' if stat.S_ISLNK(mode) else 'not a regular file'}; "
                    "the store only removes files it wrote; remove it by hand",
                    path=path,
                    thread_id=thread_id,
                )
            try:
                os.unlink(path)
                _fsync_dir(self._root)
            except OSError as exc:
                raise _os_error(
                    f"cannot delete thread {thread_id!r}", path, exc, thread_id
                ) from exc
        return True

    # -- internals ------------------------------------------------------------------------

    def _stem(self, thread_id: str) -> str:
        if not isinstance(thread_id, str):
            raise ArgumentTypeError(f"a thread id must be a string, not {type(thread_id).__name__}")
        if not thread_id:
            raise StoreError("a thread id must be a non-empty string", thread_id=thread_id)
        stem = encode_thread_id(thread_id)
        if len(stem) > MAX_ENCODED_ID:
            raise StoreError(
                f"thread id {thread_id[:40]!r}... is too long to be a file name: it encodes "
                f"to {len(stem)} bytes, the store allows {MAX_ENCODED_ID} "
                "(each byte outside [a-z0-9._-] takes 3)",
                thread_id=thread_id,
            )
        return stem

    def _not_found(self, thread_id: str, path: Path) -> ThreadNotFoundError:
        return ThreadNotFoundError(
            f"no stored state for thread {thread_id!r} (no file {path})",
            path=path,
            thread_id=thread_id,
        )

    def _ensure_root(self, *, create: bool) -> bool:
        """Check the root (and create it, with its missing parents, when ``create``).
        Returns whether it exists. Raises StoreError for a root that is not a private
        directory of the current user."""
        root = self._root
        try:
            info = os.stat(root)  # a symlinked root is followed; its target is checked
        except FileNotFoundError:
            if not create:
                return False
            self._make_dirs(root)
            try:
                info = os.stat(root)
            except OSError as exc:
                raise _os_error("cannot use the store directory", root, exc) from exc
        except OSError as exc:
            raise _os_error("cannot use the store directory", root, exc) from exc
        if not stat.S_ISDIR(info.st_mode):
            raise StoreError(
                f"the store directory {root} is not a directory; pass another root=",
                path=root,
            )
        if _POSIX:
            if info.st_uid != os.geteuid():
                raise StoreError(
                    f"the store directory {root} belongs to user id {info.st_uid}, not to "
                    f"the current user ({os.geteuid()}); thread files must stay private; "
                    "pass a root= of your own",
                    path=root,
                )
            if info.st_mode & 0o077:
                raise StoreError(
                    f"the store directory {root} is accessible to other users (mode "
                    f"{stat.S_IMODE(info.st_mode):04o}); thread ids and files must stay "
                    f"private: run `chmod 700 {root}` or pass another root=",
                    path=root,
                )
        return True

    def _make_dirs(self, root: Path) -> None:
        missing: list[Path] = []
        current = root
        while not os.path.lexists(current):
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
        for directory in reversed(missing):
            try:
                os.mkdir(directory, 0o700)
            except FileExistsError:
                continue  # created meanwhile by someone else: checked like any existing root
            except OSError as exc:
                raise _os_error("cannot create the store directory", directory, exc) from exc
            try:
                if _POSIX:
                    os.chmod(directory, 0o700)  # only directories this store created
            except OSError as exc:
                raise _os_error("cannot set the mode of", directory, exc) from exc

    @contextlib.contextmanager
    def _locked(self, thread_id: str, path: Path, *, remove_lock: bool = False) -> Iterator[None]:
        """Hold the exclusive lock of one thread. The lock file is ``<name>.lock``; it is
        removed again when ``remove_lock`` (on delete), which is why acquiring checks that
        the locked file is still the one at the lock path."""
        lock = path.with_name(path.name + LOCK_SUFFIX)
        while True:
            fd = _open_lock(lock, thread_id)
            if fd is None:
                # A read-only store without a lock file: nobody can write here, so there is
                # no writer to exclude (a save fails on its own, with the reason).
                yield
                return
            try:
                _lock_fd(fd)
                if not _POSIX:  # pragma: no cover - the lock file is never removed there
                    break
                info = os.fstat(fd)
                try:
                    current = os.lstat(lock)
                except FileNotFoundError:
                    current = None
                if current is not None and (current.st_dev, current.st_ino) == (
                    info.st_dev,
                    info.st_ino,
                ):
                    if stat.S_IMODE(info.st_mode) != 0o600 and info.st_uid == os.geteuid():
                        with contextlib.suppress(OSError):  # (a read-only store)
                            os.fchmod(fd, 0o600)
                    break
            except OSError as exc:
                os.close(fd)
                raise _os_error(f"cannot lock thread {thread_id!r}", lock, exc, thread_id) from exc
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # the lock file was removed (a delete) while we waited: retry
        try:
            yield
        finally:
            try:
                if remove_lock and _POSIX:
                    with contextlib.suppress(OSError):
                        os.unlink(lock)
            finally:
                _unlock_fd(fd)
                os.close(fd)

    def _remove_temps(self, path: Path) -> None:
        """Remove temp files a killed writer of this thread left. Only called with the
        thread's lock held: every temp file of the thread is then an orphan."""
        prefix = f".{path.name}{_TEMP_SEP}"
        try:
            with os.scandir(self._root) as entries:
                names = [
                    entry.name
                    for entry in entries
                    if entry.name.startswith(prefix) and entry.name.endswith(_TEMP_SUFFIX)
                ]
        except OSError:
            return
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(self._root / name)

    def _refuse_link(self, path: Path, thread_id: str, action: str) -> None:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _os_error(f"cannot {action} thread {thread_id!r}", path, exc, thread_id) from exc
        if stat.S_ISLNK(mode):
            raise StoreError(
                f"cannot {action} thread {thread_id!r}: {path} is a symbolic link; the store "
                "never follows links (one planted there could redirect the write or the "
                "read to another file); remove the link",
                path=path,
                thread_id=thread_id,
            )
        if not stat.S_ISREG(mode):
            raise StoreError(
                f"cannot {action} thread {thread_id!r}: {path} is not a regular file; remove it",
                path=path,
                thread_id=thread_id,
            )

    def _read(self, thread_id: str, path: Path) -> bytes:
        try:
            fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY | _O_NONBLOCK)
        except FileNotFoundError:
            raise self._not_found(thread_id, path) from None
        except OSError as exc:
            # A link, socket or device in the thread's place gets its own explanation.
            self._refuse_link(path, thread_id, "load")
            raise _os_error(f"cannot load thread {thread_id!r}", path, exc, thread_id) from exc
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                self._refuse_link(path, thread_id, "load")
            chunks: list[bytes] = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
        except OSError as exc:
            raise _os_error(f"cannot load thread {thread_id!r}", path, exc, thread_id) from exc
        finally:
            os.close(fd)
        return b"".join(chunks)

    def _refuse_newer(self, thread_id: str, path: Path) -> None:
        """Never overwrite a file a newer envoverlay wrote: it may hold what this version
        cannot represent."""
        from .serialize import VERSION, stored_version

        if not os.path.lexists(path):
            return
        version = stored_version(self._read(thread_id, path).decode("utf-8", "replace"))
        if version is not None and version > VERSION:
            raise NewerStateError(
                f"thread {thread_id!r} was saved by a newer envoverlay (format version "
                f"{version}); this version writes {VERSION} and will not overwrite it: upgrade "
                "envoverlay, or delete the thread first",
                version=version,
                path=path,
                thread_id=thread_id,
            )

    def _parse(self, thread_id: str, data: bytes) -> tuple[ThreadState | None, str]:
        from .serialize import NewerVersionError, loads

        if not data.strip():
            return None, "the file is empty"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        try:
            state = loads(text)
        except NewerVersionError as exc:
            raise NewerStateError(
                f"thread {thread_id!r} was saved by a newer envoverlay and is left in place: {exc}",
                version=exc.version,
                path=self.path_for(thread_id),
                thread_id=thread_id,
            ) from exc
        except EnvOverlayError as exc:
            # StateError for a malformed or newer document; a bad layer inside it may
            # surface as another library error. Both mean: this file is not a state.
            return None, str(exc) or type(exc).__name__
        if state.thread_id != thread_id:
            return None, f"it holds thread {state.thread_id!r}, not {thread_id!r}"
        return state, ""

    def _move_aside(self, thread_id: str, path: Path) -> Path:
        """Give the corrupt file at ``path`` a new name that exists nowhere yet."""
        base = f"{path.name}{CORRUPT_INFIX}{_timestamp()}"
        counter = 0
        while True:
            target = path.with_name(base if counter == 0 else f"{base}-{counter}")
            counter += 1
            try:
                # A hard link fails when the target exists: nothing is ever overwritten.
                if _POSIX:
                    os.link(path, target, follow_symlinks=False)
                else:  # pragma: no cover
                    os.link(path, target)
            except FileExistsError:
                continue
            except (OSError, NotImplementedError):
                # No hard links on this file system: rename, after checking the name is
                # free (we hold the thread's lock; corrupt names belong to this thread).
                if os.path.lexists(target):
                    continue
                try:
                    os.rename(path, target)
                except OSError as exc:
                    raise _cannot_move_aside(thread_id, path, exc) from exc
            else:
                try:
                    os.unlink(path)
                except OSError as exc:
                    with contextlib.suppress(OSError):
                        os.unlink(target)
                    raise _cannot_move_aside(thread_id, path, exc) from exc
            with contextlib.suppress(OSError):
                _fsync_dir(self._root)
            return target


def _lock_fd(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - untested: no Windows runner here
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for 10 s, then raises
                return
            except OSError as exc:
                if exc.errno != _errno.EDEADLOCK:
                    raise
    else:
        fcntl.flock(fd, fcntl.LOCK_EX)


def _unlock_fd(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - untested: no Windows runner here
        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
