"""SessionStart hook output: from a hook's exit status and stdout to a layer, or a failure.

:func:`parse_hook_output` is the one entry point a runtime needs. It follows Codex's stdout
semantics and never raises:

* a non-zero exit status (or none: killed by a signal) → the hook failed, no env;
* stdout that is not valid UTF-8 → invalid output;
* empty stdout (after whitespace) → nothing;
* stdout starting with ``{`` or ``[`` → one JSON object, valid under the SessionStart output
  schema, without duplicate keys; its ``hookSpecificOutput.env`` overlay is checked against
  every rule of SPEC §2 and becomes one ``hook`` layer — all of it, or none of it;
* anything else → plain additional context.

Policy findings (a protected name; a sensitive one) are reported here so that
``envoverlay check`` fails on them, but they do not discard the layer: at compose time they
reject their own op only. They come from the one judge (:func:`envoverlay.policy.judge_op`)
that compose() uses, so a caller that parses a hook and then composes it gets findings equal
to compose()'s (only the JSON pointer differs, which is not part of a finding's identity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

import attrs

from ._jsonio import escape_pointer, load_json
from ._names import Platform, PlatformArg, resolve_platform, rules_for
from .diagnostics import Diagnostic, Findings
from .errors import ArgumentError
from .layers import Layer, Lifetime, parse_overlay
from .ops import Op, op_warnings
from .policy import ProtectedNames, SensitiveMode, judge_op, sensitive_mode
from .sources import LayerKind, Source

ENV_POINTER: Final = "/hookSpecificOutput/env"
#: The hook events whose output this module parses, with the schema each is checked against.
#: A SubagentStart hook's layer belongs to the child thread being started, never the parent.
HookEvent = Literal["SessionStart", "SubagentStart"]
_OUTPUT_SCHEMAS: Final[Mapping[str, str]] = {
    "SessionStart": "session-start.output",
    "SubagentStart": "subagent-start.output",
}
#: Stdout larger than this is not parsed (a hook that prints megabytes is broken).
MAX_OUTPUT_BYTES: Final = 16 * 1024 * 1024


@attrs.frozen(repr=False)
class HookResult(Findings):
    """What one hook's run contributes.

    ``ok`` is true when the hook succeeded and its output breaks no rule; ``layer`` is its
    env layer (None when it published no env, failed, or its overlay is malformed);
    ``errors`` and ``warnings`` are diagnostics with JSON pointers into the output.
    """

    hook_id: str
    layer: Layer | None
    additional_context: str | None = None
    system_message: str | None = None
    should_continue: bool = True
    stop_reason: str | None = None
    errors: tuple[Diagnostic, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    document: Mapping[str, Any] | None = None
    exit_code: int | None = 0

    def __repr__(self) -> str:
        return (
            f"HookResult({self.hook_id!r}, ok={self.ok}, layer={self.layer!r}, "
            f"errors={len(self.errors)}, warnings={len(self.warnings)})"
        )


def parse_hook_output(
    stdout: str | bytes,
    *,
    hook_id: str,
    exit_code: int | None = 0,
    platform: PlatformArg = "auto",
    protected: Iterable[str] = (),
    sensitive: SensitiveMode = "warn",
    kind: LayerKind = "hook",
    lifetime: Lifetime = "thread",
    inherit: bool = True,
    event: HookEvent = "SessionStart",
) -> HookResult:
    """Parse one SessionStart hook's stdout (see the module docs). Never raises on any
    output a hook can produce: every problem is in the result's ``errors``. Arguments that
    are themselves wrong (an empty ``hook_id``, an unknown platform, kind or mode, an empty
    protected pattern) raise :class:`~envoverlay.ArgumentError` (a ``ValueError``) or
    :class:`~envoverlay.PolicyError`: they are the caller's bug.

    ``event`` picks the output schema: ``"SubagentStart"`` checks a SubagentStart hook's
    output (its ``hookEventName`` must be ``"SubagentStart"``); its layer is the child's."""
    plat = resolve_platform(platform)
    if event not in _OUTPUT_SCHEMAS:
        raise ArgumentError(f"event must be 'SessionStart' or 'SubagentStart', not {event!r}")
    if kind not in ("hook", "provider"):
        raise ArgumentError(f"kind must be 'hook' or 'provider', not {kind!r}")
    sensitive = sensitive_mode(sensitive)
    ProtectedNames.build(protected, (), plat)  # a bad protected= fails before any parsing
    source = Source(kind, hook_id)
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []

    def error(code: str, pointer: str, message: str, hint: str, name: str | None = None) -> None:
        errors.append(Diagnostic("error", code, name, source, message, hint=hint, pointer=pointer))

    if exit_code != 0:
        if exit_code is None:
            message = "the hook exited without a status code (killed by a signal?); no env applies"
        else:
            message = f"the hook exited with code {exit_code}; no env applies"
        error("hook-failed", "", message, "make the hook exit 0 when it succeeds")

    text = _decode(stdout, error)
    if text is None:
        return _result(hook_id, None, errors, warnings, exit_code=exit_code)
    stripped = text.strip()
    if not stripped:
        return _result(hook_id, None, errors, warnings, exit_code=exit_code)
    if stripped[0] not in "{[":
        warnings.extend(hidden_document_warnings(stripped, source))
        return _result(hook_id, None, errors, warnings, context=stripped, exit_code=exit_code)

    document, problems = load_json(stripped, what="hook output")
    for problem in problems:
        error(problem.code, problem.pointer or "", problem.message, problem.hint)
    if problems:
        return _result(hook_id, None, errors, warnings, exit_code=exit_code)
    if not isinstance(document, dict):
        error(
            "invalid-output",
            "",
            f"hook output must be one JSON object, not {type(document).__name__}",
            'print one object such as {"hookSpecificOutput": {"hookEventName": "SessionStart"}}',
        )
        return _result(hook_id, None, errors, warnings, exit_code=exit_code)

    for problem in _schema_problems(document, source, event):
        errors.append(problem)

    specific = document.get("hookSpecificOutput")
    layer = None
    if isinstance(specific, dict) and "env" in specific:
        env = specific["env"]
        ops, problems = parse_overlay(env, platform=plat, source=source, pointer=ENV_POINTER)
        errors.extend(p for p in problems if p.severity == "error")
        warnings.extend(p for p in problems if p.severity == "warning")
        if not errors:
            layer = Layer(source, tuple(ops), lifetime, inherit)
            pointers = [f"{ENV_POINTER}/{escape_pointer(op.name)}" for op in ops]
            found_errors, found_warnings = policy_findings(
                ops, pointers, source, plat, protected, sensitive
            )
            errors.extend(found_errors)
            warnings.extend(found_warnings)

    context = specific.get("additionalContext") if isinstance(specific, dict) else None
    system_message = document.get("systemMessage")
    should_continue = document.get("continue", True)
    stop_reason = document.get("stopReason")
    return HookResult(
        hook_id,
        layer if exit_code == 0 else None,
        additional_context=context if isinstance(context, str) and exit_code == 0 else None,
        system_message=system_message if isinstance(system_message, str) else None,
        should_continue=should_continue if isinstance(should_continue, bool) else True,
        stop_reason=stop_reason if isinstance(stop_reason, str) else None,
        errors=tuple(errors),
        warnings=tuple(_dedupe(warnings)),
        document=document,
        exit_code=exit_code,
    )


def policy_findings(
    ops: Iterable[Op],
    pointers: Iterable[str],
    source: Source,
    platform: Platform,
    protected: Iterable[str] | str,
    sensitive: SensitiveMode,
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """What ``envoverlay check`` reports about a hook's ops (errors, warnings): the policy
    judge's findings (protected, sensitive) and the op warnings, each at its pointer."""
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    rules = rules_for(platform)
    protected_names = ProtectedNames.build(protected, (), platform)
    for op, pointer in zip(ops, pointers, strict=True):
        verdict = judge_op(op, source, rules=rules, protected=protected_names, sensitive=sensitive)
        for found in (*verdict.diagnostics, *op_warnings(op, platform, source)):
            located = attrs.evolve(found, pointer=pointer)
            (errors if located.severity == "error" else warnings).append(located)
        if op.action == "set" and rules.key(op.name) == rules.key("PATH"):
            warnings.append(_path_replaced(op.name, source, pointer))
    return errors, warnings


#: Top-level fields of a hook output document: a JSON object holding one of them, found
#: inside plain-text output, is a hook document that runtimes will not read.
_DOCUMENT_FIELDS: Final = frozenset(
    {"hookSpecificOutput", "continue", "stopReason", "suppressOutput", "systemMessage",
     "decision", "reason"}
)  # fmt: skip
#: How many ``{`` of a plain-text output are tried as the start of a hidden document.
_HIDDEN_TRIES: Final = 32


def hidden_document_warnings(text: str, source: Source) -> list[Diagnostic]:
    """Warnings for plain-text output that holds a hook JSON document runtimes will ignore.

    Codex's rule stays: output not starting with ``{`` or ``[`` is plain context. But a
    byte order mark in front of the JSON, or a progress line printed before it, turns a
    hook's env into context without a word: ``check`` says so (and ``check --strict``
    fails)."""
    if text.startswith("\ufeff") and text[1:].lstrip()[:1] in ("{", "["):
        return [
            Diagnostic(
                "warning",
                "byte-order-mark",
                None,
                source,
                "the output starts with a UTF-8 byte order mark, so runtimes read it as "
                "plain text and ignore the JSON after it",
                hint="print the JSON without a BOM (PowerShell: use UTF8Encoding($false))",
                pointer="",
            )
        ]
    import json

    decoder = json.JSONDecoder()
    start = text.find("{")
    for _ in range(_HIDDEN_TRIES):
        if start < 0:
            break
        try:
            document, _end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):  # not JSON, or nested past the decoder's limit
            document = None
        if isinstance(document, dict) and _DOCUMENT_FIELDS.intersection(document):
            line = text.count("\n", 0, start) + 1
            return [
                Diagnostic(
                    "warning",
                    "hidden-json",
                    None,
                    source,
                    f"the output is plain text, but line {line} holds a hook JSON document: "
                    "runtimes read the whole output as additional context and ignore its env",
                    hint="print only the JSON on stdout; send progress messages to stderr "
                    "(echo ... >&2)",
                    pointer="",
                )
            ]
        start = text.find("{", start + 1)
    return []


def _path_replaced(name: str, source: Source, pointer: str) -> Diagnostic:
    return Diagnostic(
        "warning", "path-replaced", name, source,
        f"{name} is set to a plain string, which replaces the whole PATH the command would "
        "get (the system's directories and every other layer's entries included)",
        hint=f'add to it instead: "{name}": {{"prepend": ["/your/bin"]}}',
        pointer=pointer,
    )  # fmt: skip


def merge_hook_layers(results: Iterable[HookResult]) -> list[Layer]:
    """The layers of several hooks' results, in configured order (later wins at compose
    time for the same variable). Failed or malformed hooks contribute nothing."""
    return [result.layer for result in results if result.layer is not None]


def _result(
    hook_id: str,
    layer: Layer | None,
    errors: list[Diagnostic],
    warnings: list[Diagnostic],
    *,
    context: str | None = None,
    exit_code: int | None,
) -> HookResult:
    return HookResult(
        hook_id,
        layer,
        additional_context=context if exit_code == 0 else None,
        errors=tuple(errors),
        warnings=tuple(warnings),
        exit_code=exit_code,
    )


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    out = []
    for diagnostic in diagnostics:
        if diagnostic not in seen:
            seen.add(diagnostic)
            out.append(diagnostic)
    return out


def _decode(stdout: str | bytes, error: Any) -> str | None:
    if isinstance(stdout, str):
        try:
            stdout.encode("utf-8")
        except UnicodeEncodeError as exc:
            error(
                "invalid-utf8",
                "",
                f"hook output holds a lone surrogate at character {exc.start}",
                "print valid UTF-8 text",
            )
            return None
        text = stdout
    elif isinstance(stdout, (bytes, bytearray)):
        if _too_large(len(stdout), "bytes", error):
            return None
        try:
            text = bytes(stdout).decode("utf-8")
        except UnicodeDecodeError as exc:
            error(
                "invalid-utf8",
                "",
                f"hook output is not valid UTF-8 (byte {exc.start}: {exc.reason})",
                "print UTF-8 text; encode non-text data before printing it",
            )
            return None
    else:
        error(
            "invalid-output",
            "",
            f"hook output must be text or bytes, not {type(stdout).__name__}",
            "pass the hook's stdout",
        )
        return None
    if _too_large(len(text), "characters", error):
        return None
    return text


def _too_large(size: int, unit: str, error: Any) -> bool:
    """Report output over :data:`MAX_OUTPUT_BYTES` (measured in ``unit``); True if it is."""
    if size <= MAX_OUTPUT_BYTES:
        return False
    error(
        "too-large",
        "",
        f"hook output is {size} {unit}; at most {MAX_OUTPUT_BYTES} are parsed",
        "print only the SessionStart JSON; write logs to stderr or a file",
    )
    return True


def _schema_problems(
    document: Mapping[str, Any], source: Source, event: HookEvent = "SessionStart"
) -> list[Diagnostic]:
    """Schema errors outside the env overlay (the overlay parser reports those, with the
    precise codes of SPEC §2)."""
    from .schemas import validator

    specific = document.get("hookSpecificOutput")
    if isinstance(specific, Mapping) and "env" in specific:
        # The overlay parser is the one reader of the env: validating it here too would cost
        # most of the time of a large output (a 5 MB one: seconds) for errors dropped below.
        document = {**document, "hookSpecificOutput": {**specific, "env": {}}}
    problems = []
    for found in validator(_OUTPUT_SCHEMAS[event]).iter_errors(document):
        path = [str(part) for part in found.absolute_path]
        pointer = "".join(f"/{escape_pointer(part)}" for part in path)
        if pointer == ENV_POINTER or pointer.startswith(ENV_POINTER + "/"):
            continue
        code, hint = _schema_code(found.validator, path, event)
        problems.append(
            Diagnostic("error", code, None, source, found.message, hint=hint, pointer=pointer)
        )
    return problems


def _schema_code(
    keyword: object, path: list[str], event: HookEvent = "SessionStart"
) -> tuple[str, str]:
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        return (
            "unknown-field",
            "remove the field; the " + event + " output schema does not allow it",
        )
    if path == ["hookSpecificOutput", "hookEventName"] or keyword == "const":
        return "wrong-event", 'set "hookEventName": "' + event + '"'
    if keyword == "required":
        return "missing-field", "add the required field"
    if keyword == "type":
        return "wrong-type", "use the JSON type the schema gives for this field"
    return "schema", "see `envoverlay schema` for the allowed shape"
