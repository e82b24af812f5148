"""The JSON Schemas shipped with envoverlay: loading, bundling and validation.

The files in the project's top-level ``schema/`` folder are the single source of truth. A wheel
ships them as ``envoverlay/schema/``; a source checkout or editable install reads them from
``<repo>/schema``. Schema ``NAME`` lives in the file ``NAME.schema.json`` and has the ``$id``
``https://envoverlay.dev/schema/NAME.schema.json``; the schemas refer to each other by ``$id``.
To add a schema, add its file and its name to :data:`SCHEMA_NAMES`.

Importing this module does not import jsonschema or referencing; :func:`validator` does, on
first use. No function here ever retrieves anything over the network.
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urldefrag, urljoin

from .errors import ArgumentError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = [
    "DEFAULT_SCHEMA",
    "SCHEMA_NAMES",
    "SchemaNotFoundError",
    "bundled_schema",
    "load_schema",
    "schema_id",
    "schema_text",
    "validator",
]

#: The names of the shipped schemas.
SCHEMA_NAMES: Final[tuple[str, ...]] = (
    "session-start.output",
    "session-start.input",
    "subagent-start.output",
    "subagent-start.input",
    "env-overlay",
    "thread-state",
    "check-report",
    "explain-report",
    "explain-codex",
    "emit-report",
    "claude-session-start.input",  # Claude Code 2.1's SessionStart stdin (envoverlay.claude)
)
#: The schema ``envoverlay schema`` prints when no name is given.
DEFAULT_SCHEMA: Final = "session-start.output"

_ID_PREFIX: Final = "https://envoverlay.dev/schema/"


class SchemaNotFoundError(FileNotFoundError):
    """A shipped schema file is missing: the installation is incomplete."""


def _file_name(name: str) -> str:
    if name not in SCHEMA_NAMES:
        raise ArgumentError(f"unknown schema {name!r}; one of: {', '.join(SCHEMA_NAMES)}")
    return f"{name}.schema.json"


def schema_id(name: str) -> str:
    """The ``$id`` of schema ``name``."""
    return _ID_PREFIX + _file_name(name)


@functools.cache
def _read(name: str) -> str:
    file_name = _file_name(name)
    packaged = resources.files(__package__ or "envoverlay").joinpath("schema").joinpath(file_name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # Source checkout or editable install: the top-level schema/ folder beside the package.
    root = Path(__file__).resolve().parent.parent
    checkout = root / "schema" / file_name
    if (root / "pyproject.toml").is_file() and checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    raise SchemaNotFoundError(
        f"schema file {file_name!r} is missing: it is neither in the installed package "
        f"(envoverlay/schema/{file_name}) nor in a source checkout (schema/{file_name}); "
        "the installation is incomplete, reinstall envoverlay"
    )


@functools.cache
def _parsed(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_read(name))
    return document


def schema_text(name: str = DEFAULT_SCHEMA) -> str:
    """The text of schema ``name``, exactly as shipped (its ``$ref`` may point to siblings)."""
    return _read(name)


def load_schema(name: str = DEFAULT_SCHEMA) -> dict[str, Any]:
    """Schema ``name``, parsed. Each call returns a fresh copy the caller may change."""
    return copy.deepcopy(_parsed(name))


def _refs(node: object) -> list[str]:
    """Every ``$ref`` string in ``node``, depth first."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_refs(item))
    return found


@functools.cache
def _bundle(name: str) -> dict[str, Any]:
    root = load_schema(name)
    by_id = {schema_id(other): other for other in SCHEMA_NAMES}
    embedded = {root["$id"]}
    pending = [root]
    while pending:
        document = pending.pop()
        for ref in _refs(document):
            target, _fragment = urldefrag(urljoin(document["$id"], ref))
            if target in embedded:
                continue
            if target not in by_id:
                raise ValueError(f"schema {name!r}: $ref {ref!r} is not a shipped schema")
            other = by_id[target]
            defs: dict[str, Any] = root.setdefault("$defs", {})
            if other in defs:
                raise ValueError(f"schema {name!r}: $defs already has a member {other!r}")
            defs[other] = load_schema(other)
            embedded.add(target)
            pending.append(defs[other])
    return root


def bundled_schema(name: str = DEFAULT_SCHEMA) -> dict[str, Any]:
    """Schema ``name`` as one self-contained document; a fresh copy on each call.

    Every shipped schema it refers to (directly or not) is embedded, unchanged and with its
    ``$id``, under ``$defs`` with the schema's name as the key. The ``$ref``-by-``$id``
    references then resolve inside the document (JSON Schema 2020-12 compound documents), so
    any validator can use it with no schema registry and no retrieval.
    """
    return copy.deepcopy(_bundle(name))


def validator(name: str = DEFAULT_SCHEMA) -> Validator:
    """A validator for schema ``name``, built once per process and shared: do not change it.

    The sibling schemas are registered by ``$id``; nothing is ever retrieved, so a ``$ref``
    to anything else fails instead of reaching the network.
    """
    return _validator(name)


@functools.cache
def _validator(name: str) -> Validator:
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.exceptions import NoSuchResource
    from referencing.jsonschema import DRAFT202012

    by_id = {schema_id(other): other for other in SCHEMA_NAMES}

    def shipped(uri: str) -> Any:
        """Another shipped schema, read when a reference reaches it (one the schema's own
        $refs do not reach: an evolved validator's); anything else is never retrieved."""
        if uri not in by_id:
            raise NoSuchResource(uri)
        return DRAFT202012.create_resource(_parsed(by_id[uri]))

    # The shipped schemas are checked against their metaschema by the test suite, not in
    # every process that validates with them. The registry holds the schemas the $refs
    # reach (a hook check reads two, not all eleven), parsed once and shared: validation
    # never changes a schema.
    registry: Registry[Any] = Registry(retrieve=shipped).with_resources(  # type: ignore[call-arg]
        (schema_id(other), DRAFT202012.create_resource(_parsed(other)))
        for other in _reachable(name)
    )
    return Draft202012Validator(_parsed(name), registry=registry)


def _reachable(name: str) -> list[str]:
    """Schema ``name`` and every shipped schema its $refs reach, directly or not."""
    by_id = {schema_id(other): other for other in SCHEMA_NAMES}
    found = [name]
    for current in found:  # grows while it is walked
        for ref in _refs(_parsed(current)):
            target, _fragment = urldefrag(urljoin(schema_id(current), ref))
            other = by_id.get(target)
            if other is not None and other not in found:
                found.append(other)
    return found
