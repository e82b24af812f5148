"""The bad-input catalogue (tests/bad_inputs/cases.json), run case by case.

Each case names an entry point that reads untrusted data (``target``), the input, and what
must happen: a clear error (its code or exception type, where — JSON pointer, variable or
path — and words of the fix), and nothing applied or written. The catalogue is read by
``tests/catalogue.py`` against ``tests/bad_inputs/case.schema.json``. ``tests/bad_inputs/README.md``
explains the fields and lists every case with its outcome; run this file as a script
(``python tests/test_bad_inputs.py``) to rewrite that table after editing the catalogue.

Cases with a ``bug`` field are known bugs: they run as strict xfails, so fixing the bug
makes the test fail until the field is removed.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from catalogue import load_named

import envoverlay as eo
from envoverlay.cli import main
from envoverlay.store import CorruptStateError, StoreError, ThreadStore

ROOT = Path(__file__).resolve().parent.parent
FOLDER = Path(__file__).resolve().parent / "bad_inputs"
CATALOGUE = load_named("bad-inputs")
CASES = CATALOGUE.cases
TARGETS = ("hook", "overlay", "base", "explain-base", "state", "store", "explain-state", "cli")
IS_ROOT = os.name == "posix" and os.geteuid() == 0


# -- the input language (README.md, "Inputs") ---------------------------------------------------


def good_state_text() -> str:
    return (FOLDER / "good-state.json").read_text("utf-8")


def _set_pointer(document: Any, pointer: str, value: Any, *, remove: bool = False) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    target = document
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last: Any = int(parts[-1]) if isinstance(target, list) else parts[-1]
    if remove:
        del target[last]
    else:
        target[last] = value


def _state(mutation: dict[str, Any]) -> str | bytes:
    text = good_state_text()
    if "set" in mutation or "remove" in mutation:
        document = json.loads(text)
        for pointer, value in mutation.get("set", {}).items():
            _set_pointer(document, pointer, expand(value))
        for pointer in mutation.get("remove", []):
            _set_pointer(document, pointer, None, remove=True)
        text = json.dumps(document, indent=2)
    if "truncate" in mutation:
        text = text[: int(len(text) * mutation["truncate"])]
    text = mutation.get("prefix", "") + text + mutation.get("suffix", "")
    if "encoding" in mutation:
        return text.encode(mutation["encoding"])
    return text


def expand(spec: Any) -> Any:
    """The input a case spec stands for (see README.md)."""
    if isinstance(spec, list):
        return [expand(item) for item in spec]
    if not isinstance(spec, dict):
        return spec
    if "$repeat" in spec:
        return spec["$repeat"] * spec["times"]
    if "$bytes" in spec:
        return spec["$bytes"].encode("latin-1")
    if "$encode" in spec:
        return spec["$encode"].encode(spec["encoding"])
    if "$concat" in spec:
        parts = [expand(part) for part in spec["$concat"]]
        if any(isinstance(part, bytes) for part in parts):
            return b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in parts)
        return "".join(parts)
    if "$json" in spec:
        return json.dumps(expand(spec["$json"]))
    if "$nested" in spec:
        depth = spec["depth"]
        return spec["$nested"] * depth + spec.get("inner", "") + spec["close"] * depth
    if "$nested_list" in spec:
        nested: list[Any] = []
        for _ in range(spec["$nested_list"]):
            nested = [nested]
        return nested
    if "$items" in spec:
        return {key: expand(value) for key, value in spec["$items"]}
    if "$state" in spec:
        return _state(spec["$state"])
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "$many":
            for index in range(value["count"]):
                out[f"{value['prefix']}{index}"] = expand(value["value"])
        else:
            out[key] = expand(value)
    return out


def as_bytes(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8")


# -- files of every kind --------------------------------------------------------------------------


@pytest.fixture
def cleanup() -> Iterator[list[Callable[[], None]]]:
    actions: list[Callable[[], None]] = []
    yield actions
    for action in reversed(actions):
        action()


def make_file(path: Path, case: dict[str, Any], cleanup: list[Callable[[], None]]) -> Path:
    """Create what the case puts at ``path``: its input as a file, or a file of a kind."""
    spec = case.get("file") or {}
    kind = spec if isinstance(spec, str) else spec.get("kind", "content")
    if kind == "content":
        path.write_bytes(as_bytes(expand(case.get("input", ""))))
    elif kind == "directory":
        path.mkdir()
    elif kind == "dangling-symlink":
        path.symlink_to(path.parent / "nowhere")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        cwd = os.getcwd()
        os.chdir(path.parent)  # a short relative name: socket paths are limited to ~108 bytes
        try:
            server.bind(path.name)
        finally:
            os.chdir(cwd)
        cleanup.append(server.close)
    elif kind == "unreadable":
        if IS_ROOT:
            pytest.skip("root reads files whatever their mode; covered by the socket cases")
        path.write_bytes(as_bytes(expand(case.get("input", ""))))
        path.chmod(0)
        cleanup.append(lambda: path.chmod(0o600))
    elif kind != "missing":
        raise AssertionError(f"unknown file kind {kind!r}")
    return path


def snapshot(path: Path) -> tuple[str, object]:
    """What is at ``path``: its kind and content (bytes, link target or nothing)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return ("missing", None)
    if stat.S_ISLNK(info.st_mode):
        return ("symlink", os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        return ("file", path.read_bytes())
    return (stat.filemode(info.st_mode)[0], None)


def words_in(words: list[str], text: str, what: str) -> None:
    for word in words:
        assert word.lower() in text.lower(), f"{what} lacks {word!r}: {text[:2000]!r}"


# -- runners, one per target ----------------------------------------------------------------------


def run_hook(case: dict[str, Any], **_: Any) -> None:
    options = case.get("options", {})
    expect = case["expect"]
    data = expand(case["input"])
    stdout = data if options.get("as") == "text" else as_bytes(data)
    platform = options.get("platform", "posix")
    protected = options.get("protected", [])
    sensitive = options.get("sensitive", "warn")
    hook = eo.parse_hook_output(
        stdout,
        hook_id=case["name"],
        exit_code=options.get("exit_code", 0),
        platform=platform,
        protected=protected,
        sensitive=sensitive,
    )
    assert not hook.ok
    found = [d for d in hook.errors if d.code == expect["code"] and d.pointer == expect["at"]]
    assert found, [(d.code, d.pointer) for d in hook.errors]
    words_in(expect["fix"], found[0].hint, "the fix")
    assert found[0].message
    if "rejected" in expect:  # a policy error rejects that op alone, at compose time
        assert hook.layer is not None
        result = eo.compose(
            {}, [hook.layer], platform=platform, protected=protected, sensitive=sensitive
        )
        name = expect["rejected"]
        assert name not in result.env
        assert [step.status for step in result.provenance(name).history] == ["rejected"]
        assert any(d.code == expect["code"] and d.name == name for d in result.errors)
        for other in expect.get("applied", []):
            assert other in result.env
    else:  # nothing of the hook's env applies
        assert hook.layer is None
        assert eo.merge_hook_layers([hook]) == []


def run_overlay(case: dict[str, Any], **_: Any) -> None:
    expect = case["expect"]
    overlay = expand(case["input"])
    platform = case.get("options", {}).get("platform", "posix")
    with pytest.raises(eo.OverlayError) as info:
        eo.Layer.from_overlay(overlay, kind="hook", id=case["name"], platform=platform)
    found = [
        d for d in info.value.diagnostics if d.code == expect["code"] and d.pointer == expect["at"]
    ]
    assert found, [(d.code, d.pointer) for d in info.value.diagnostics]
    words_in(expect["fix"], found[0].hint, "the fix")
    assert "nothing of it applies" in str(info.value)
    ops, problems = eo.parse_overlay(overlay, platform=platform)
    assert ops == []
    assert problems


def run_base(case: dict[str, Any], **_: Any) -> None:
    expect = case["expect"]
    base = expand(case["input"])
    platform = case.get("options", {}).get("platform", "posix")
    result = eo.compose(base, [], platform=platform)
    severity = expect.get("severity", "error")
    found = [
        d
        for d in result.diagnostics
        if d.code == expect["code"] and d.name == expect["at"] and d.severity == severity
    ]
    assert found, [(d.code, d.name) for d in result.diagnostics]
    words_in(expect["fix"], found[0].hint, "the fix")
    kept = expect.get("kept")
    if kept is not None:  # reported, never stripped or truncated
        for name, value in kept.items():
            assert result.env[name] == (base[name] if value is None else value)
        if expect["at"] is not None and expect["at"] not in kept:
            assert expect["at"] not in result.env
    else:
        assert expect["at"] not in result.env
        assert expect["at"] in result.removed
        assert result.env == {k: v for k, v in base.items() if k != expect["at"]}
    if severity == "error":
        with pytest.raises(eo.ComposeError):
            eo.compose(base, [], platform=platform, strict=True)


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def _empty_base(tmp_path: Path) -> str:
    path = tmp_path / "empty-base.json"
    path.write_text("{}")
    return str(path)


def _check_cli_outcome(
    expect: dict[str, Any], code: int, out: str, err: str, fill: Callable[[str], str]
) -> None:
    assert code == expect["exit"], (code, out[-2000:], err[-2000:])
    assert "Traceback" not in err
    assert "internal error" not in err
    words_in([fill(w) for w in expect.get("stderr", [])], err, "stderr")
    words_in([fill(w) for w in expect.get("stdout", [])], out, "stdout")
    if code == 2:
        assert out == "", "a usage error printed a result"


def run_explain_base(
    case: dict[str, Any], tmp_path: Path, capsys: Any, cleanup: Any, **_: Any
) -> None:
    expect = case["expect"]
    path = make_file(tmp_path / "base.json", case, cleanup)
    argv = ["explain", "--base", str(path), "--platform", "posix", "--format", "json"]
    code, out, err = _main(argv, capsys)
    _check_cli_outcome(expect, code, out, err, lambda w: w.replace("{file}", str(path)))
    if code == 1:
        report = json.loads(out)
        found = [
            d
            for d in report["diagnostics"]
            if d["code"] == expect["code"] and d["name"] == expect["at"]
        ]
        assert found, report["diagnostics"]
        words_in(expect["fix"], found[0]["hint"], "the fix")
        base = json.loads(path.read_text("utf-8"))
        if expect.get("kept"):
            assert report["env"][expect["at"]] == base[expect["at"]]
        else:
            assert expect["at"] not in report["env"]
            assert report["env"] == {k: v for k, v in base.items() if k != expect["at"]}


def run_state(case: dict[str, Any], **_: Any) -> None:
    expect = case["expect"]
    data = expand(case["input"])
    with pytest.raises(eo.StateError) as info:
        eo.loads(data)
    assert type(info.value).__name__ == expect["error"]
    words_in(expect["words"], str(info.value), "the message")
    if "at" in expect:
        pointers = [d.pointer for d in info.value.diagnostics]
        assert expect["at"] in pointers, pointers


def run_store(case: dict[str, Any], tmp_path: Path, cleanup: Any, **_: Any) -> None:
    expect = case["expect"]
    root = tmp_path / "store"
    store = ThreadStore(root)
    good = eo.loads(good_state_text())
    store.save(eo.ThreadState.new(thread_id="other", session_id="s"))  # creates the root, 0700
    path = make_file(store.path_for("t1"), case, cleanup)
    before = snapshot(path)
    others = {p.name: snapshot(p) for p in root.iterdir() if p != path}
    action = case.get("action", "load")
    call = (lambda: store.save(good)) if action == "save" else (lambda: store.load("t1"))
    with pytest.raises(StoreError) as info:
        call()
    error = info.value
    assert type(error).__name__ == expect["error"]
    words_in(expect["words"], str(error), "the message")
    assert error.path == path  # the location, as an attribute; the message names it too:
    assert str(path) in str(error) or "'t1'" in str(error)
    assert not [p.name for p in root.iterdir() if p.name.endswith(".tmp")], "a temp file is left"
    after = {p.name: snapshot(p) for p in root.iterdir() if p != path}
    if isinstance(error, CorruptStateError):  # moved aside, bytes intact, never overwritten
        assert snapshot(path) == ("missing", None)
        assert snapshot(error.moved_to) == before
        del after[error.moved_to.name]
    else:  # left exactly as it was
        assert snapshot(path) == before
        assert not (root / "nowhere").exists()
    after.pop("t1.json.lock", None)
    assert after == others


def run_explain_state(
    case: dict[str, Any], tmp_path: Path, capsys: Any, cleanup: Any, **_: Any
) -> None:
    path = make_file(tmp_path / "state.json", case, cleanup)
    argv = ["explain", "--state", str(path), "--base", _empty_base(tmp_path)]
    code, out, err = _main(argv, capsys)
    fill = lambda w: w.replace("{file}", str(path))  # noqa: E731
    _check_cli_outcome(case["expect"], code, out, err, fill)


def run_cli(case: dict[str, Any], tmp_path: Path, capsys: Any, cleanup: Any, **_: Any) -> None:
    expect = case["expect"]
    name = (case.get("file") or {}).get("name", "input.json")
    work = tmp_path / "work"
    work.mkdir()
    path = make_file(work / name, case, cleanup) if "input" in case else work / name
    values = {"{tmp}": str(work), "{file}": str(path), "{empty_base}": _empty_base(tmp_path)}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    argv = [fill(arg) for arg in case["args"]]
    if case.get("process"):
        env = dict(os.environ, **case.get("env", {}))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.pop("ENVOVERLAY_DEBUG", None)
        proc = subprocess.run(
            [sys.executable, "-m", "envoverlay", *argv],
            capture_output=True,
            env=env,
            cwd=work,
            check=False,
        )
        code = proc.returncode
        out = proc.stdout.decode("utf-8", "backslashreplace")
        err = proc.stderr.decode("utf-8", "backslashreplace")
    else:
        code, out, err = _main(argv, capsys)
    _check_cli_outcome(expect, code, out, err, fill)


RUNNERS: dict[str, Callable[..., None]] = {
    "hook": run_hook,
    "overlay": run_overlay,
    "base": run_base,
    "explain-base": run_explain_base,
    "state": run_state,
    "store": run_store,
    "explain-state": run_explain_state,
    "cli": run_cli,
}


def _marks(case: dict[str, Any]) -> list[pytest.MarkDecorator]:
    marks = []
    if "bug" in case:
        marks.append(pytest.mark.xfail(reason=f"BUG: {case['bug']}", strict=True))
    if case["target"] in ("store", "explain-base", "explain-state") and os.name != "posix":
        marks.append(pytest.mark.skip(reason="POSIX file kinds (sockets, FIFOs, modes)"))
    return marks


@pytest.mark.parametrize("case", CATALOGUE.params(marks=_marks))
def test_bad_input(
    case: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cleanup: list[Callable[[], None]],
) -> None:
    RUNNERS[case["target"]](copy.deepcopy(case), tmp_path=tmp_path, capsys=capsys, cleanup=cleanup)


# -- the catalogue itself -------------------------------------------------------------------------


def test_catalogue_covers_every_target() -> None:
    """What case.schema.json cannot say: every target has cases, each named after it."""
    assert len(CASES) >= 60
    assert {case["target"] for case in CASES} == set(TARGETS)
    assert [c["name"] for c in CASES if not c["name"].startswith(c["target"] + "-")] == []


def test_good_state_is_good() -> None:
    """The template the state cases mutate loads (so each case breaks one thing only)."""
    state = eo.loads(good_state_text())
    assert eo.dumps(state) == good_state_text()


def _outcome(case: dict[str, Any]) -> str:
    expect = case["expect"]
    target = case["target"]
    if target in ("hook", "overlay", "base"):
        where = expect["at"]
        if where is None:
            place = "—"
        elif where == "":
            place = "the whole input"
        else:
            place = f"`{json.dumps(where)[1:-1]}`"
        text = f"{expect.get('severity', 'error')} `{expect['code']}` at {place}"
        if target == "hook":
            if "rejected" in expect:
                text += "; that op alone rejected at compose"
                if expect.get("applied"):
                    text += f", {', '.join(expect['applied'])} applied"
            else:
                text += "; no layer"
        elif target == "overlay":
            text += "; `OverlayError`, no layer"
        else:
            text += "; kept, never stripped" if "kept" in expect else "; left out of the env"
    elif target == "state":
        text = f"`{expect['error']}`"
        if expect.get("at"):
            text += f" at `{expect['at']}`"
    elif target == "store":
        moved = "moved aside intact" if expect["error"] == "CorruptStateError" else "left as is"
        text = f"`{expect['error']}` on {case.get('action', 'load')}; file {moved}"
    else:
        text = f"exit {expect['exit']}"
        if expect.get("code"):
            text += f", `{expect['code']}` for `{expect['at']}`"
        said = [w for w in expect.get("stderr", []) + expect.get("stdout", []) if "{" not in w]
        if said:
            text += ": " + ", ".join(f"“{w}”" for w in said)
    if "bug" in case:
        text = f"**BUG (xfail)**: {case['bug']}; expected: {text}"
    return text.replace("|", "\\|")


def render_table() -> str:
    lines = ["| # | case | target | input | outcome |", "|---|---|---|---|---|"]
    for index, case in enumerate(CASES, 1):
        what = case["why"].replace("|", "\\|")
        lines.append(
            f"| {index} | `{case['name']}` | {case['target']} | {what} | {_outcome(case)} |"
        )
    return "\n".join(lines)


START, END = "<!-- cases:start -->", "<!-- cases:end -->"


def test_security_doc_names_existing_tests() -> None:
    """Every test docs/security.md cites as proof exists (and every catalogue case it names)."""
    doc = (ROOT / "docs" / "security.md").read_text("utf-8")
    cited = re.findall(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?`", doc)
    assert len(cited) > 40
    names = {case["name"] for case in CASES}
    for path, function, param in cited:
        tree = ast.parse((ROOT / path).read_text("utf-8"))
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert function in defined, f"{path}::{function}"
        if function == "test_bad_input":
            assert param in names, param


def test_readme_lists_every_case() -> None:
    readme = (FOLDER / "README.md").read_text("utf-8")
    table = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert table == render_table(), "run `python tests/test_bad_inputs.py` to update README.md"


if __name__ == "__main__":  # rewrite the README table from the catalogue
    readme_path = FOLDER / "README.md"
    text = readme_path.read_text("utf-8")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    readme_path.write_text(f"{head}{START}\n{render_table()}\n{END}{tail}", encoding="utf-8")
    print(f"{readme_path}: {len(CASES)} cases")
