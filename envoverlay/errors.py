"""Every exception the library raises, in one place.

Theory of operation
-------------------
:class:`EnvOverlayError` is the base: ``except envoverlay.EnvOverlayError`` catches whatever
the library raises on bad input or a failed operation, and ``diagnostics`` holds the
findings behind it (each naming the variable, the layer or the JSON pointer, the rule and
the fix). Under it, each class also derives from the built-in exception Python's
conventions expect for its kind of problem, so code written against those conventions
keeps working:

=====================  ====================  =================================================
class                  also a                raised for
=====================  ====================  =================================================
ArgumentError          ValueError            an argument of the right type and a wrong value
                                             (an unknown ``platform=``, ``lifetime=``, kind)
ArgumentTypeError      TypeError             an argument of the wrong type (a layer that is
                                             not a ``Layer``, a base that is not a mapping)
OverlayError           ValueError            an overlay or op that never becomes a layer
ComposeError           ValueError            ``compose(strict=True)`` found errors
PolicyError            ValueError            a malformed inherit policy
CodexConfigError       ValueError            a Codex config file (config.toml, a profile,
                                             ``-c``, hooks.json) Codex would refuse
LifecycleError         ValueError            an event or state given what it cannot take
StateError             ValueError            a thread state document that does not load
NewerVersionError      (a StateError)        one written by a newer envoverlay
ShellError             —                     a login shell could not be run or read
InputError             —                     an input file could not be read
StoreError             —                     the thread store could not do what was asked
ThreadNotFoundError    KeyError              (a StoreError) no state is stored for a thread
=====================  ====================  =================================================

The base itself is not a ``ValueError``: a store that cannot write (a full disk) is not a
bad value, and a ``TypeError`` must not be caught by ``except ValueError``. Each class is
re-exported from the module that raises it and from ``envoverlay``. This module imports
nothing at run time, so every module can raise its errors at no cost.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from .diagnostics import Diagnostic


class EnvOverlayError(Exception):
    """Base class of every error the library raises. ``diagnostics`` lists the findings
    behind it, when there are any."""

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)


class ArgumentError(EnvOverlayError, ValueError):
    """An argument has the right type and a value the function cannot take (an unknown
    ``platform``, ``lifetime``, layer kind, ``sensitive`` or ``precedence``). The message
    names the argument, what it got and the values it takes."""


class ArgumentTypeError(EnvOverlayError, TypeError):
    """An argument has the wrong type. The message names the argument and the type it
    takes."""


class OverlayError(EnvOverlayError, ValueError):
    """An overlay or op is malformed and never becomes a layer. ``diagnostics`` lists every
    problem found, each with its JSON pointer."""


class ComposeError(EnvOverlayError, ValueError):
    """Raised by ``compose(strict=True)`` when composition found errors."""


class PolicyError(EnvOverlayError, ValueError):
    """An inherit policy (or a Codex ``shell_environment_policy`` table) is malformed."""


class CodexConfigError(EnvOverlayError, ValueError):
    """A Codex config file (``config.toml``, a profile, ``-c``, ``hooks.json``) is wrong.

    ``file`` names the file (or ``-c``), ``key`` the dotted key or JSON pointer, ``fix``
    what to change; ``str()`` says all three. Raised by :mod:`envoverlay.codex`.
    """

    def __init__(self, file: str, key: str, problem: str, fix: str) -> None:
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {problem} (fix: {fix})")
        self.file = file
        self.key = key
        self.problem = problem
        self.fix = fix

    def __reduce__(self) -> tuple[Any, ...]:  # pickles with its four fields
        return (type(self), (self.file, self.key, self.problem, self.fix))


class LifecycleError(EnvOverlayError, ValueError):
    """An event or a thread state was given something it cannot take."""


class StateError(EnvOverlayError, ValueError):
    """A thread state document is malformed, of another format, or of a newer version."""


class NewerVersionError(StateError):
    """The document was written by a newer envoverlay (a format ``version`` this one does not
    know). It is not corrupt: keep it, and upgrade to read it."""

    def __init__(self, message: str, *, version: int) -> None:
        super().__init__(message)
        self.version = version

    def __reduce__(self) -> tuple[Any, ...]:  # pickles with its keyword argument
        return (functools.partial(type(self), version=self.version), (str(self),))


class ShellError(EnvOverlayError):
    """Running a login shell failed: not installed, timed out, exited non-zero, or printed
    something that is not an environment."""


class InputError(EnvOverlayError):
    """An input file could not be read; the message says which and why."""


class StoreError(EnvOverlayError):
    """The thread store could not do what was asked. ``path`` is the file or directory
    concerned, ``thread_id`` the thread (when there is one) and ``errno`` the OS error
    number when the cause is an :class:`OSError` (which is also ``__cause__``)."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        thread_id: str | None = None,
        errno: int | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.thread_id = thread_id
        self.errno = errno

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), str(self), dict(self.__dict__)))


def _rebuild(cls: type[StoreError], message: str, state: dict[str, Any]) -> StoreError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.diagnostics = ()
    error.__dict__.update(state)
    return error


class ThreadNotFoundError(StoreError, KeyError):
    """No file is stored for the thread. Also a :class:`KeyError`."""


class NewerStateError(StoreError):
    """The thread's file was saved by a newer envoverlay (a format ``version`` this one does
    not know). It is not corrupt: it is left in place and never overwritten. Upgrade
    envoverlay to load it, or delete the thread to start it anew."""

    def __init__(self, message: str, *, version: int, path: Path, thread_id: str) -> None:
        super().__init__(message, path=path, thread_id=thread_id)
        #: The format version the file says it has.
        self.version = version


class CorruptStateError(StoreError):
    """A thread file did not load. It was moved aside to ``moved_to`` (never overwritten or
    deleted); ``path`` is where it was and ``reason`` says what is wrong with it. The next
    ``ThreadStore.save`` of the thread writes a fresh file."""

    def __init__(
        self, message: str, *, path: Path, moved_to: Path, thread_id: str, reason: str
    ) -> None:
        super().__init__(message, path=path, thread_id=thread_id)
        self.path: Path = path
        self.moved_to = moved_to
        self.reason = reason


__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "CodexConfigError",
    "ComposeError",
    "CorruptStateError",
    "EnvOverlayError",
    "InputError",
    "LifecycleError",
    "NewerStateError",
    "NewerVersionError",
    "OverlayError",
    "PolicyError",
    "ShellError",
    "StateError",
    "StoreError",
    "ThreadNotFoundError",
]
