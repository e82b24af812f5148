"""Fuzzing (tests/fuzz/): the regression corpus replayed on every run, and a bounded
campaign of over 100,000 generated inputs across the four targets.

The campaign uses atheris (coverage-guided) when it is installed and the built-in
mutational engine otherwise; ``ENVOVERLAY_FUZZ_SECONDS=600`` runs each target that long
instead (``python -m tests.fuzz --seconds 600`` does the same outside pytest). Run with
``-s`` to see the per-target figures.
"""

from __future__ import annotations

import ast
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz import engine, targets

import envoverlay as eo
from envoverlay.cli import main

#: The bounded campaign's base seed (see test_bounded_campaign).
FUZZ_SEED = 20261201


@pytest.fixture
def strict_targets() -> Iterator[None]:
    """Known bugs fail like any other contract violation."""
    targets.TOLERATE_KNOWN_BUGS = False
    try:
        yield
    finally:
        targets.TOLERATE_KNOWN_BUGS = True
        targets.cleanup()


@pytest.mark.parametrize("target", engine.TARGET_NAMES)
def test_corpus_replays_cleanly(target: str) -> None:
    """Every kept input (seeds, inputs the fuzzer found interesting, past failures) still
    meets the target's contract."""
    files = targets.corpus_files(target)
    assert files, f"corpus/{target}/ is empty"
    failures = []
    try:
        for path in files:
            try:
                targets.TARGETS[target](path.read_bytes())
            except Exception as exc:
                failures.append(f"{path.name}: {type(exc).__name__}: {exc}"[:500])
    finally:
        targets.cleanup()
    assert failures == []


def _replay(target: str, name: str) -> None:
    path = targets.CORPUS / target / name
    targets.TARGETS[target](path.read_bytes())


def test_regression_check_prints_a_lone_surrogate_windows_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Found by fuzzing: a \\ud800 escape in a Windows variable name made `check` end in an
    internal error (exit 3) when printing it. Now printed as an escape."""
    data = (targets.CORPUS / "check" / "regression-check-windows-lone-surrogate-name").read_bytes()
    targets.check_target(data)
    path = tmp_path / "hook-output"
    path.write_bytes(data[1:])
    capsys.readouterr()
    assert main(["check", str(path), "--platform", "windows", "--secure"]) == 0
    assert "\\ud800A" in capsys.readouterr().out


def test_regression_state_whose_runtime_template_renders_a_nul_id() -> None:
    """Found by fuzzing: loads accepted a thread id holding NUL, which the runtime template
    then put into a value, so ThreadState.layers (and repr) raised OverlayError. Now loads
    refuses it with a StateError."""
    _replay("loads", "regression-runtime-template-nul-thread-id")
    text = (targets.CORPUS / "loads" / "regression-runtime-template-nul-thread-id").read_text()
    with pytest.raises(eo.StateError, match="thread_id"):
        eo.loads(text)


def test_regression_state_with_a_nul_separator() -> None:
    """Found by fuzzing: a separator holding NUL passed the schema, and the Op's own check
    reached the caller wrapped in cattrs' ClassValidationError. Now the schema refuses it
    at its pointer."""
    _replay("loads", "regression-nul-separator")
    text = (targets.CORPUS / "loads" / "regression-nul-separator").read_text()
    with pytest.raises(eo.StateError, match="/layers/0/ops/0/separator"):
        eo.loads(text)


def test_an_op_the_model_refuses_is_a_state_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the schema lets through, an Op's own construction checks surface as a
    StateError naming the variable, never as a cattrs exception. (The schema is replaced by
    one that accepts everything, to reach the model's checks.)"""
    from envoverlay import schemas
    from envoverlay.serialize import from_document

    class AcceptAll:
        def iter_errors(self, document: object) -> list[object]:
            return []

    monkeypatch.setattr(schemas, "validator", lambda name: AcceptAll())
    layer = eo.Layer.from_overlay({"PATH": {"prepend": ["/a"]}}, kind="hook", id="h")
    document = eo.serialize.to_document(
        eo.ThreadState.new(thread_id="t1", session_id="s1", layers=[layer])
    )
    document["layers"][0]["ops"][0]["entries"] = []  # the model needs at least one entry
    with pytest.raises(eo.StateError, match="PATH"):
        from_document(document)


@pytest.mark.usefixtures("strict_targets")
def test_round_trip_keeps_a_surrogate_pair_held_as_two_code_points() -> None:
    layer = eo.Layer.from_overlay({"A": "\ud800\udc00"}, kind="hook", id="h", platform="windows")
    state = eo.ThreadState.new(thread_id="t1", session_id="s1", layers=[layer])
    assert eo.loads(eo.dumps(state, include_secrets=True)) == state


def test_regression_round_trip_found_by_the_fuzzer() -> None:
    """Found by fuzzing: two surrogate code points forming a pair came back from loads as
    one character. Ops now hold the character itself, so the round trip is exact."""
    targets.TOLERATE_KNOWN_BUGS = False
    try:
        _replay("loads", "regression-state-round-trip-joins-separate-surrogates")
    finally:
        targets.TOLERATE_KNOWN_BUGS = True


def test_regression_a_name_holding_a_split_surrogate_pair_round_trips() -> None:
    """Found by fuzzing (atheris): a name holding a JSON-escaped high surrogate followed by
    an undecodable byte (a low surrogate once decoded with surrogateescape) came back from
    dumps/loads as the one character the pair encodes. Names, separators, layer ids,
    thread ids and runtime templates now store such pairs as their character, as values
    already did."""
    targets.TOLERATE_KNOWN_BUGS = False
    try:
        _replay("loads", "regression-name-holds-a-split-surrogate-pair")
    finally:
        targets.TOLERATE_KNOWN_BUGS = True
    pair = "\ud800\udcff"
    layer = eo.Layer.from_ops(
        [eo.Op.prepend("P" + pair, ["/a"], separator=":" + pair)], kind="hook", id="h" + pair
    )
    state = eo.ThreadState.new(
        thread_id="t" + pair,
        session_id="s" + pair,
        layers=[layer],
        runtime={"R" + pair: "{thread_id}"},
    )
    assert eo.loads(eo.dumps(state, include_secrets=True)) == state
    assert layer.ops[0].name == "P\U000100ff"
    assert state.thread_id == "t\U000100ff"


def test_known_bugs_name_their_xfail_tests() -> None:
    tree = ast.parse(Path(__file__).read_text("utf-8"))
    here = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for name, test in targets.KNOWN_BUGS.items():
        path, _, function = test.partition("::")
        assert path == "tests/test_fuzz.py", name
        assert function in here, name
    bug_files = [p.name for t in engine.TARGET_NAMES for p in targets.corpus_files(t)]
    assert not [name for name in bug_files if name.startswith("bug-")] or targets.KNOWN_BUGS


def test_targets_enforce_their_contracts() -> None:
    """A target does fail on a broken contract (the harness is not vacuous)."""
    with pytest.raises(eo.OverlayError):
        eo.Layer.from_overlay({"A=B": "1"}, kind="hook", id="x")
    targets.overlay_target(b'{"A=B": "1"}')  # OverlayError is the documented error
    original = eo.Layer.from_overlay

    def broken(*args: object, **kwargs: object) -> eo.Layer:
        raise KeyError("not the documented error")

    eo.Layer.from_overlay = broken  # type: ignore[method-assign, assignment]
    try:
        with pytest.raises(KeyError):
            targets.overlay_target(b"{}")
    finally:
        eo.Layer.from_overlay = original  # type: ignore[method-assign]


def test_object_decoder_reaches_non_json_shapes() -> None:
    shapes = set()
    rng = random.Random(0)
    for data in [rng.randbytes(64) for _ in range(200)]:
        stack: list[object] = [targets.decode_object(data)]
        while stack:
            item = stack.pop()
            shapes.add(type(item).__name__)
            if isinstance(item, dict):
                shapes.update(type(key).__name__ for key in item)
                stack.extend(item.values())
            elif isinstance(item, (list, tuple)) and len(shapes) < 50:
                stack.extend(item[:5])
    assert {"dict", "str", "int", "tuple", "list", "bytes", "NoneType"} <= shapes


def test_builtin_engine_runs_every_target(tmp_path: Path) -> None:
    """The fallback engine (used when atheris is not installed) works."""
    reports = engine.run_campaign(
        engine.TARGET_NAMES,
        runs=dict.fromkeys(engine.TARGET_NAMES, 300),
        engine="builtin",
        seed=1,
        artifacts=tmp_path,
    )
    print("\n" + engine.summary(reports))
    assert [r.target for r in reports] == list(engine.TARGET_NAMES)
    for report in reports:
        assert report.ok, report.log_tail
        assert report.runs == 300


@pytest.mark.slow
def test_bounded_campaign(tmp_path: Path) -> None:
    """Over 100,000 generated inputs in all; any exception outside a target's documented
    error type is a failure, and its input is saved for a regression file.

    The seed is fixed, so a failure here reproduces exactly (``ENVOVERLAY_FUZZ_SEED=N``
    picks another, ``random`` a fresh one); new ground is covered by the longer random runs
    of ``python -m tests.fuzz``, whose finds join the corpus this test replays."""
    seconds = os.environ.get("ENVOVERLAY_FUZZ_SECONDS")
    chosen = os.environ.get("ENVOVERLAY_FUZZ_SEED", str(FUZZ_SEED))
    seed = random.randrange(1, 1 << 31) if chosen == "random" else int(chosen)
    started = time.monotonic()
    reports = engine.run_campaign(
        engine.TARGET_NAMES,
        runs=None if seconds else engine.CI_RUNS,
        seconds=float(seconds) if seconds else None,
        jobs=2,
        seed=seed,
        artifacts=tmp_path,
    )
    elapsed = time.monotonic() - started
    print(f"\n{engine.summary(reports)}\nwall time {elapsed:.1f} s (2 jobs), seed {seed}")
    failed = [r for r in reports if not r.ok]
    assert not failed, "\n\n".join(
        f"{r.target} (seed {seed}): exit {r.returncode}, failing inputs "
        f"{[str(p) for p in r.failures]}\n"
        f"{r.log_tail}"
        for r in failed
    )
    total = sum(r.runs for r in reports)
    if not seconds:
        assert total >= 100_000
        for report in reports:
            assert report.runs >= engine.CI_RUNS[report.target]
