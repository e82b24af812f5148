"""The exception hierarchy: one base, and the built-in class each kind of problem expects.

Each bad argument gets a row: the call, the library class it raises, and the built-in class
(``ValueError`` or ``TypeError``) that Python's conventions expect for it.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

import envoverlay as eo
from envoverlay import errors


def login_argv(shell: str, command: list[object] | None = None) -> list[str]:
    from envoverlay.shell import login_shell_argv

    result = eo.compose({}, platform="posix")
    return login_shell_argv(shell, result, ["true"] if command is None else command)


def environment_block(env: dict[object, object]) -> bytes:
    from envoverlay.winblock import environment_block

    return environment_block(env)


def parse_environment_block(data: bytes) -> object:
    from envoverlay.winblock import parse_environment_block

    return parse_environment_block(data)


def schema_text(name: str) -> object:
    from envoverlay.schemas import schema_text

    return schema_text(name)


def state() -> eo.ThreadState:
    return eo.ThreadState.new(thread_id="t1", session_id="s1")


# (id, call, library class, built-in class)
BAD_ARGUMENTS: list[tuple[str, Callable[[], object], type[Exception], type[Exception]]] = [
    ("source kind", lambda: eo.Source("plugin", "x"), eo.ArgumentError, ValueError),
    ("source kind type", lambda: eo.Source(3, "x"), eo.ArgumentTypeError, TypeError),
    ("empty source id", lambda: eo.Source("hook", ""), eo.ArgumentError, ValueError),
    ("source id type", lambda: eo.Source("hook", 7), eo.ArgumentTypeError, TypeError),
    ("dumps a non-state", lambda: eo.dumps({"thread_id": "t"}), eo.ArgumentTypeError, TypeError),
    ("unknown platform", lambda: eo.compose({}, platform="macos"), eo.ArgumentError, ValueError),
    (
        "unknown sensitive mode",
        lambda: eo.compose({}, sensitive="strict"),
        eo.ArgumentError,
        ValueError,
    ),
    (
        "unknown precedence kind",
        lambda: eo.compose({}, precedence=["config", "plugin"]),
        eo.ArgumentError,
        ValueError,
    ),
    ("base not a mapping", lambda: eo.compose(["A=1"]), eo.ArgumentTypeError, TypeError),
    (
        "a layer that is not a Layer",
        lambda: eo.compose({}, ["A=1"]),
        eo.ArgumentTypeError,
        TypeError,
    ),
    (
        "unknown lifetime",
        lambda: eo.Layer.from_ops([], kind="hook", id="h", lifetime="forever"),
        eo.ArgumentError,
        ValueError,
    ),
    (
        "inherit not a bool",
        lambda: eo.Layer.from_ops([], kind="hook", id="h", inherit=1),
        eo.ArgumentTypeError,
        TypeError,
    ),
    (
        "an inherited layer",
        lambda: eo.Layer.from_ops([], kind="inherited", id="launcher"),
        eo.ArgumentError,
        ValueError,
    ),
    (
        "a layer's op that is not an Op",
        lambda: eo.Layer.from_ops(["A=1"], kind="hook", id="h"),
        eo.ArgumentTypeError,
        TypeError,
    ),
    (
        "hook output kind",
        lambda: eo.parse_hook_output("", hook_id="h", kind="runtime"),
        eo.ArgumentError,
        ValueError,
    ),
    (
        "hook output sensitive",
        lambda: eo.parse_hook_output("", hook_id="h", sensitive="maybe"),
        eo.ArgumentError,
        ValueError,
    ),
    ("path entries type", lambda: eo.Op.prepend("P", 5), eo.ArgumentTypeError, TypeError),
    ("unknown shell", lambda: login_argv("tcsh"), eo.ArgumentError, ValueError),
    ("empty command", lambda: login_argv("bash", []), eo.ArgumentError, ValueError),
    (
        "command argument type",
        lambda: login_argv("bash", ["echo", 1]),
        eo.ArgumentTypeError,
        TypeError,
    ),
    ("block name type", lambda: environment_block({1: "x"}), eo.ArgumentTypeError, TypeError),
    (
        "block name holding '='",
        lambda: environment_block({"A=B": "x"}),
        eo.ArgumentError,
        ValueError,
    ),
    ("odd-sized block", lambda: parse_environment_block(b"A"), eo.ArgumentError, ValueError),
    ("unknown schema", lambda: schema_text("nope"), eo.ArgumentError, ValueError),
    (
        "empty protected pattern",
        lambda: eo.compose({}, protected=[""]),
        eo.PolicyError,
        ValueError,
    ),
    ("unknown event", lambda: state().apply("restart"), eo.LifecycleError, ValueError),
    (
        "thread id type",
        lambda: eo.ThreadState.new(thread_id=1, session_id="s"),
        eo.ArgumentTypeError,
        TypeError,
    ),
    (
        "thread override id type",
        lambda: state().without_thread_layer(None),
        eo.ArgumentTypeError,
        TypeError,
    ),
    (
        "one hook result for a list",
        lambda: state().apply("compact", eo.parse_hook_output("", hook_id="h")),
        eo.ArgumentTypeError,
        TypeError,
    ),
    (
        "runtime template as a name",
        lambda: eo.ThreadState.new(thread_id="t", session_id="s", runtime="CODEX_THREAD_ID"),
        eo.ArgumentTypeError,
        TypeError,
    ),
    (
        "fork without ids",
        lambda: state().apply("fork"),
        eo.LifecycleError,
        ValueError,
    ),
    (
        "empty thread id",
        lambda: eo.ThreadState.new(thread_id="", session_id="s"),
        eo.LifecycleError,
        ValueError,
    ),
]


@pytest.mark.parametrize(
    ("call", "cls", "builtin"),
    [row[1:] for row in BAD_ARGUMENTS],
    ids=[row[0] for row in BAD_ARGUMENTS],
)
def test_a_bad_argument_raises_the_library_class_and_the_conventional_one(call, cls, builtin):
    with pytest.raises(cls) as info:
        call()
    assert isinstance(info.value, eo.EnvOverlayError)
    assert isinstance(info.value, builtin)
    assert str(info.value)  # a message that says what is wrong


# (class, the built-in classes it is, the built-in classes it is not)
HIERARCHY = [
    (errors.ArgumentError, (ValueError,), (TypeError,)),
    (errors.ArgumentTypeError, (TypeError,), (ValueError,)),
    (errors.OverlayError, (ValueError,), (TypeError,)),
    (errors.ComposeError, (ValueError,), (TypeError,)),
    (errors.PolicyError, (ValueError,), (TypeError,)),
    (errors.CodexConfigError, (ValueError,), (TypeError,)),
    (errors.LifecycleError, (ValueError,), (TypeError,)),
    (errors.StateError, (ValueError,), (TypeError,)),
    (errors.NewerVersionError, (ValueError, errors.StateError), (TypeError,)),
    (errors.ShellError, (), (ValueError, TypeError)),
    (errors.InputError, (), (ValueError, TypeError)),
    (errors.StoreError, (), (ValueError, TypeError, KeyError)),
    (errors.ThreadNotFoundError, (KeyError, errors.StoreError), (ValueError,)),
    (errors.NewerStateError, (errors.StoreError,), (ValueError,)),
    (errors.CorruptStateError, (errors.StoreError,), (ValueError,)),
]


@pytest.mark.parametrize(
    ("cls", "bases", "not_bases"), HIERARCHY, ids=lambda v: getattr(v, "__name__", "")
)
def test_each_class_is_a_library_error_and_what_its_kind_expects(cls, bases, not_bases):
    assert issubclass(cls, eo.EnvOverlayError)
    for base in bases:
        assert issubclass(cls, base)
    for base in not_bases:
        assert not issubclass(cls, base)


def test_the_base_is_no_builtin_value_or_type_error():
    # A store that cannot write is not a bad value; a TypeError must not be caught by
    # ``except ValueError``.
    assert not issubclass(eo.EnvOverlayError, (ValueError, TypeError))


def test_every_error_class_of_the_module_is_in_the_hierarchy_table():
    classes = {
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, Exception)
        and value.__module__ == errors.__name__
    }
    assert classes == {row[0] for row in HIERARCHY} | {eo.EnvOverlayError}
    assert set(errors.__all__) == {cls.__name__ for cls in classes}


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("envoverlay.diagnostics", "EnvOverlayError"),
        ("envoverlay.diagnostics", "OverlayError"),
        ("envoverlay.diagnostics", "ComposeError"),
        ("envoverlay.diagnostics", "PolicyError"),
        ("envoverlay.lifecycle", "LifecycleError"),
        ("envoverlay.serialize", "StateError"),
        ("envoverlay.serialize", "NewerVersionError"),
        ("envoverlay.store", "StoreError"),
        ("envoverlay.store", "ThreadNotFoundError"),
        ("envoverlay.store", "NewerStateError"),
        ("envoverlay.store", "CorruptStateError"),
        ("envoverlay.shell", "ShellError"),
        ("envoverlay.codex", "CodexConfigError"),
        ("envoverlay._jsonio", "InputError"),
        ("envoverlay", "ArgumentError"),
        ("envoverlay", "ArgumentTypeError"),
    ],
)
def test_each_class_is_still_importable_from_its_old_home(module, name):
    imported = __import__(module, fromlist=[name])
    assert getattr(imported, name) is getattr(errors, name)
    if name != "InputError":  # the CLI's and the providers' own
        assert getattr(eo, name) is getattr(errors, name)


def test_diagnostics_travel_with_the_error():
    diagnostic = eo.Diagnostic("error", "invalid-name", "A=B", None, "names cannot hold '='")
    error = eo.OverlayError("overlay is malformed", [diagnostic])
    assert error.diagnostics == (diagnostic,)
    assert eo.ArgumentError("x").diagnostics == ()


@pytest.mark.parametrize(
    "error",
    [
        errors.NewerVersionError("written by a newer envoverlay", version=3),
        errors.CodexConfigError("config.toml", "shell_environment_policy.set.A", "bad", "fix it"),
        errors.StoreError("cannot save", path=Path("t.json"), thread_id="t", errno=28),
        errors.ThreadNotFoundError("no thread 't'", path=Path("t.json"), thread_id="t"),
        errors.NewerStateError("newer", version=2, path=Path("t.json"), thread_id="t"),
        errors.CorruptStateError(
            "corrupt", path=Path("t.json"), moved_to=Path("t.bad"), thread_id="t", reason="x"
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_with_keyword_fields_pickle_whole(error):
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert vars(again) == vars(error)
