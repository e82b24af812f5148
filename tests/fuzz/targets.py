"""The fuzz targets: one function per entry point, taking raw bytes.

Each target turns the bytes into a call of one library entry point and checks its contract.
A target returns normally when the contract holds and raises :class:`ContractViolation` (or
lets the unexpected exception through) when it does not. The same functions serve the
fuzzing engines (``python -m tests.fuzz``) and the replay of ``corpus/<target>/`` in
``tests/test_fuzz.py``, so a regression file means exactly what it meant to the fuzzer.

How the bytes are read, per target (``README.md`` beside this file says the same):

``hook``
    byte 0 holds options, the rest is the hook's stdout: bit 0 platform windows, bits 1-2
    exit code (0, 0, 1, killed), bit 3 ``sensitive="deny"``, bit 4 protect ``PATH`` and
    ``CODEX_*``, bit 5 pass stdout as text (decoded with ``surrogateescape``, so lone
    surrogates reach the parser) instead of bytes.
``overlay``
    bytes starting with ``{`` or ``[`` are read as JSON (Python's lenient reader, so
    duplicate keys, ``NaN`` and lone-surrogate escapes get through to the overlay parser);
    anything else, or JSON that does not parse, is decoded by :func:`decode_object` into a
    Python object (non-string keys, tuples, bytes, floats, deep nesting). Both platforms are
    tried.
``loads``
    the bytes are a thread state file, given to ``loads`` as bytes, and as text too when
    they are not UTF-8 (decoded with ``surrogateescape``).
``check``
    byte 0 holds options, the rest is the file ``envoverlay check`` reads: bit 0
    ``--format json``, bits 1-2 ``--platform`` (posix, windows, auto, posix), bit 3
    ``--secure``, bit 4 ``--protect PATH``.

The contracts: ``parse_hook_output`` never raises; ``Layer.from_overlay`` raises only
``OverlayError``; ``loads`` raises only ``StateError``; ``main(["check", ...])`` returns 0,
1 or 2 and never raises or reports an internal error. On success each target also checks a
few invariants of the result (see each function).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import envoverlay as eo
from envoverlay import compose
from envoverlay.cli import main as cli_main
from envoverlay.ops import REDACTED


class ContractViolation(AssertionError):
    """A target's result breaks the documented contract."""


#: Bugs the fuzzer finds again and again, each kept as a strict xfail test (the test named
#: here fails as XPASS once the bug is fixed: then remove the entry). A target that hits one
#: records the hit and returns, so that fuzzing goes on looking for other bugs; the campaign
#: reports the hits. Name -> the xfail test that keeps it.
KNOWN_BUGS: dict[str, str] = {}
#: Where hits are appended (one name per line); set by the fuzzing engine. None: not logged.
KNOWN_BUG_LOG: Path | None = None
#: When False, known bugs fail like any other violation (the xfail tests set this).
TOLERATE_KNOWN_BUGS = True


def _known_bug(name: str) -> bool:
    """Record a hit of the known bug ``name``; True when it is tolerated."""
    if not TOLERATE_KNOWN_BUGS:
        return False
    if KNOWN_BUG_LOG is not None:
        with open(KNOWN_BUG_LOG, "a", encoding="utf-8") as log:
            log.write(name + "\n")
    return True


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ContractViolation(message)


# -- hook -----------------------------------------------------------------------------------

_EXIT_CODES: tuple[int | None, ...] = (0, 0, 1, None)
_POLICY_CODES = frozenset({"protected", "sensitive"})
_PROTECTED = ("PATH", "CODEX_*")


def hook_target(data: bytes) -> None:
    """``parse_hook_output`` never raises, and its result is consistent: ``ok`` means no
    error; a failed hook or a malformed overlay gives no layer (an overlay is atomic); every
    error has a pointer and a fix; a layer composes without raising, and its secret values
    are redacted in every view."""
    flags, body = (data[0], data[1:]) if data else (0, b"")
    platform = "windows" if flags & 1 else "posix"
    exit_code = _EXIT_CODES[(flags >> 1) & 3]
    sensitive = "deny" if flags & 8 else "warn"
    protected = _PROTECTED if flags & 16 else ()
    stdout: str | bytes = body.decode("utf-8", "surrogateescape") if flags & 32 else body
    hook = eo.parse_hook_output(
        stdout,
        hook_id="fuzz",
        exit_code=exit_code,
        platform=platform,
        protected=protected,
        sensitive=sensitive,
    )
    _require(hook.ok == (not hook.errors), "ok disagrees with errors")
    repr(hook)
    for diagnostic in hook.errors:
        if diagnostic.pointer is None or not diagnostic.hint:
            raise ContractViolation(f"error without a pointer or a fix: {diagnostic}")
        diagnostic.describe()
    if exit_code != 0:
        _require(hook.layer is None, "a failed hook produced a layer")
    if any(d.code not in _POLICY_CODES for d in hook.errors):
        _require(hook.layer is None, "a malformed output produced a layer (not atomic)")
    if hook.layer is None:
        return
    result = compose({}, [hook.layer], platform=platform, protected=protected, sensitive=sensitive)
    repr(result)
    for op in hook.layer.ops:
        if op.secret:
            argument = op.argument()
            shown = argument if isinstance(argument, list) else [argument]
            if any(a != REDACTED for a in shown):
                raise ContractViolation(f"secret shown by {op.name!r}")
    for name, value in result.redacted_env().items():
        if result.is_secret(name) and value != REDACTED:
            raise ContractViolation(f"secret {name!r} not redacted")


# -- overlay --------------------------------------------------------------------------------

_NAMES = (
    "PATH", "Path", "path", "A", "a", "=C:", "A=B", "", "X\x00", "\ud800", "\udcff", "ß", "SS",
    "ǅ", "Ǆ", "LD_PRELOAD", "BASH_FUNC_x%%", "GIT_CONFIG_KEY_0", "set", "default", "unset",
    "prepend", "append", "separator", "secret", "π", "Π", "CODEX_THREAD_ID", "~/", "a/b",
)  # fmt: skip
_TEXTS = (
    "", "x", "/usr/bin", "rel/bin", ":", ";", "\x00", "\ud800", "\udcff", "a:b::c", "é" * 3,
    "\U0001f600", "C:\\x", "\\\\srv\\s", "~", "$HOME",
)  # fmt: skip


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, count: int) -> bytes:
        chunk = self.data[self.pos : self.pos + count]
        self.pos += len(chunk)
        return chunk

    def text(self) -> str:
        tag = self.byte()
        if tag < 96:
            return _NAMES[tag % len(_NAMES)]
        if tag < 160:
            return _TEXTS[tag % len(_TEXTS)]
        if tag < 200:
            return self.take(self.byte() % 16).decode("utf-8", "surrogateescape")
        if tag < 250:
            return self.take(self.byte() % 16).decode("latin-1")
        return "v" * ((self.byte() % 5) * 40_000)  # up to 160,000: over every size limit


def decode_object(data: bytes) -> object:
    """A Python object from bytes: a small tag language, so that mutations of the bytes
    explore shapes no JSON document has (non-string keys, tuples, bytes, NaN, deep lists)."""
    reader = _Reader(data)

    def value(depth: int) -> object:
        tag = reader.byte() % 16
        if depth > 200 and tag in (6, 7, 8, 14):
            tag = 0
        if tag == 0:
            return None
        if tag == 1:
            return True
        if tag == 2:
            return False
        if tag == 3:
            return reader.byte() - 128
        if tag == 4:
            return (math.nan, math.inf, 0.5, -0.0, 1e308)[reader.byte() % 5]
        if tag in (5, 9, 10, 11):
            return reader.text()
        if tag == 6:
            return [value(depth + 1) for _ in range(reader.byte() % 5)]
        if tag in (7, 14):
            out: dict[object, object] = {}
            for _ in range(reader.byte() % 5):
                key_tag = reader.byte()
                key: object = reader.text() if key_tag < 240 else key_tag - 240
                out[key] = value(depth + 1)
            return out
        if tag == 8:
            return tuple(value(depth + 1) for _ in range(reader.byte() % 4))
        if tag == 12:
            return reader.take(reader.byte() % 8)
        if tag == 13:  # a deep list: a hostile embedder's value
            nested: object = []
            for _ in range(reader.byte() * 8):
                nested = [nested]
            return nested
        return {reader.text(): value(depth + 1)}

    top: dict[object, object] = {}
    while reader.pos < len(data):
        key_tag = reader.byte()
        key: object = reader.text() if key_tag < 250 else key_tag - 250
        top[key] = value(0)
    return top


def overlay_object(data: bytes) -> object:
    """The object the ``overlay`` target passes to ``Layer.from_overlay``."""
    if data[:1] in (b"{", b"["):
        try:
            return json.loads(data.decode("utf-8", "surrogatepass"))
        except (ValueError, RecursionError):
            pass
    return decode_object(data)


def overlay_target(data: bytes) -> None:
    """``Layer.from_overlay`` raises only ``OverlayError`` (with diagnostics that carry a
    pointer and a fix). A layer it returns composes without raising and survives
    ``to_overlay`` → ``from_overlay`` unchanged."""
    overlay = overlay_object(data)
    for platform in ("posix", "windows"):
        try:
            layer = eo.Layer.from_overlay(overlay, kind="hook", id="fuzz", platform=platform)
        except eo.OverlayError as exc:
            _require(bool(exc.diagnostics), "OverlayError without diagnostics")
            bad = [d for d in exc.diagnostics if d.pointer is None or not d.hint]
            if bad:
                raise ContractViolation(f"no pointer or no fix: {bad[0]}") from None
            str(exc)
            continue
        repr(layer)
        compose({}, [layer], platform=platform)
        again = eo.Layer.from_overlay(
            layer.to_overlay(redact=False), kind="hook", id="fuzz", platform=platform
        )
        if again != layer:
            raise ContractViolation(f"to_overlay/from_overlay changed the layer: {layer!r}")


# -- loads ----------------------------------------------------------------------------------


def loads_target(data: bytes) -> None:
    """``loads`` raises only ``StateError``. A state it returns round-trips exactly through
    ``dumps(..., include_secrets=True)``, its canonical text is stable, and its layers
    compose without raising."""
    inputs: list[str | bytes] = [data]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        inputs.append(data.decode("utf-8", "surrogateescape"))
    for text in inputs:
        try:
            state = eo.loads(text)
        except eo.StateError as exc:
            str(exc)
            continue
        layers = state.layers  # renders the runtime template (repr does too)
        repr(state)
        dumped = eo.dumps(state, include_secrets=True)
        again = eo.loads(dumped)
        redumped = eo.dumps(again, include_secrets=True)
        _require(again == state, "dumps/loads changed the state")
        _require(redumped == dumped, "dumps is not canonical")
        eo.dumps(state)
        compose({}, layers, platform="posix")


# -- check ----------------------------------------------------------------------------------

_PLATFORMS = ("posix", "windows", "auto", "posix")


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.TextIOWrapper, io.TextIOWrapper]]:
    # A text stream over bytes, as a real process has (errors="surrogateescape" is what
    # Python uses under the C and C.UTF-8 locales). main() switches its streams to
    # backslashreplace itself; before it did, a lone surrogate in a Windows name made
    # check end in an internal error (corpus/check/regression-check-windows-lone-...).
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


#: The scratch file the ``check`` target writes each input to (made on first use, in a new
#: temp directory unless the engine names one).
_SCRATCH: dict[str, Path] = {}


def use_scratch_directory(directory: Path) -> None:
    """Write the ``check`` target's scratch file in ``directory`` (the engine's own)."""
    _SCRATCH["check"] = directory / "check-input"


def _check_file() -> Path:
    if "check" not in _SCRATCH:
        directory = tempfile.mkdtemp(prefix="envoverlay-fuzz-check-")
        _SCRATCH["check"] = Path(directory) / "hook-output"
    return _SCRATCH["check"]


def check_target(data: bytes) -> None:
    """``envoverlay check FILE`` returns 0, 1 or 2, never raises and never reports an
    internal error; ``--format json`` prints one JSON document whose ``valid`` agrees with
    the exit status."""
    flags, body = (data[0], data[1:]) if data else (0, b"")
    path = _check_file()
    path.write_bytes(body)
    fmt = "json" if flags & 1 else "text"
    argv = ["check", str(path), "--format", fmt, "--platform", _PLATFORMS[(flags >> 1) & 3]]
    if flags & 8:
        argv.append("--secure")
    if flags & 16:
        argv += ["--protect", "PATH"]
    with _captured() as (out, err):
        try:
            code = cli_main(argv)
        except SystemExit as exc:  # argparse; never expected for these arguments
            raise ContractViolation(f"check exited through SystemExit({exc.code})") from exc
        out.flush()
        err.flush()
        stdout = out.buffer.getvalue()  # type: ignore[attr-defined]
        stderr = err.buffer.getvalue()  # type: ignore[attr-defined]
    if code not in (0, 1, 2):
        raise ContractViolation(f"check returned {code}: {stderr[-500:]!r}")
    if b"internal error" in stderr:
        raise ContractViolation(f"internal error: {stderr[-500:]!r}")
    _require(b"Traceback" not in stderr, "a traceback was printed")
    if fmt == "json" and code in (0, 1):
        document = json.loads(stdout.decode("utf-8", "surrogateescape"))
        _require(document["valid"] == (code == 0), "valid disagrees with the exit status")
        _require(document.get("format") == "envoverlay.check", "report format")
        [report] = document["results"]
        _require(report["valid"] == (code == 0), "the result disagrees with the exit status")
        _require(set(report) >= {"valid", "errors", "warnings", "overlay"}, "report keys")
    elif code in (0, 1):
        _require(bool(stdout), "check printed nothing")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "hook": hook_target,
    "overlay": overlay_target,
    "loads": loads_target,
    "check": check_target,
}

#: Where each target's regression inputs live.
CORPUS = Path(__file__).resolve().parent / "corpus"


def corpus_files(target: str) -> list[Path]:
    """The regression inputs of one target, sorted by name."""
    directory = CORPUS / target
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))


def cleanup() -> None:
    """Remove the scratch file of the ``check`` target."""
    path = _SCRATCH.pop("check", None)
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()
        if path.name == "hook-output":  # a temp directory of its own
            with contextlib.suppress(OSError):
                os.rmdir(path.parent)


def describe(data: bytes) -> str:
    """A short printable form of an input for failure messages."""
    shown = data[:300]
    more = f" ... ({len(data)} bytes)" if len(data) > 300 else ""
    return repr(shown) + more


__all__ = [
    "CORPUS",
    "KNOWN_BUGS",
    "TARGETS",
    "ContractViolation",
    "check_target",
    "cleanup",
    "corpus_files",
    "decode_object",
    "describe",
    "hook_target",
    "loads_target",
    "overlay_object",
    "overlay_target",
    "use_scratch_directory",
]
