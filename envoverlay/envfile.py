"""Env files as data: the static reader (SPEC §3a). Pure: text in, ops and diagnostics out.

Hooks publish env by writing shell lines to ``$CLAUDE_ENV_FILE`` / ``$CODEX_ENV_FILE``;
GitHub Actions steps write ``$GITHUB_ENV`` and ``$GITHUB_PATH``. A runtime that sources such
a file before every command runs whatever the file holds, every time. This module reads the
declarative subset instead and executes nothing:

* :func:`read_shell_env_file` — comments and blank lines; ``export NAME=VALUE``,
  ``declare -x NAME=VALUE``, ``NAME=VALUE`` (not exported: a warning and nothing applied,
  unless NAME is already exported, where bash changes it too), ``unset NAME``; single,
  double and ``$'…'`` quotes and backslash escapes; a self-reference (``dir:$PATH``,
  ``$PATH:dir``, ``dir${PATH:+:$PATH}``) → prepend/append; ``${NAME:-w}`` / ``${NAME:=w}``
  as the whole value → default; the ``case ":$PATH:"`` guard → prepend; other references
  resolved against the env composed so far, each reported; a literal path list holding the
  current value → prepend/append around it. Anything else is an error naming the line, the
  construct and the fix, and then nothing of the file applies (atomic, like an overlay).
* :func:`read_github_env` — ``NAME=value`` and ``NAME<<DELIM`` heredocs, GitHub's rules.
* :func:`read_github_path` — one directory a line, applied in GitHub's order.

Every op carries provenance: :attr:`EnvFileResult.lines` gives the line of each op, and
every diagnostic's ``pointer`` is ``LABEL:LINE``. Names matching the secret patterns
(:mod:`envoverlay.secrets`) — and values built from such variables — are marked secret.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Final, Literal

import attrs

from ._names import (
    Platform,
    PlatformArg,
    list_separator,
    name_key,
    name_problem,
    resolve_platform,
    windows_fold,
)
from .diagnostics import Diagnostic, Findings
from .diff import is_folded_path_list
from .emit import BLOCK_MARK, emitted_block
from .errors import ArgumentError, OverlayError
from .hooks import HookResult, policy_findings
from .layers import Layer, Lifetime
from .ops import REDACTED, Op, apply_op, unchecked_op
from .policy import SensitiveMode
from .secrets import DEFAULT_SECRET_NAMES, SecretNames
from .sources import LayerKind, Origin, Source, unchecked_origin

EnvFileFormat = Literal["shell", "github-env", "github-path"]
FORMATS: Final[tuple[EnvFileFormat, ...]] = ("shell", "github-env", "github-path")

#: How to fix a construct the static reader does not read (the text after "fix:").
FIX: Final = (
    "print the env as JSON in hookSpecificOutput.env (or write it with `envoverlay emit`), "
    "or, if you trust the hook, opt into evaluation (--evaluate-env-files)"
)

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME_FULL: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ASSIGNMENT: Final = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_OPERATOR_CHARS: Final = frozenset(";&|()<>")
_BLANK: Final = frozenset(" \t")
_BLANKS: Final = re.compile(r"[ \t]+")
#: Runs of characters that stand for themselves, outside quotes and inside double quotes.
_PLAIN: Final = re.compile(r"[^\s;&|()<>\\'\"$`~}]+")
_PLAIN_QUOTED: Final = re.compile(r'[^"\\$`]+')

#: Block openers and the word that closes each (an error inside skips the whole block).
_CLOSERS: Final[Mapping[str, str]] = {
    "if": "fi", "for": "done", "while": "done", "until": "done", "select": "done",
    "{": "}", "function": "}", "case": "esac",
}  # fmt: skip

#: First words that name a construct the reader refuses, and how it is called in errors.
_KEYWORDS: Final[Mapping[str, str]] = {
    "if": "a conditional (if)", "then": "a conditional (if)", "elif": "a conditional (if)",
    "else": "a conditional (if)", "fi": "a conditional (if)", "[": "a test ([ … ])",
    "[[": "a test ([[ … ]])", "test": "a test (test)", "for": "a loop (for)",
    "while": "a loop (while)", "until": "a loop (until)", "do": "a loop", "done": "a loop",
    "select": "a loop (select)", "function": "a shell function", "{": "a command group",
    "}": "a command group", "source": "`source` of another file", ".": "`.` of another file",
    "eval": "`eval`", "alias": "an alias", "exec": "`exec`", "set": "`set`",
    "shopt": "`shopt`", "trap": "`trap`", "cd": "`cd`", "local": "`local` (outside a function)",
    "return": "`return`", "exit": "`exit`", "let": "arithmetic (let)", "((": "arithmetic",
}  # fmt: skip


# -- results --------------------------------------------------------------------------


@attrs.frozen(repr=False)
class EnvFileResult(Findings):
    """What one env file contributes: its ops (none when there is any error), the line of
    each op, and every finding. ``label`` names the file in messages (e.g.
    ``CLAUDE_ENV_FILE`` or a path); ``method`` is ``static`` or ``evaluated``."""

    label: str
    format: EnvFileFormat
    ops: tuple[Op, ...] = ()
    lines: tuple[int, ...] = ()
    errors: tuple[Diagnostic, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    method: Literal["static", "evaluated"] = "static"

    @property
    def names(self) -> tuple[str, ...]:
        """The variables the file changes, in order of first change."""
        return tuple(dict.fromkeys(op.name for op in self.ops))

    def layer(
        self,
        *,
        kind: LayerKind = "hook",
        id: str | None = None,
        lifetime: Lifetime = "thread",
        inherit: bool = True,
    ) -> Layer | None:
        """The file's ops as a layer (id defaults to the label), or None on errors."""
        if self.errors:
            return None
        return Layer.from_ops(
            self.ops, kind=kind, id=id or self.label, lifetime=lifetime, inherit=inherit
        )

    def __repr__(self) -> str:
        return (
            f"EnvFileResult({self.label!r}, {self.format}, ops={list(self.ops)!r}, "
            f"errors={len(self.errors)}, warnings={len(self.warnings)})"
        )


class _Unsupported(Exception):
    """A construct the static reader does not read (or a syntax error)."""

    def __init__(
        self, line: int, construct: str, detail: str = "", code: str = "", closer: str = ""
    ) -> None:
        super().__init__(construct)
        self.line = line
        self.construct = construct
        self.detail = detail
        self.code = code or "env-file-unsupported"
        #: The word that ends the block this construct opened (skipped as a whole).
        self.closer = closer


# -- the shell lexer --------------------------------------------------------------------


@attrs.frozen
class _Lit:
    text: str
    quoted: bool


@attrs.frozen
class _Ref:
    """``$NAME`` / ``${NAME}`` / ``${NAME<op>word}`` (op one of ``:-``, ``-``, ``:=``,
    ``=``, ``:+``, ``+``; empty for none)."""

    name: str
    op: str = ""
    word: tuple[_Lit | _Ref, ...] = ()
    line: int = 0


_Part = _Lit | _Ref


@attrs.frozen
class _Word:
    parts: tuple[_Part, ...]
    line: int

    @property
    def plain(self) -> str | None:
        """The word's text when it is one unquoted literal (a keyword or command name)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], _Lit) and not self.parts[0].quoted:
            return self.parts[0].text
        return None

    @property
    def literal(self) -> str | None:
        """The word's text when it has no expansion (quotes allowed)."""
        if all(isinstance(p, _Lit) for p in self.parts):
            return "".join(p.text for p in self.parts if isinstance(p, _Lit))
        return None


@attrs.frozen
class _Token:
    """A word or an operator (``;``, ``;;``, ``&&``, ``|``, ``(``, ``)``, ``\\n``, ...)."""

    word: _Word | None
    operator: str
    line: int


_ANSI_SIMPLE: Final = {
    "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r",
    "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip


class _Lexer:
    """Splits shell text into words and operators with bash's quoting rules, refusing every
    expansion that would run code or depend on more than variables."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def advance(self, count: int = 1) -> str:
        chunk = self.text[self.pos : self.pos + count]
        self.line += chunk.count("\n")
        self.pos += count
        return chunk

    def skip_line(self) -> None:
        """Error recovery: go past the end of the current line."""
        end = self.text.find("\n", self.pos)
        self.advance((len(self.text) if end < 0 else end + 1) - self.pos)

    def tokens(self) -> Iterator[_Token]:
        while True:
            char = self.peek()
            if not char:
                return
            if char in _BLANK:
                self.pos = _BLANKS.match(self.text, self.pos).end()  # type: ignore[union-attr]
            elif char == "\\" and self.peek(1) == "\n":
                self.advance(2)
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.advance((len(self.text) if end < 0 else end) - self.pos)
            elif char == "\n":
                yield _Token(None, "\n", self.line)
                self.advance()
            elif char in _OPERATOR_CHARS:
                yield self.operator()
            else:
                yield _Token(self.word(), "", self.line)

    def operator(self) -> _Token:
        line = self.line
        two = self.text[self.pos : self.pos + 2]
        if two == "<<" and self.text[self.pos + 2 : self.pos + 3] != "<":
            self.skip_here_document()
            raise _Unsupported(line, "a here-document (<<)")
        if two in ("<(", ">("):
            raise _Unsupported(line, "process substitution")
        if self.peek() in "<>" or two in ("&>",):
            raise _Unsupported(line, "a redirection (< or >)")
        if two in (";;", "&&", "||", "((", "))"):
            self.advance(2)
            return _Token(None, two, line)
        return _Token(None, self.advance(), line)

    def skip_here_document(self) -> None:
        """Go past a here-document's body (to its delimiter line), so that its lines are
        not read as commands."""
        match = re.compile(r"<<(-?)[ \t]*(['\"]?)([^\s'\"<>;&|()]+)\2").match(self.text, self.pos)
        end = self.text.find("\n", self.pos)
        if match is None or end < 0:
            return
        strip, delimiter = match.group(1), match.group(3)
        self.advance(end + 1 - self.pos)
        while self.pos < len(self.text):
            stop = self.text.find("\n", self.pos)
            stop = len(self.text) if stop < 0 else stop
            body_line = self.text[self.pos : stop]
            self.advance(min(stop + 1, len(self.text)) - self.pos)
            if (body_line.lstrip("\t") if strip else body_line) == delimiter:
                return

    def word(self, *, stop: str = "") -> _Word:
        """One word; ``stop`` adds characters that end it (``}`` inside ``${X:-…}``)."""
        line = self.line
        parts: list[_Part] = []
        buffer: list[str] = []

        def flush(quoted: bool = False) -> None:
            if buffer:
                parts.append(_Lit("".join(buffer), quoted))
                buffer.clear()

        start = True
        while True:
            char = self.peek()
            if not char or char in stop:
                break
            if not stop and (char in _BLANK or char == "\n" or char in _OPERATOR_CHARS):
                break
            if char == "\\":
                self.advance()
                escaped = self.peek()
                if escaped == "\n":
                    self.advance()
                elif escaped:
                    flush()
                    parts.append(_Lit(self.advance(), True))
            elif char == "'":
                flush()
                parts.append(_Lit(self.single_quoted(), True))
            elif char == "$" and self.peek(1) == "'":
                flush()
                parts.append(_Lit(self.ansi_c(), True))
            elif char == '"' or (char == "$" and self.peek(1) == '"'):
                flush()
                if char == "$":
                    self.advance()
                parts.extend(self.double_quoted())
            elif char == "$":
                flush()
                parts.append(self.dollar())
            elif char == "`":
                raise _Unsupported(self.line, "command substitution (`…`)")
            elif char == "~" and (start or (buffer and buffer[-1][-1:] in ":=")) and not stop:
                flush()
                parts.append(self.tilde())
            else:
                plain = _PLAIN.match(self.text, self.pos)
                buffer.append(self.advance(plain.end() - self.pos if plain else 1))
            start = False
        flush()
        return _Word(tuple(parts), line)

    def tilde(self) -> _Part:
        self.advance()
        following = self.peek()
        if following and following not in "/:" and following not in _BLANK and following != "\n":
            raise _Unsupported(self.line, "~user (another user's home directory)")
        return _Ref("HOME", line=self.line)

    def single_quoted(self) -> str:
        line = self.line
        self.advance()
        end = self.text.find("'", self.pos)
        if end < 0:
            raise _Unsupported(line, "an unterminated single quote", code="env-file-syntax")
        text = self.advance(end - self.pos)
        self.advance()
        return text

    def ansi_c(self) -> str:
        line = self.line
        self.advance(2)
        out: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise _Unsupported(line, "an unterminated $'…' quote", code="env-file-syntax")
            self.advance()
            if char == "'":
                return "".join(out)
            if char != "\\":
                out.append(char)
                continue
            escape = self.advance()
            if not escape:
                raise _Unsupported(line, "an unterminated $'…' quote", code="env-file-syntax")
            if escape in _ANSI_SIMPLE:
                out.append(_ANSI_SIMPLE[escape])
            elif escape in "01234567":
                digits = escape + self.take_while("01234567", 2)
                out.append(self.code_point(int(digits, 8) & 0xFF, line, "x"))
            elif escape in "xuU":
                width = {"x": 2, "u": 4, "U": 8}[escape]
                digits = self.take_while("0123456789abcdefABCDEF", width)
                if not digits:
                    out.append("\\" + escape)
                else:
                    out.append(self.code_point(int(digits, 16), line, escape))
            elif escape == "c":
                control = self.advance()
                out.append(chr(ord(control.upper()) ^ 0x40) if control else "\\c")
            else:
                out.append("\\" + escape)

    @staticmethod
    def code_point(value: int, line: int, escape: str) -> str:
        if escape == "x":
            if value >= 0x80:
                raise _Unsupported(
                    line,
                    f"a raw byte escape \\x{value:02x} in $'…' (not a whole UTF-8 character)",
                    "write the character itself or \\u escapes",
                )
            return chr(value)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise _Unsupported(line, f"an invalid character escape \\{escape}{value:x} in $'…'")
        return chr(value)

    def take_while(self, allowed: str, limit: int) -> str:
        out: list[str] = []
        while len(out) < limit and self.peek() and self.peek() in allowed:
            out.append(self.advance())
        return "".join(out)

    def double_quoted(self) -> list[_Part]:
        line = self.line
        self.advance()
        parts: list[_Part] = []
        buffer: list[str] = []

        def flush() -> None:
            if buffer:
                parts.append(_Lit("".join(buffer), True))
                buffer.clear()

        while True:
            char = self.peek()
            if not char:
                raise _Unsupported(line, "an unterminated double quote", code="env-file-syntax")
            if char == '"':
                self.advance()
                flush()
                if not parts:
                    parts.append(_Lit("", True))
                return parts
            if char == "\\":
                self.advance()
                escaped = self.peek()
                if escaped == "\n":
                    self.advance()
                elif escaped in ('"', "\\", "$", "`"):
                    buffer.append(self.advance())
                else:
                    buffer.append("\\")
            elif char == "$":
                following = self.peek(1)
                if not following or not (
                    following in "{([0123456789@*#?$!-" or _NAME.match(self.text, self.pos + 1)
                ):
                    buffer.append(self.advance())
                    continue
                flush()
                parts.append(self.dollar(in_quotes=True))
            elif char == "`":
                raise _Unsupported(self.line, "command substitution (`…`)")
            else:
                plain = _PLAIN_QUOTED.match(self.text, self.pos)
                buffer.append(self.advance(plain.end() - self.pos if plain else 1))

    def dollar(self, *, in_quotes: bool = False) -> _Part:
        line = self.line
        following = self.peek(1)
        if following == "(":
            if self.peek(2) == "(":
                raise _Unsupported(line, "arithmetic expansion ($((…)))")
            raise _Unsupported(line, "command substitution ($(…))")
        if following == "[":
            raise _Unsupported(line, "arithmetic expansion ($[…])")
        if following == "{":
            return self.braced()
        match = _NAME.match(self.text, self.pos + 1)
        if match is not None:
            self.advance(1 + len(match.group()))
            return _Ref(match.group(), line=line)
        if following and following in "0123456789@*#?$!-":  # "" is in every string
            raise _Unsupported(line, f"the special parameter ${following}")
        self.advance()
        return _Lit("$", in_quotes)

    def braced(self) -> _Part:
        line = self.line
        self.advance(2)
        match = _NAME.match(self.text, self.pos)
        if match is None:
            shown = self.text[self.pos : self.pos + 1]
            if shown in ("#", "!"):
                raise _Unsupported(line, f"the expansion ${{{shown}…}}")
            raise _Unsupported(line, f"the special parameter ${{{shown}…}}")
        name = match.group()
        self.advance(len(name))
        if self.peek() == "}":
            self.advance()
            return _Ref(name, line=line)
        for op in (":-", ":=", ":+", "-", "=", "+"):
            if self.text.startswith(op, self.pos):
                self.advance(len(op))
                word = self.word(stop="}") if self.peek() != "}" else _Word((), line)
                if self.peek() != "}":
                    raise _Unsupported(
                        line, f"an unterminated ${{{name}{op}…}}", code="env-file-syntax"
                    )
                self.advance()
                return _Ref(name, op, word.parts, line)
        following = self.peek()
        what = {
            "%": "suffix removal", "#": "prefix removal", "/": "substitution",
            ":": "a substring", "^": "case conversion", ",": "case conversion",
            "?": "an error check", "@": "a transform", "[": "an array element",
        }.get(following, "an expansion")  # fmt: skip
        raise _Unsupported(line, f"${{{name}{following}…}} ({what})")


# -- the shell reader -------------------------------------------------------------------


class _Reader:
    """The state while reading one shell env file: the env as it stands after each line
    (composed-so-far env plus the file's exported changes) and the file's unexported shell
    variables."""

    __slots__ = (
        "_env", "_names", "base", "errors", "key", "label", "lines",
        "ops", "origins", "pending", "platform", "secrets", "separator", "set_on", "shell",
        "source", "tainted", "warnings",
    )  # fmt: skip

    def __init__(
        self,
        label: str,
        platform: Platform,
        source: Source | None,
        secrets: SecretNames,
        origins: Mapping[str, str],
        base: Mapping[str, str],
    ) -> None:
        self.label = label
        self.platform = platform
        self.source = source
        self.secrets = secrets
        self.origins = origins
        #: The env composed so far, as given; indexed by key on first look-up (see env).
        self.base = base
        self._env: dict[str, tuple[str, str]] | None = None
        self.ops: list[Op] = []
        self.lines: list[int] = []
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        #: key → (name, value, the ops an `export NAME` would apply, line of assignment)
        self.shell: dict[str, tuple[str, str, list[Op], int]] = {}
        #: key → ops applied but not yet folded into ``env`` (see :meth:`settle`)
        self.pending: dict[str, list[Op]] = {}
        #: key → the line that set it (for reference reports)
        self.set_on: dict[str, int] = {}
        self.tainted = False
        self.separator = list_separator(platform)
        self.key = name_key(platform)
        #: name → (key, secret, path list): see :meth:`name_info`
        self._names: dict[str, tuple[str, bool, bool]] = {}

    @property
    def env(self) -> dict[str, tuple[str, str]]:
        """key → (name, value): the env as it stands, without the ops still pending."""
        env = self._env
        if env is None:
            key = self.key
            env = self._env = {key(name): (name, value) for name, value in self.base.items()}
        return env

    def diagnostic(
        self,
        severity: Literal["error", "warning"],
        code: str,
        line: int,
        name: str | None,
        message: str,
        hint: str = "",
    ) -> None:
        found = Diagnostic(
            severity, code, name, self.source, f"line {line}: {message}", hint=hint,
            pointer=f"{self.label}:{line}",
        )  # fmt: skip
        (self.errors if severity == "error" else self.warnings).append(found)

    def unsupported(self, problem: _Unsupported) -> None:
        detail = f" {problem.detail}" if problem.detail else ""
        if problem.code == "env-file-syntax":
            message = f"syntax error: {problem.construct}{detail}"
            hint = "close the quote or brace; " + FIX
        elif problem.code == "nul":
            message = f"{problem.construct}: no environment value can hold one"
            hint = "remove the NUL character"
        else:
            message = f"{problem.construct} is not read statically{detail}"
            hint = FIX
        self.diagnostic("error", problem.code, problem.line, None, message, hint)

    # -- values ---------------------------------------------------------------------

    def lookup(self, name: str) -> str | None:
        key = self.key(name)
        if key in self.shell:
            return self.shell[key][1]
        if key in self.pending:
            self.settle(key)
        found = (self._env or self.env).get(key)
        return None if found is None else found[1]

    def name_info(self, name: str) -> tuple[str, bool, bool]:
        """``name``'s key, whether it is a secret's name and whether it holds a path list
        (judged once per name and file)."""
        found = self._names.get(name)
        if found is None:
            folded = windows_fold(name)  # both rules ignore case on every platform
            found = (
                self.key(name), self.secrets.matches_folded(folded), is_folded_path_list(folded)
            )  # fmt: skip
            self._names[name] = found
        return found

    def is_secret(self, name: str) -> bool:
        return self.name_info(name)[1]

    def is_path_list(self, name: str) -> bool:
        return self.name_info(name)[2]

    def resolve(self, parts: Sequence[_Part], target: str) -> str:
        out = []
        for part in parts:
            if isinstance(part, _Lit):
                out.append(part.text)
            else:
                out.append(self.resolve_ref(part, target))
        return "".join(out)

    def resolve_ref(self, ref: _Ref, target: str) -> str:
        value = self.lookup(ref.name)
        op = ref.op
        if op in (":=", "="):
            raise _Unsupported(
                ref.line, f"the assigning expansion ${{{ref.name}{op}…}} inside a value",
                f"(write `export {ref.name}=${{{ref.name}:-…}}` on a line of its own)",
            )  # fmt: skip
        if op == "":
            self.report(ref.name, ref.line, value, target)
            return value or ""
        present = bool(value) if op.startswith(":") else value is not None
        self.report(ref.name, ref.line, value, target)
        if op in (":-", "-"):
            return value or "" if present else self.resolve(ref.word, target)
        return self.resolve(ref.word, target) if present else ""  # :+ and +

    def report(self, name: str, line: int, value: str | None, target: str) -> None:
        """Report the reference ``$name`` on ``line`` in ``target``'s value."""
        key, secret, _ = self.name_info(name)
        if secret:
            self.tainted = True
        set_on, origins = self.set_on.get(key), self.origins
        if set_on is not None:
            origin = f"set on line {set_on} of this file"
        else:
            given = (origins.get(name) or origins.get(key)) if origins else None
            origin = given or "the env composed so far"
        if value is None:
            message = f"${name} in {target}'s value is not set here: it became empty"
            hint = f"write the value of {name} into the file, or ${{{name}:-default}}"
        else:
            shown = REDACTED if secret else value
            message = f"${name} in {target}'s value was resolved to {shown!r} (from {origin})"
            hint = "write the value itself if it must not depend on the env it is read in"
        self.diagnostic("warning", "env-file-reference", line, target, message, hint)

    def value_ops(self, name: str, parts: tuple[_Part, ...], line: int) -> list[Op]:
        """The ops of ``name=<parts>`` (see the module docs); raises _Unsupported."""
        try:
            return self.checked_value_ops(name, parts, line)
        except OverlayError:  # the only thing an op refuses here: NUL in the value
            raise _Unsupported(line, f"a NUL character in {name}'s value", code="nul") from None

    def checked_value_ops(self, name: str, parts: tuple[_Part, ...], line: int) -> list[Op]:
        key, sep = self.key(name), self.separator
        self.tainted = False
        secret = self.is_secret(name)
        if len(parts) == 1 and isinstance(parts[0], _Ref) and self.key(parts[0].name) == key:
            ref = parts[0]
            if ref.op in (":-", ":="):
                value = self.resolve(ref.word, name)
                return [Op.default(name, value, secret=secret or self.tainted)]
            if ref.op in ("-", "="):
                raise _Unsupported(
                    line, f"${{{name}{ref.op}…}} (a default only when unset)",
                    f"(write ${{{name}:{ref.op}…}}: a default when unset or empty)",
                )  # fmt: skip
        parts = self.normalized(parts, key)
        selves = [i for i, p in enumerate(parts) if isinstance(p, _Ref) and self.is_self(p, key)]
        if len(selves) == 1:
            index = selves[0]
            reported = len(self.warnings)
            before = self.resolve(parts[:index], name)
            after = self.resolve(parts[index + 1 :], name)
            if (not before or before.endswith(sep)) and (not after or after.startswith(sep)):
                secret = secret or self.tainted
                ops = []
                if before:
                    ops.append(Op.prepend(name, before[: -len(sep)].split(sep), secret=secret))
                if after:
                    ops.append(Op.append(name, after[len(sep) :].split(sep), secret=secret))
                if not ops and self.lookup(name) is None:
                    ops.append(Op.set(name, "", secret=secret))
                return ops
            del self.warnings[reported:]  # resolved again below, reported once
        value = self.resolve(parts, name)
        secret = secret or self.tainted
        current = self.lookup(name)
        if current and self.is_path_list(name) and value != current:
            around = self.around(value, current)
            if around is not None:
                ops = [
                    op_class(name, entries, secret=secret)
                    for op_class, entries in ((Op.prepend, around[0]), (Op.append, around[1]))
                    if entries
                ]
                if self.fold(current, ops) == value:
                    self.diagnostic(
                        "warning", "env-file-snapshot", line, name,
                        f"{name}'s value holds the whole current {name}: read as entries added "
                        "around it, so it still composes over another base",
                        f'write "dir{sep}${name}" instead of the expanded value',
                    )  # fmt: skip
                    return ops
        return [Op.set(name, value, secret=secret)]

    def is_self(self, ref: _Ref, key: str) -> bool:
        return self.key(ref.name) == key and ref.op == ""

    def normalized(self, parts: tuple[_Part, ...], key: str) -> tuple[_Part, ...]:
        """``${X:+SEP$X}`` / ``${X:+$X SEP}`` → ``SEP$X`` / ``$X SEP``: the same value under
        prepend/append semantics (a prepend on an empty list adds no separator either)."""
        sep = self.separator
        out: list[_Part] = []
        for part in parts:
            if isinstance(part, _Ref) and self.key(part.name) == key and part.op == ":+":
                word = part.word
                inner = [p for p in word if not (isinstance(p, _Lit) and p.text == "")]
                if (
                    len(inner) == 2
                    and isinstance(inner[0], _Lit)
                    and inner[0].text == sep
                    and isinstance(inner[1], _Ref)
                    and self.is_self(inner[1], key)
                ) or (
                    len(inner) == 2
                    and isinstance(inner[1], _Lit)
                    and inner[1].text == sep
                    and isinstance(inner[0], _Ref)
                    and self.is_self(inner[0], key)
                ):
                    out.extend(inner)
                    continue
            out.append(part)
        return tuple(out)

    def around(self, value: str, current: str) -> tuple[list[str], list[str]] | None:
        """The entries before and after the current list inside ``value``, if it is there
        as whole entries."""
        sep = self.separator
        entries, now = value.split(sep), current.split(sep)
        width = len(now)
        for start in range(len(entries) - width + 1):
            if entries[start : start + width] == now:
                return entries[:start], entries[start + width :]
        return None

    def fold(self, current: str | None, ops: Iterable[Op]) -> str | None:
        key = name_key(self.platform)
        for op in ops:
            current = apply_op(current, op, separator=self.separator, entry_key=key)
        return current

    # -- effects --------------------------------------------------------------------

    def apply(self, ops: Iterable[Op], line: int) -> None:
        origin = Origin(self.label, line)
        for op in ops:
            key = self.key(op.name)
            self.shell.pop(key, None)
            self.add(attrs.evolve(op, origin=origin), key, line)

    def add(self, op: Op, key: str, line: int) -> None:
        """Record an exported op of ``line`` (its origin set), ``key`` its name's key."""
        # Path edits and defaults are folded when the value is next looked up: a file of
        # many PATH prepends then costs one fold, not one per line.
        pending = self.pending.get(key)
        if pending is None:
            self.pending[key] = [op]
        else:
            pending.append(op)
        self.set_on[key] = line
        self.ops.append(op)
        self.lines.append(line)

    def settle(self, key: str) -> None:
        """Fold the ops applied to ``key`` since it was last looked up."""
        ops = self.pending.pop(key, None)
        if ops is None:
            return
        before = self.env.get(key)
        value = self.fold(None if before is None else before[1], ops)
        if value is None:
            self.env.pop(key, None)
        else:
            self.env[key] = (before[0] if before is not None else ops[0].name, value)

    def exported(self, name: str) -> bool:
        key = self.key(name)
        self.settle(key)
        return key in self.env

    def assign(self, name: str, parts: tuple[_Part, ...], line: int, *, export: bool) -> None:
        self.check_name(name, line)
        ops = self.value_ops(name, parts, line)
        if export or self.exported(name):
            self.apply(ops, line)
            return
        value = self.fold(self.lookup(name), ops) or ""
        self.shell[self.key(name)] = (name, value, ops, line)
        self.set_on[self.key(name)] = line
        self.diagnostic(
            "warning", "env-file-not-exported", line, name,
            f"{name} is assigned but not exported: no command would see it, so nothing applies",
            f"write `export {name}=…` if commands should get it, or remove the line",
        )  # fmt: skip

    def export_existing(self, name: str, line: int) -> None:
        self.check_name(name, line)
        found = self.shell.get(self.key(name))
        if found is not None:
            self.apply(found[2], line)

    def unset(self, name: str, line: int) -> None:
        self.check_name(name, line)
        key = self.key(name)
        if key in self.shell and not self.exported(name):
            del self.shell[key]
            return
        self.apply([Op.unset(name)], line)

    def check_name(self, name: str, line: int) -> None:
        problem = name_problem(name)
        if problem is not None or not _NAME_FULL.match(name):
            raise _Unsupported(
                line, f"the name {name!r}", "(not a valid shell variable name)",
                code="env-file-syntax",
            )  # fmt: skip


def read_shell_env_file(
    text: str,
    env: Mapping[str, str] | None = None,
    *,
    platform: PlatformArg = "auto",
    label: str = "CLAUDE_ENV_FILE",
    source: Source | None = None,
    secrets: SecretNames = DEFAULT_SECRET_NAMES,
    origins: Mapping[str, str] | None = None,
) -> EnvFileResult:
    """Read a ``CLAUDE_ENV_FILE`` / ``CODEX_ENV_FILE`` shell file statically over ``env``
    (the env composed so far). ``origins`` maps a variable to a description of where its
    value came from (e.g. ``hook:venv``), used when a reference is reported. Never raises on
    any text."""
    plat = resolve_platform(platform)
    label = _checked_label(label)
    reader = _Reader(label, plat, source, secrets, origins or {}, env or {})
    lexer = _Lexer(text)
    emitted = BLOCK_MARK in text  # (most files hold no block of emit's)
    end = len(text)
    while lexer.pos < end:
        try:
            if emitted and _emitted_block(reader, lexer):
                continue
            if _FAST_PATH and _simple_lines(reader, lexer):
                continue
            command = _next_command(lexer)
            if command is None:
                break
            _run(reader, lexer, command)
        except _Unsupported as problem:
            reader.unsupported(problem)
            _recover(lexer, problem)
    return _finish(label, "shell", reader.ops, reader.lines, reader.errors, reader.warnings)


#: Whether whole lines of the common forms skip the lexer (tests turn it off to check that
#: both ways read every text alike).
_FAST_PATH = True
_REF_SOURCE: Final = r"\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})"
#: Characters a value on the fast path never holds: NUL and surrogates are the checked
#: constructor's business (see :func:`~envoverlay.ops.unchecked_op`), a newline the lexer's.
_NOT_FAST: Final = "\\x00\\n\\ud800-\\udfff"
#: One line of the common forms: blank, a comment (not emit's block mark at the start of a
#: line), or ``[export ]NAME=VALUE`` alone on its line, VALUE single-quoted, ``$'…'`` with
#: one-character escapes, or double-quoted or bare with no escape and no expansion but
#: plain ``$NAME`` / ``${NAME}``. Groups: export, name, single, double, ansi, bare. Each
#: value is written ``plain* (special plain*)*`` rather than ``(plain | special)*``: the
#: same language, matched a run at a time instead of a character at a time.
_DOUBLE_PLAIN: Final = rf'[^"\\`${_NOT_FAST}]'
_ANSI_PLAIN: Final = rf"[^'\\{_NOT_FAST}]"
_BARE_PLAIN: Final = r"[A-Za-z0-9_./,@%+:=-]"
_SIMPLE_LINE: Final = re.compile(
    rf"(?!{re.escape(BLOCK_MARK)})[ \t]*"
    r"(?:#[^\n]*"
    r"|(export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)="
    rf"(?:'([^'{_NOT_FAST}]*)'"
    rf'|"({_DOUBLE_PLAIN}*(?:{_REF_SOURCE}{_DOUBLE_PLAIN}*)*)"'
    rf"|\$'({_ANSI_PLAIN}*(?:\\[abeEfnrtv\\'\"?]{_ANSI_PLAIN}*)*)'"
    rf"|({_BARE_PLAIN}*(?:{_REF_SOURCE}{_BARE_PLAIN}*)*))"
    r")?[ \t]*(?:\n|\Z)"
)
#: A reference in a fast-path value; ``split`` gives literal, brace, name, literal, ...
_REF_SPLIT: Final = re.compile(r"\$(\{)?([A-Za-z_][A-Za-z0-9_]*)(?(1)\})")
_REF: Final = re.compile(_REF_SOURCE)
_ANSI_ESCAPE: Final = re.compile(r"\\(.)")


def _ansi_escape(match: re.Match[str]) -> str:
    return _ANSI_SIMPLE[match.group(1)]


def _simple_lines(reader: _Reader, lexer: _Lexer) -> bool:
    """Read the run of lines of the common forms that starts here without the lexer (the
    same ops, lines, origins and findings); False when the next line is anything else.

    An exported literal of a name that is not a path list (most lines of a long file) is
    made right here; exported references and path edits go to
    :func:`_simple_references_or_edit`, anything else to the general path. The loop keeps
    its look-ups in locals: it runs once per line of a file of any length."""
    text, pos, line = lexer.text, lexer.pos, lexer.line
    end, start = len(text), lexer.pos
    match = _SIMPLE_LINE.match
    judged, judge = reader._names.get, reader.name_info
    shell, label, add = reader.shell, reader.label, reader.add
    try:
        while pos < end:
            found = match(text, pos)
            if found is None:
                break
            pos = found.end()
            if found.lastindex:  # an assignment (blank and comment lines have no group)
                export, name, single, double, ansi, bare = found.groups()
                quoted = True
                if single is not None:
                    value, literal = single, True
                elif ansi is not None:
                    value = _ANSI_ESCAPE.sub(_ansi_escape, ansi) if "\\" in ansi else ansi
                    literal = True
                else:
                    if double is not None:
                        value = double
                    else:
                        value, quoted = bare, False
                    literal = "$" not in value
                key, secret, path_list = judged(name) or judge(name)
                if literal and not path_list and export is not None and key not in shell:
                    # (a path list's literal value may be a snapshot: see value_ops)
                    op = unchecked_op(name, "set", value, (), secret, unchecked_origin(label, line))
                    add(op, key, line)
                elif literal or export is None or key in shell:
                    _general_assignment(reader, found, line, value, literal, quoted)
                else:
                    _simple_references_or_edit(reader, found, line, key, secret, path_list, value)
            line += 1
    except _Unsupported:
        lexer.pos, lexer.line = pos, line + 1  # the lexer resumes after the line in error
        raise
    if pos == start:
        return False
    if text[pos - 1] != "\n":  # the last line has no newline: the lexer counts none
        line -= 1
    lexer.pos, lexer.line = pos, line
    return True


def _simple_references_or_edit(
    reader: _Reader,
    found: re.Match[str],
    line: int,
    key: str,
    secret: bool,
    path_list: bool,
    value: str,
) -> None:
    """An exported value of :data:`_SIMPLE_LINE` with references (``key``, ``secret`` and
    ``path_list`` judge its name): a path edit around the name's own value, or references to
    other variables, made here as :meth:`_Reader.value_ops` makes them; anything else (a
    path list's value may be a snapshot) handed to it."""
    pieces = _REF_SPLIT.split(value)
    name, names = found.group(2), pieces[2::3]
    if key in map(reader.key, names):
        if _simple_self_reference(reader, name, secret, pieces, line):
            return
    elif not path_list:
        _simple_references(reader, name, secret, pieces, line)
        return
    quoted = found.group(4) is not None  # double-quoted, not bare
    _general_assignment(reader, found, line, value, False, quoted)


def _simple_references(
    reader: _Reader, name: str, secret: bool, pieces: list[str], line: int
) -> None:
    """A value with references to other variables (``pieces`` split at them): a set of the
    value they resolve to, each reported."""
    texts, names = pieces[::3], pieces[2::3]
    reader.tainted = False
    out = [texts[0]]
    for ref, after in zip(names, texts[1:], strict=True):
        current = reader.lookup(ref)
        reader.report(ref, line, current, name)
        out += (current or "", after)
    secret = secret or reader.tainted
    origin = unchecked_origin(reader.label, line)
    op = unchecked_op(name, "set", "".join(out), (), secret, origin)
    reader.add(op, reader.key(name), line)


def _simple_self_reference(
    reader: _Reader, name: str, secret: bool, pieces: list[str], line: int
) -> bool:
    """``dir:$NAME`` / ``$NAME:dir`` (``pieces`` split at the references) as one prepend or
    append; False for anything else (:meth:`_Reader.value_ops` reads it)."""
    if len(pieces) != 4:  # not the self-reference alone
        return False
    before, after, sep = pieces[0], pieces[3], reader.separator
    if before.endswith(sep) and not after:
        action: Literal["prepend", "append"] = "prepend"
        entries = before[: -len(sep)].split(sep)
    elif after.startswith(sep) and not before:
        action, entries = "append", after[len(sep) :].split(sep)
    else:
        return False
    origin = unchecked_origin(reader.label, line)
    op = unchecked_op(name, action, None, tuple(entries), secret, origin)
    reader.add(op, reader.key(name), line)
    return True


def _general_assignment(
    reader: _Reader, found: re.Match[str], line: int, value: str, literal: bool, quoted: bool
) -> None:
    """The line's value as the lexer's parts, assigned by the general path."""
    if literal:
        parts: tuple[_Part, ...] = (_Lit(value, quoted),) if value or quoted else ()
    else:
        parts_found: list[_Part] = []
        start = 0
        for ref in _REF.finditer(value):
            if ref.start() > start:
                parts_found.append(_Lit(value[start : ref.start()], quoted))
            parts_found.append(_Ref(ref.group().strip("${}"), line=line))
            start = ref.end()
        if start < len(value):
            parts_found.append(_Lit(value[start:], quoted))
        parts = tuple(parts_found)
    _assign(reader, found.group(2), False, parts, line, export=found.group(1) is not None)


#: Blank lines and comment lines other than emit's block marks.
_LINES_BEFORE_A_MARK: Final = re.compile(rf"(?:[ \t]*(?:(?!{re.escape(BLOCK_MARK)})#[^\n]*)?\n)*")


def _emitted_block(reader: _Reader, lexer: _Lexer) -> bool:
    """Read a block ``envoverlay emit`` wrote (a default or path edit, marked by its op on a
    comment line) as that op, without running it; False for anything else. The block must
    be byte for byte what emit writes for the op its mark names (see
    :func:`envoverlay.emit.emitted_block`), so the op is exactly the block's effect."""
    text = lexer.text
    start = _LINES_BEFORE_A_MARK.match(text, lexer.pos).end()  # type: ignore[union-attr]
    if not text.startswith(BLOCK_MARK, start):
        return False
    lines = text[start:].split("\n")
    found = emitted_block(lines, 0, platform=reader.platform)
    if found is None:
        return False
    op, end = found
    line = lexer.line + text.count("\n", lexer.pos, start)
    if reader.is_secret(op.name) and not op.secret:
        op = attrs.evolve(op, secret=True)
    reader.apply([op], line)
    consumed = sum(len(item) + 1 for item in lines[:end])
    lexer.pos = min(len(text), start + consumed)
    lexer.line = line + end
    return True


def _recover(lexer: _Lexer, problem: _Unsupported) -> None:
    """Go past what an error spoiled: the rest of its line, the whole block it opened, or
    the rest of the file after an unterminated quote."""
    if problem.construct.startswith("an unterminated"):
        lexer.advance(len(lexer.text) - lexer.pos)
        return
    if not problem.closer:
        if problem.line >= lexer.line:
            lexer.skip_line()
        return
    opener = next(word for word, closer in _CLOSERS.items() if closer == problem.closer)
    depth = 1
    while depth:
        try:
            command = _next_command(lexer)
        except _Unsupported:
            lexer.skip_line()
            continue
        if command is None:
            return
        for token in command:
            text = token.word.plain if token.word is not None else None
            if text == problem.closer:
                depth -= 1
            elif text == opener or (opener == "{" and text == "function"):
                depth += 1


def _finish(
    label: str,
    format: EnvFileFormat,
    ops: Sequence[Op],
    lines: Sequence[int],
    errors: Sequence[Diagnostic],
    warnings: Sequence[Diagnostic],
) -> EnvFileResult:
    if errors:  # atomic: nothing of a file with an error applies
        return EnvFileResult(label, format, (), (), tuple(errors), tuple(warnings))
    return EnvFileResult(label, format, tuple(ops), tuple(lines), (), tuple(warnings))


def _next_command(lexer: _Lexer) -> list[_Token] | None:
    """The tokens up to the next ``;`` or newline (operators other than those included),
    or None at the end."""
    tokens: list[_Token] = []
    try:
        return _read_command(lexer, tokens)
    except _Unsupported as problem:
        first = tokens[0].word.plain if tokens and tokens[0].word is not None else None
        if first is not None and first in _KEYWORDS:
            # `eval "$(…)"`: the command is what the author must change, not its argument
            raise _Unsupported(
                problem.line,
                _KEYWORDS[first],
                f"(with {problem.construct})",
                closer=_CLOSERS.get(first, ""),
            ) from None
        raise


def _read_command(lexer: _Lexer, tokens: list[_Token]) -> list[_Token] | None:
    for token in lexer.tokens():
        if token.operator in ("\n", ";"):
            if tokens:
                return tokens
            continue
        tokens.append(token)
        first = tokens[0].word
        if first is not None and first.plain == "case" and len(tokens) == 1:
            tokens.extend(_case_tokens(lexer, tokens[0].line))
            return tokens
    return tokens or None


def _case_tokens(lexer: _Lexer, line: int) -> list[_Token]:
    tokens = []
    for token in lexer.tokens():
        tokens.append(token)
        if token.word is not None and token.word.plain == "esac":
            return tokens
    raise _Unsupported(line, "a `case` without `esac`", code="env-file-syntax")


def _run(reader: _Reader, lexer: _Lexer, tokens: list[_Token]) -> None:
    line = tokens[0].line
    first_word = tokens[0].word.plain if tokens[0].word is not None else None
    if first_word in ("[", "[[", "test"):
        shown = {"[": "[ … ]", "[[": "[[ … ]]", "test": "test …"}[first_word]
        raise _Unsupported(line, f"a conditional ({shown} && …)")
    for token in tokens:
        if token.operator in ("&&", "||"):
            raise _Unsupported(token.line, f"a command list ({token.operator})")
        if token.operator == "|":
            raise _Unsupported(token.line, "a pipeline (|)")
        if token.operator == "&":
            raise _Unsupported(token.line, "a background command (&)")
    for previous, token in itertools.pairwise(tokens):
        if token.operator == "(" and previous.word is not None:
            last = previous.word.parts[-1] if previous.word.parts else None
            if isinstance(last, _Lit) and not last.quoted and last.text.endswith("="):
                raise _Unsupported(line, "an array assignment (NAME=(…))")
    words = [t.word for t in tokens if t.word is not None]
    first = words[0] if words else None
    operator = tokens[0].operator
    if operator in ("(", "(("):
        raise _Unsupported(line, "a subshell" if operator == "(" else "arithmetic")
    if first is None:
        raise _Unsupported(line, f"an unexpected {operator!r}", code="env-file-syntax")
    if len(tokens) > 1 and tokens[1].operator == "(":
        raise _Unsupported(line, "a shell function", closer="}")
    if first.plain == "case":
        _case_guard(reader, tokens)
        return
    if any(t.operator for t in tokens):
        bad = next(t for t in tokens if t.operator)
        raise _Unsupported(bad.line, f"an unexpected {bad.operator!r}", code="env-file-syntax")
    command = first.plain
    assignments = []
    for word in words:
        split = _split_assignment(word)
        if split is None:
            break
        assignments.append(split)
    if assignments and len(assignments) < len(words):
        rest = words[len(assignments)].plain or "a command"
        raise _Unsupported(line, f"a command with a prefix assignment ({rest})")
    if assignments:
        for name, append, parts in assignments:
            _assign(reader, name, append, parts, line, export=False)
        return
    if command in ("export", "declare", "typeset", "readonly"):
        _declaration(reader, command, words[1:], line)
        return
    if command == "unset":
        _unset(reader, words[1:], line)
        return
    if command in (":", "true"):
        _colon(reader, words[1:], line)
        return
    if command is not None and command in _KEYWORDS:
        raise _Unsupported(line, _KEYWORDS[command], closer=_CLOSERS.get(command, ""))
    shown = command or (first.literal or "a command")
    raise _Unsupported(line, f"the command {shown!r}")


def _split_assignment(word: _Word) -> tuple[str, bool, tuple[_Part, ...]] | None:
    """``NAME=…`` / ``NAME+=…`` when the word starts with an unquoted ``NAME=``."""
    first = word.parts[0] if word.parts else None
    if not isinstance(first, _Lit) or first.quoted:
        return None
    match = _ASSIGNMENT.match(first.text)
    if match is None:
        return None
    rest = first.text[match.end() :]
    parts = ((_Lit(rest, False),) if rest else ()) + word.parts[1:]
    return match.group(1), bool(match.group(2)), parts


def _assign(
    reader: _Reader, name: str, append: bool, parts: tuple[_Part, ...], line: int, *, export: bool
) -> None:
    if append:  # NAME+=word is NAME=$NAME word
        parts = (_Ref(name, line=line), *parts)
    reader.assign(name, parts, line, export=export)


def _declaration(reader: _Reader, command: str, words: list[_Word], line: int) -> None:
    export = command == "export"
    options = True
    for word in words:
        text = word.plain
        if options and text == "--":
            options = False
            continue
        if options and text is not None and text[:1] in ("-", "+") and len(text) > 1:
            flags = set(text[1:])
            if text[0] == "+" or flags - {"x", "g", "r"}:
                what = {"f": "a shell function", "n": "un-exporting (-n)", "p": "printing (-p)",
                        "a": "an array", "A": "an array", "i": "an integer attribute"}  # fmt: skip
                found = next((what[f] for f in text[1:] if f in what), f"the option {text}")
                raise _Unsupported(line, f"`{command} {text}` ({found})")
            export = export or "x" in flags
            continue
        options = False
        split = _split_assignment(word)
        if split is not None:
            name, append, parts = split
            _assign(reader, name, append, parts, line, export=export)
            continue
        literal = word.literal
        if literal is None:
            raise _Unsupported(line, f"`{command}` of a name built from an expansion")
        if export:
            reader.export_existing(literal, line)
        else:
            reader.check_name(literal, line)
    if not words:
        raise _Unsupported(line, f"`{command}` without arguments (it prints variables)")


def _unset(reader: _Reader, words: list[_Word], line: int) -> None:
    for word in words:
        text = word.plain
        if text == "-v":
            continue
        if text is not None and text.startswith("-"):
            raise _Unsupported(line, f"`unset {text}`" + (" (a function)" if "f" in text else ""))
        name = word.literal
        if name is None:
            raise _Unsupported(line, "`unset` of a name built from an expansion")
        reader.unset(name, line)


def _colon(reader: _Reader, words: list[_Word], line: int) -> None:
    """``: "${NAME:=word}"`` assigns a default to NAME (exported if NAME is)."""
    for word in words:
        parts = [p for p in word.parts if not (isinstance(p, _Lit) and not p.text)]
        if len(parts) == 1 and isinstance(parts[0], _Ref) and parts[0].op == ":=":
            ref = parts[0]
            default = _Ref(ref.name, ":-", ref.word, ref.line)
            reader.assign(ref.name, (default,), line, export=False)
            continue
        raise _Unsupported(line, "`:` with arguments other than ${NAME:=default}")


def _case_guard(reader: _Reader, tokens: list[_Token]) -> None:
    """``case ":$PATH:" in *":dir:"*) ;; *) export PATH="dir:$PATH";; esac`` (or the append
    form): the guard only avoids a duplicate entry, which prepend/append already do."""
    line = tokens[0].line
    shape = [t.operator or "W" for t in tokens if t.operator not in ("\n", ";")]
    words = [t.word for t in tokens if t.word is not None]
    fail = _Unsupported(line, 'a `case` statement other than the `case ":$PATH:"` guard')
    # case SUBJECT in PATTERN ) ;; * ) export NAME=VALUE ;; esac
    expected = ["W", "W", "W", "W", ")", ";;", "W", ")", "W", "W", ";;", "W"]
    if shape != expected or words[2].plain != "in" or words[4].plain != "*":
        raise fail
    subject, pattern = words[1], words[3]
    sep = reader.separator
    if (
        len(subject.parts) != 3
        or not isinstance(subject.parts[1], _Ref)
        or subject.parts[1].op
        or subject.literal is not None
    ):
        raise fail
    name = subject.parts[1].name
    if [p.text for p in subject.parts if isinstance(p, _Lit)] != [sep, sep]:
        raise fail
    texts = [p.text for p in pattern.parts if isinstance(p, _Lit)]
    if len(texts) != len(pattern.parts) or "".join(texts)[:1] != "*":
        raise fail
    guarded = "".join(texts)
    if not (guarded.startswith("*" + sep) and guarded.endswith(sep + "*")):
        raise fail
    entry = guarded[1 + len(sep) : -1 - len(sep)]
    if words[5].plain != "export":
        raise fail
    split = _split_assignment(words[6])
    if split is None or reader.key(split[0]) != reader.key(name) or split[1]:
        raise fail
    ops = reader.value_ops(split[0], split[2], words[6].line)
    if len(ops) != 1 or ops[0].action not in ("prepend", "append") or ops[0].entries != (entry,):
        raise fail
    reader.check_name(split[0], line)
    reader.apply(ops, words[6].line)


# -- GitHub Actions files ---------------------------------------------------------------


def _checked_label(label: str) -> str:
    """``label`` as every op's origin holds it (a bad one fails here, before any line)."""
    if type(label) is str:  # (only a str can be a cache key; anything else fails below)
        return _checked_str_label(label)
    return Origin(label, 1).file


@functools.lru_cache(maxsize=256)
def _checked_str_label(label: str) -> str:
    # A runtime reads the files of its few labels again and again.
    return Origin(label, 1).file


def _github_lines(text: str, platform: Platform) -> list[str]:
    """Lines the way the runner reads them: split at ``\\n`` (and ``\\r\\n`` on Windows)."""
    lines = text.split("\n")
    if platform == "windows":
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def read_github_env(
    text: str,
    *,
    platform: PlatformArg = "auto",
    label: str = "GITHUB_ENV",
    source: Source | None = None,
    secrets: SecretNames = DEFAULT_SECRET_NAMES,
) -> EnvFileResult:
    """Read a ``GITHUB_ENV`` file: ``NAME=value`` (split at the first ``=``, the value
    verbatim) and ``NAME<<DELIMITER`` heredocs (used when ``<<`` comes before any ``=``; the
    value runs to a line that equals the delimiter exactly). Values are never expanded.
    Unlike the runner, which applies the pairs before a bad line, nothing applies when any
    line is bad."""
    plat = resolve_platform(platform)
    label = _checked_label(label)
    lines = _github_lines(text, plat)
    if lines and lines[-1] == "":
        lines.pop()
    ops: list[Op] = []
    numbers: list[int] = []
    errors: list[Diagnostic] = []

    def error(number: int, message: str, hint: str, name: str | None = None) -> None:
        errors.append(
            Diagnostic(
                "error", "env-file-syntax", name, source, f"line {number}: {message}",
                hint=hint, pointer=f"{label}:{number}",
            )
        )  # fmt: skip

    index = 0
    while index < len(lines):
        line, number = lines[index], index + 1
        index += 1
        if line == "":
            continue
        heredoc = line.find("<<")
        equals = line.find("=")
        if heredoc >= 0 and (equals < 0 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not name or not delimiter:
                error(
                    number,
                    f"Invalid format {line!r}. Name must not be empty and delimiter must not "
                    "be empty",
                    "write NAME<<DELIMITER with a delimiter that no line of the value equals",
                )
                continue
            body: list[str] = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index >= len(lines):
                error(
                    number,
                    f"Invalid value. Matching delimiter not found {delimiter!r}",
                    f"end the value with a line holding exactly {delimiter!r}",
                    name,
                )
                break
            index += 1
            value = "\n".join(body)
        elif equals >= 0:
            name, value = line[:equals], line[equals + 1 :]
            if not name:
                error(
                    number, f"Invalid format {line!r}. Name must not be empty", "write NAME=value"
                )
                continue
        else:
            error(
                number, f"Invalid format {line!r}",
                "write NAME=value, or NAME<<DELIMITER for a value with newlines",
            )  # fmt: skip
            continue
        problem = name_problem(name)
        if problem is not None:
            error(number, f"{name!r}: {problem[1]}", "use a name without NUL", None)
            continue
        try:
            ops.append(
                Op.set(name, value, secret=secrets.matches(name), origin=Origin(label, number))
            )
        except ValueError as exc:
            error(number, str(exc).splitlines()[0], "remove the NUL character", name)
            continue
        numbers.append(number)
    return _finish(label, "github-env", ops, numbers, errors, [])


def read_github_path(
    text: str,
    *,
    platform: PlatformArg = "auto",
    label: str = "GITHUB_PATH",
    source: Source | None = None,
) -> EnvFileResult:
    """Read a ``GITHUB_PATH`` file: one directory a line (empty lines skipped, nothing
    trimmed). The runner puts the most recently added directory first, which is what one
    prepend per line, in file order, gives (a repeated directory moves to the front)."""
    plat = resolve_platform(platform)
    label = _checked_label(label)
    ops: list[Op] = []
    numbers: list[int] = []
    errors: list[Diagnostic] = []
    name = "Path" if plat == "windows" else "PATH"
    for number, line in enumerate(_github_lines(text, plat), start=1):
        if line == "":
            continue
        if "\0" in line:
            errors.append(
                Diagnostic(
                    "error", "nul", name, source, f"line {number}: a directory holds NUL",
                    hint="remove the NUL character", pointer=f"{label}:{number}",
                )
            )  # fmt: skip
            continue
        ops.append(Op.prepend(name, [line], origin=Origin(label, number)))
        numbers.append(number)
    return _finish(label, "github-path", ops, numbers, errors, [])


def read_env_file(
    text: str,
    env: Mapping[str, str] | None = None,
    *,
    format: EnvFileFormat = "shell",
    platform: PlatformArg = "auto",
    label: str | None = None,
    source: Source | None = None,
    secrets: SecretNames = DEFAULT_SECRET_NAMES,
    origins: Mapping[str, str] | None = None,
) -> EnvFileResult:
    """Read an env file of any :data:`FORMATS` statically (see each reader)."""
    if format == "shell":
        return read_shell_env_file(
            text, env, platform=platform, label=label or "CLAUDE_ENV_FILE", source=source,
            secrets=secrets, origins=origins,
        )  # fmt: skip
    if format == "github-env":
        return read_github_env(
            text, platform=platform, label=label or "GITHUB_ENV", source=source, secrets=secrets
        )
    if format == "github-path":
        return read_github_path(
            text, platform=platform, label=label or "GITHUB_PATH", source=source
        )
    raise ArgumentError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")


# -- hooks that publish through env files -------------------------------------------------

#: The env-file variables a hook runner sets, in the order their files are read.
HOOK_ENV_FILE_VARIABLES: Final = ("CLAUDE_ENV_FILE", "CODEX_ENV_FILE")


def attach_env_files(
    hook: HookResult,
    files: Sequence[EnvFileResult],
    *,
    platform: PlatformArg = "auto",
    protected: Iterable[str] = (),
    sensitive: SensitiveMode = "warn",
    lifetime: Lifetime = "thread",
    inherit: bool = True,
) -> HookResult:
    """``hook`` with the ops of the env files it wrote joined to its layer, after its stdout
    overlay (so the files win for the same variable), and their findings added. A failed
    hook contributes nothing, its env files included; an env file with an error makes the
    hook invalid and nothing of the hook applies (a half-applied activation is worse than
    none). Policy findings (protected, sensitive) are reported as for stdout ops, at
    ``FILE:LINE``."""
    if hook.exit_code != 0 or not files:
        return hook
    plat = resolve_platform(platform)
    source = hook.layer.source if hook.layer is not None else Source("hook", hook.hook_id)
    errors = list(hook.errors)
    warnings = list(hook.warnings)
    ops: list[Op] = list(hook.layer.ops) if hook.layer is not None else []
    for result in files:
        errors.extend(result.errors)
        warnings.extend(result.warnings)
        lines = result.lines or (0,) * len(result.ops)
        pointers = [f"{result.label}:{line}" if line else result.label for line in lines]
        found_errors, found_warnings = policy_findings(
            result.ops, pointers, source, plat, protected, sensitive
        )
        errors.extend(found_errors)
        warnings.extend(found_warnings)
        ops.extend(result.ops)
    layer = None
    if not errors and ops:
        if hook.layer is not None:
            lifetime, inherit = hook.layer.lifetime, hook.layer.inherit
        layer = Layer(source, tuple(ops), lifetime, inherit)
    return attrs.evolve(hook, layer=layer, errors=tuple(errors), warnings=tuple(warnings))


def _a(action: str) -> str:
    return f"an {action}" if action[0] in "aeiou" else f"a {action}"


def overlay_of(
    ops: Iterable[Op], *, platform: PlatformArg = "auto", redact: bool = True
) -> dict[str, object]:
    """The overlay (SPEC §3) with the same effect as ``ops`` applied in order: one op object
    per variable. A set or unset absorbs what came before it; later prepends/appends merge
    with earlier ones (an entry moved to the other end leaves the first). Raises ValueError
    for a sequence one op object cannot express (a default followed by a path edit)."""
    plat = resolve_platform(platform)
    separator, key = list_separator(plat), name_key(plat)
    merged: dict[str, Op | tuple[list[str], list[str], Op]] = {}
    for op in ops:
        previous = merged.get(key(op.name))
        if op.action in ("set", "unset") or previous is None:
            merged[key(op.name)] = (
                ([*op.entries], [], op) if op.action == "prepend"
                else ([], [*op.entries], op) if op.action == "append"
                else op
            )  # fmt: skip
            continue
        if isinstance(previous, Op):
            if previous.action == "unset" or (previous.action == "set" and op.action != "default"):
                value = apply_op(
                    previous.value, op, separator=op.separator or separator, entry_key=key
                )
                merged[key(op.name)] = Op.set(
                    op.name, value or "", secret=previous.secret or op.secret
                )
                continue
            if previous.action == "set":  # a default after a set: the set holds
                merged[key(op.name)] = (
                    previous
                    if previous.value
                    else Op.set(op.name, op.value or "", secret=op.secret)
                )
                continue
            raise ArgumentError(
                f"{op.name}: {_a(op.action)} after {_a(previous.action)} is not one op object"
            )
        front, back, model = previous
        if op.action == "default" or op.separator != model.separator:
            raise ArgumentError(
                f"{op.name}: {_a(op.action)} after a path edit is not one op object"
            )
        new = list(op.entries)
        if op.action == "prepend":
            front = new + [e for e in front if e not in new]
            back = [e for e in back if e not in new]
        else:
            back = [e for e in back if e not in new] + new
            front = [e for e in front if e not in new]
        merged[key(op.name)] = (front, back, attrs.evolve(model, secret=model.secret or op.secret))
    out: dict[str, object] = {}
    for item in merged.values():
        if isinstance(item, Op):
            out[item.name] = item.to_overlay(redact=redact)
            continue
        front, back, model = item
        name = model.name
        spec: dict[str, object] = {}
        for action, entries in (("prepend", front), ("append", back)):
            if entries:
                spec[action] = [REDACTED] * len(entries) if model.secret and redact else entries
        if model.separator is not None:
            spec["separator"] = model.separator
        if model.secret:
            spec["secret"] = True
        out[name] = spec
    return out


__all__ = [
    "FIX",
    "FORMATS",
    "HOOK_ENV_FILE_VARIABLES",
    "EnvFileFormat",
    "EnvFileResult",
    "attach_env_files",
    "overlay_of",
    "read_env_file",
    "read_github_env",
    "read_github_path",
    "read_shell_env_file",
]
