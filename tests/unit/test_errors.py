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


def state() -> eo.ThreadState:
    return eo.ThreadState.new(thread_id="t1", session_id="s1")


# (id, call, library class, built-in class)
BAD_ARGUMENTS: list[tuple[str, Callable[[], object], type[Exception], type[Exception]]] = [
    ("source kind", lambda: eo.Source("plugin", "x"), eo.ArgumentError, ValueError),
    ("source kind type", lambda: eo.Source(3, "x"), eo.ArgumentTypeError, TypeError),
    ("empty source id", lambda: eo.Source("hook", ""), eo.ArgumentError, ValueError),
    ("source id type", lambda: eo.Source("hook", 7), eo.ArgumentTypeError, TypeError),
    ("dumps a non-state", lambda: eo.dumps({"thread_id": "t"}), eo.ArgumentTypeError, TypeError),
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
    (errors.LifecycleError, (ValueError,), (TypeError,)),
    (errors.StateError, (ValueError,), (TypeError,)),
    (errors.NewerVersionError, (ValueError, errors.StateError), (TypeError,)),
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
        ("envoverlay", "ArgumentError"),
        ("envoverlay", "ArgumentTypeError"),
    ],
)
def test_each_class_is_still_importable_from_its_old_home(module, name):
    imported = __import__(module, fromlist=[name])
    assert getattr(imported, name) is getattr(errors, name)
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
