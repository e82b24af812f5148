"""The one loader of the data-driven test catalogues.

Every catalogue (the conformance corpus, the bad inputs, the hook-output corpus, the env-file
fixtures and the Codex policy cases) is one JSON envelope, ``tests/catalogue.schema.json``::

    {"format": "envoverlay.<catalogue>", "version": N, "description": "...",
     "cases": [{"name": "<unique slug>", "rule" / "why": ..., <inputs>, "expect": {...}}]}

:func:`load` reads one strictly (UTF-8, no repeated member, no ``NaN``), checks it against the
envelope, the runner's format and version and the catalogue's own case schema, refuses a
name used twice and a ``fixture`` that is not there, and hands the cases to pytest with
:meth:`Catalogue.params`: one ``pytest.param(case, id=case["name"])`` each. Every problem is a
:class:`CatalogueError` naming the file, the JSON pointer and the fix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

import jsonschema
import pytest

ENVELOPE: Final = Path(__file__).with_name("catalogue.schema.json")

Case = dict[str, Any]


class CatalogueError(Exception):
    """A catalogue file that a runner cannot read: where, what and how to fix it."""

    def __init__(self, path: Path, pointer: str, problem: str, fix: str) -> None:
        self.path = path
        self.pointer = pointer
        self.problem = problem
        self.fix = fix
        where = pointer or "the whole document"
        super().__init__(f"{path}: at {where}: {problem}; fix: {fix}")


def pointer_to(parts: Iterable[str | int]) -> str:
    """The JSON pointer (RFC 6901) of a path of member names and array indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


# -- strict JSON ---------------------------------------------------------------------------


class _RepeatedMember(Exception):
    pass


class _Pairs(list[tuple[str, Any]]):
    """An object as its members in document order, repeats kept (to find the repeat)."""


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # member order matters in catalogues; a repeat would lose one silently
            raise _RepeatedMember(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"the non-JSON constant {name}")


def _first_repeat(value: Any, parts: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    if isinstance(value, _Pairs):
        seen: set[str] = set()
        for key, _ in value:
            if key in seen:
                return (*parts, key)
            seen.add(key)
        children: Iterable[tuple[str | int, Any]] = value
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return None
    for key, item in children:
        found = _first_repeat(item, (*parts, key))
        if found is not None:
            return found
    return None


def read_json(path: Path) -> Any:
    """``path`` as strict JSON: UTF-8 without a byte order mark, no repeated member in any
    object, no ``NaN``/``Infinity``; objects keep their member order."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        raise CatalogueError(
            path, "", "it starts with a byte order mark", "save it as UTF-8 without a BOM"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CatalogueError(
            path, "", f"byte {error.start} is not UTF-8", "save the file as UTF-8"
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except _RepeatedMember as repeat:
        found = _first_repeat(json.loads(text, object_pairs_hook=_Pairs))
        raise CatalogueError(
            path,
            pointer_to(found or ()),
            f"the member {repeat.args[0]!r} is given twice",
            "keep one of them: a repeated member would silently replace the first",
        ) from None
    except json.JSONDecodeError as error:
        raise CatalogueError(
            path,
            "",
            f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
            "correct the JSON syntax there",
        ) from None
    except ValueError as error:
        raise CatalogueError(
            path, "", f"not valid JSON: {error}", "write a number or a string"
        ) from None


# -- schemas ---------------------------------------------------------------------------------


@cache
def _validator(schema: Path) -> jsonschema.Draft202012Validator:
    document = read_json(schema)
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def _short(text: str, limit: int = 160) -> str:
    """``text`` cut to about ``limit`` characters: a message names a place, not a dump."""
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text)} characters)"


def _check(instance: Any, schema: Path, path: Path, at: tuple[str | int, ...]) -> None:
    """Raise the most relevant way ``instance`` (at pointer ``at`` of ``path``) breaks
    ``schema``, with the schema's own description of that place as the fix."""
    error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(instance))
    if error is None:
        return
    parts = (*at, *error.absolute_path)
    declared = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in error.instance)
        about = declared.get(missing, {}).get("description", f"see {schema.name}")
        raise CatalogueError(
            path,
            pointer_to(parts),
            f"the member {missing!r} is missing",
            f"add {missing!r}: {about}",
        )
    if error.validator == "additionalProperties" and error.validator_value is False:
        extra = next(name for name in error.instance if name not in declared)
        raise CatalogueError(
            path,
            pointer_to((*parts, extra)),
            f"{schema.name} has no member {extra!r} here",
            f"remove it, or use one of {', '.join(sorted(declared))}",
        )
    if error.validator in ("oneOf", "anyOf"):
        branches = [branch.get("description", "") for branch in error.validator_value]
        if all(branches):
            about: str | None = "one of: " + "; or ".join(branches)
        else:
            about = _nearest_description(error.schema, ())
    else:
        about = _nearest_description(_validator(schema).schema, error.absolute_schema_path)
    where = pointer_to(error.absolute_schema_path)
    fix = f"follow {schema.name} at {where}" + (f": {about}" if about else "")
    raise CatalogueError(path, pointer_to(parts), _short(error.message), fix)


def _resolve_ref(root: Any, ref: str) -> Any:
    """The subschema a local ``$ref`` ("#/$defs/case") points at; ``None`` for others."""
    if not ref.startswith("#"):
        return None
    node = root
    for escaped in ref[1:].split("/")[1:]:
        node = node.get(escaped.replace("~1", "/").replace("~0", "~"))
    return node


def _nearest_description(root: Any, schema_path: Iterable[str | int]) -> str | None:
    """The description of the deepest subschema on ``schema_path`` that has one: the words
    the schema's author wrote for this place."""
    found, node = None, root
    for part in (None, *schema_path):
        if part is not None:
            if isinstance(node, dict) and part not in node and "$ref" in node:
                node = _resolve_ref(root, node["$ref"])  # the path runs on inside the target
                found = _description(node) or found
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        found = _description(node) or found
    return found


def _description(node: Any) -> str | None:
    about = node.get("description") if isinstance(node, dict) else None
    return about if isinstance(about, str) else None


# -- catalogues --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Catalogue:
    """One catalogue file, read and checked."""

    path: Path
    format: str
    version: int
    description: str
    #: the catalogue's own top-level members (other than the envelope's four)
    header: Mapping[str, Any]
    cases: tuple[Case, ...] = field(repr=False)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def fixture(self, case: Case) -> Path:
        """The file a case's ``fixture`` names (relative to the catalogue's folder)."""
        return self.folder / case["fixture"]

    def fixtures(self) -> frozenset[str]:
        """Every ``fixture`` the cases name, as written."""
        return frozenset(case["fixture"] for case in self.cases if "fixture" in case)

    def params(
        self,
        where: Callable[[Case], bool] | None = None,
        marks: Callable[[Case], Collection[pytest.MarkDecorator]] | None = None,
    ) -> list[Any]:
        """``pytest.param(case, id=case["name"])`` for each case (those ``where`` selects),
        with the marks ``marks`` gives it."""
        return params(self.cases, where, marks)


def params(
    cases: Iterable[Case],
    where: Callable[[Case], bool] | None = None,
    marks: Callable[[Case], Collection[pytest.MarkDecorator]] | None = None,
) -> list[Any]:
    """The cases as pytest parameters whose id is the case's name."""
    return [
        pytest.param(case, id=case["name"], marks=tuple(marks(case)) if marks else ())
        for case in cases
        if where is None or where(case)
    ]


def load(
    path: Path,
    *,
    format: str,
    version: int,
    case_schema: Path | None = None,
    taken: dict[str, str] | None = None,
) -> Catalogue:
    """Read the catalogue at ``path``, which must be ``format`` at ``version``, each case
    valid under ``case_schema`` when given. ``taken`` (name → where) carries names already
    used by other files of one corpus."""
    document = read_json(path)
    if isinstance(document, dict) and "format" in document and document["format"] != format:
        raise CatalogueError(
            path,
            "/format",
            f"this is a {document['format']!r} catalogue; the runner reads {format!r}",
            'point the runner at its own catalogue, or correct "format"',
        )
    _check(document, ENVELOPE, path, ())
    if document["version"] != version:
        raise CatalogueError(
            path,
            "/version",
            f"version {document['version']} is not the version {version} this runner reads",
            "update the runner and the catalogue's README together with the version",
        )
    names: dict[str, str] = {} if taken is None else taken
    for index, case in enumerate(document["cases"]):
        if case_schema is not None:
            _check(case, case_schema, path, ("cases", index))
        here = pointer_to(("cases", index, "name"))
        if case["name"] in names:
            raise CatalogueError(
                path,
                here,
                f"the name {case['name']!r} is already used ({names[case['name']]})",
                "give this case a name of its own: names are test ids and must be unique",
            )
        names[case["name"]] = f"{path.name} at {here}"
        if "fixture" in case and not os.path.isfile(path.parent / case["fixture"]):
            raise CatalogueError(
                path,
                pointer_to(("cases", index, "fixture")),
                f"no fixture file {case['fixture']!r} next to the catalogue",
                "add the file, or correct the relative path",
            )
    return Catalogue(
        path=path,
        format=document["format"],
        version=document["version"],
        description=document["description"],
        header={k: v for k, v in document.items() if k not in _ENVELOPE_MEMBERS},
        cases=tuple(document["cases"]),
    )


def load_all(
    paths: Sequence[Path], *, format: str, version: int, case_schema: Path | None = None
) -> tuple[Catalogue, ...]:
    """Several files of one corpus, each its own envelope; a name is unique across all."""
    taken: dict[str, str] = {}
    return tuple(
        load(path, format=format, version=version, case_schema=case_schema, taken=taken)
        for path in paths
    )


_ENVELOPE_MEMBERS: Final = frozenset({"format", "version", "description", "cases"})


# -- the suite's catalogues ------------------------------------------------------------------

TESTS: Final = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a catalogue of the suite is (relative to ``tests/``) and the version its
    runners read; its format is ``envoverlay.<name>``."""

    file: str
    version: int
    case_schema: str


#: The one-file catalogues, by name. The conformance corpus is several files listed by its
#: manifest; ``tests/test_conformance.py`` reads them with :func:`load_all`.
SUITE: Final[Mapping[str, Entry]] = {
    "bad-inputs": Entry("bad_inputs/cases.json", 2, "bad_inputs/case.schema.json"),
    "hook-corpus": Entry("hook_corpus/cases.json", 2, "hook_corpus/case.schema.json"),
    "env-files": Entry("envfiles/manifest.json", 2, "envfiles/case.schema.json"),
    "codex-policy": Entry("data/codex/policy-cases.json", 2, "data/codex/policy-case.schema.json"),
}


def load_named(name: str) -> Catalogue:
    """The suite's catalogue ``name``, read and checked as :func:`load` does."""
    entry = SUITE[name]
    return load(
        TESTS / entry.file,
        format=f"envoverlay.{name}",
        version=entry.version,
        case_schema=TESTS / entry.case_schema,
    )
