"""The catalogue loader (tests/catalogue.py): the envelope every data-driven catalogue shares,
and the errors that name the file, the JSON pointer and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from catalogue import (
    SUITE,
    CatalogueError,
    load,
    load_all,
    load_named,
    params,
    pointer_to,
    read_json,
)
from hypothesis import given
from hypothesis import strategies as st

FORMAT = "envoverlay.example"


def _good() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": 3,
        "description": "cases for the loader's own tests",
        "shared": {"base": {"PATH": "/bin"}},
        "cases": [
            {"name": "first", "why": "one", "input": 1, "expect": {"value": 1}},
            {"name": "second", "rule": "some-rule", "fixture": "in/a.txt", "expect": {}},
        ],
    }


CASE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {},
        "why": {},
        "rule": {},
        "fixture": {},
        "input": {"description": "a small integer", "type": "integer", "maximum": 9},
        "expect": {},
    },
}


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("a")
    (tmp_path / "case.schema.json").write_text(json.dumps(CASE_SCHEMA))
    return tmp_path


def _write(folder: Path, document: Any, name: str = "cases.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    return path


def _load(path: Path, **options: Any) -> Any:
    return load(path, format=FORMAT, version=3, **options)


def test_a_good_catalogue_loads(tmp_path: Path) -> None:
    path = _write(_folder(tmp_path), _good())
    catalogue = _load(path, case_schema=tmp_path / "case.schema.json")
    assert (catalogue.format, catalogue.version) == (FORMAT, 3)
    assert catalogue.description == "cases for the loader's own tests"
    assert catalogue.header == {"shared": {"base": {"PATH": "/bin"}}}
    assert [case["name"] for case in catalogue.cases] == ["first", "second"]
    assert catalogue.fixtures() == {"in/a.txt"}
    assert catalogue.fixture(catalogue.cases[1]).read_text() == "a"


def test_params_are_named_filtered_and_marked(tmp_path: Path) -> None:
    catalogue = _load(_write(_folder(tmp_path), _good()))
    every = catalogue.params()
    assert [p.id for p in every] == ["first", "second"]
    assert [p.values for p in every] == [(case,) for case in catalogue.cases]
    chosen = catalogue.params(lambda case: "rule" in case, marks=lambda case: [pytest.mark.slow])
    assert [p.id for p in chosen] == ["second"]
    assert [mark.name for mark in chosen[0].marks] == ["slow"]
    assert params([]) == []


def _drop(document: dict[str, Any], *parts: str | int) -> dict[str, Any]:
    target: Any = document
    for part in parts[:-1]:
        target = target[part]
    del target[parts[-1]]
    return document


def _put(document: dict[str, Any], value: Any, *parts: str | int) -> dict[str, Any]:
    target: Any = document
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value
    return document


#: (id, the catalogue, JSON pointer of the problem, words of the problem, words of the fix)
BAD_CATALOGUES: list[tuple[str, Any, str, str, str]] = [
    ("duplicate name", _put(_good(), "first", "cases", 1, "name"), "/cases/1/name",
     "'first' is already used (cases.json at /cases/0/name)", "a name of its own"),
    ("missing expect", _drop(_good(), "cases", 0, "expect"), "/cases/0",
     "'expect' is missing", "add 'expect': what must happen"),
    ("expect not an object", _put(_good(), [1], "cases", 0, "expect"), "/cases/0/expect",
     "is not of type 'object'", "what must happen"),
    ("neither rule nor why", _drop(_good(), "cases", 0, "why"), "/cases/0",
     "is not valid under any of the given schemas", '"why": what the case shows'),
    ("missing name", _drop(_good(), "cases", 1, "name"), "/cases/1",
     "'name' is missing", "a slug unique in the catalogue"),
    ("name not a slug", _put(_good(), "posix: First", "cases", 0, "name"), "/cases/0/name",
     "does not match", "a slug"),
    ("wrong format", _put(_good(), "envoverlay.bad-inputs", "format"), "/format",
     "'envoverlay.bad-inputs' catalogue; the runner reads 'envoverlay.example'",
     "its own catalogue"),
    ("format not envoverlay.*", _put(_good(), "example", "format"), "/format",
     "'example' catalogue", "its own catalogue"),
    ("missing format", _drop(_good(), "format"), "", "'format' is missing",
     "envoverlay.<catalogue>"),
    ("unknown version", _put(_good(), 4, "version"), "/version",
     "version 4 is not the version 3", "update the runner"),
    ("version a string", _put(_good(), "3", "version"), "/version",
     "is not of type 'integer'", "an integer from 1"),
    ("missing description", _drop(_good(), "description"), "", "'description' is missing",
     "add 'description'"),
    ("no cases", _put(_good(), [], "cases"), "/cases", "should be non-empty", "non-empty"),
    ("a bare array (the old conformance files)", [_good()["cases"][0]], "",
     "is not of type 'object'", "catalogue.schema.json"),
    ("a case that is not an object", _put(_good(), "first", "cases", 0), "/cases/0",
     "is not of type 'object'", "one case"),
    ("missing fixture", _put(_good(), "in/b.txt", "cases", 1, "fixture"), "/cases/1/fixture",
     "no fixture file 'in/b.txt'", "add the file"),
    ("fixture outside the folder", _put(_good(), "../cases.json", "cases", 1, "fixture"),
     "/cases/1/fixture", "does not match", "no '..'"),
    ("absolute fixture", _put(_good(), "/etc/hostname", "cases", 1, "fixture"),
     "/cases/1/fixture", "does not match", "relative path"),
    ("case schema: a member it does not know", _put(_good(), 1, "cases", 1, "inputs"),
     "/cases/1/inputs", "case.schema.json has no member 'inputs'", "expect, fixture, input"),
    ("case schema: a value it refuses", _put(_good(), 10, "cases", 0, "input"),
     "/cases/0/input", "10 is greater than the maximum of 9", "a small integer"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("document", "pointer", "problem", "fix"),
    [pytest.param(*row[1:], id=row[0]) for row in BAD_CATALOGUES],
)
def test_bad_catalogues_are_refused_naming_file_pointer_and_fix(
    tmp_path: Path, document: Any, pointer: str, problem: str, fix: str
) -> None:
    path = _write(_folder(tmp_path), document)
    with pytest.raises(CatalogueError) as raised:
        _load(path, case_schema=tmp_path / "case.schema.json")
    error = raised.value
    assert (error.path, error.pointer) == (path, pointer)
    assert problem in error.problem
    assert fix in error.fix
    assert str(error).startswith(f"{path}: at {pointer or 'the whole document'}: ")
    assert str(error).endswith(f"; fix: {error.fix}")


#: (id, the file's bytes, JSON pointer, words of the problem)
BAD_JSON: list[tuple[str, bytes, str, str]] = [
    ("repeated member", b'{"a": 1, "b": {"PATH": "/a", "PATH": "/b"}}', "/b/PATH",
     "'PATH' is given twice"),
    ("repeated member in an array", b'[{"x": 1}, {"y": [{"k": 1, "k": 1}]}]', "/1/y/0/k",
     "'k' is given twice"),
    ("repeated member with / and ~ in names", b'{"a/b": {"~": 1, "~": 2}}', "/a~1b/~0",
     "'~' is given twice"),
    ("syntax error", b'{"a": 1,}', "", "not valid JSON"),
    ("NaN", b'{"a": NaN}', "", "NaN"),
    ("byte order mark", b'\xef\xbb\xbf{"a": 1}', "", "byte order mark"),
    ("not UTF-8", b'{"a": "\xff"}', "", "byte 7 is not UTF-8"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "pointer", "problem"), [pytest.param(*row[1:], id=row[0]) for row in BAD_JSON]
)
def test_json_that_could_lose_or_garble_a_case_is_refused(
    tmp_path: Path, data: bytes, pointer: str, problem: str
) -> None:
    path = tmp_path / "cases.json"
    path.write_bytes(data)
    with pytest.raises(CatalogueError) as raised:
        read_json(path)
    assert (raised.value.pointer, raised.value.path) == (pointer, path)
    assert problem in raised.value.problem
    assert raised.value.fix


def test_member_order_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"z": 1, "a": {"PATH": 1, "Path": 2}}')
    document = read_json(path)
    assert list(document) == ["z", "a"]
    assert list(document["a"]) == ["PATH", "Path"]


def test_a_name_is_unique_across_the_files_of_a_corpus(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    first = _write(folder, _good(), "one.json")
    renamed = _put(_put(_good(), "third", "cases", 0, "name"), "fourth", "cases", 1, "name")
    other = _write(folder, renamed, "two.json")
    assert [len(c.cases) for c in load_all([first, other], format=FORMAT, version=3)] == [2, 2]
    clash = _write(folder, _put(renamed, "second", "cases", 0, "name"), "three.json")
    with pytest.raises(CatalogueError) as raised:
        load_all([first, clash], format=FORMAT, version=3)
    assert (raised.value.path, raised.value.pointer) == (clash, "/cases/0/name")
    assert "(one.json at /cases/1/name)" in raised.value.problem


@pytest.mark.parametrize("name", sorted(SUITE))
def test_every_catalogue_of_the_suite_loads_under_its_name(name: str) -> None:
    catalogue = load_named(name)
    assert catalogue.format == f"envoverlay.{name}"
    assert catalogue.version == SUITE[name].version
    assert len(catalogue.cases) >= 90


# -- properties -------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def _resolve(document: Any, pointer: str) -> Any:
    for escaped in pointer.split("/")[1:]:
        part = escaped.replace("~1", "/").replace("~0", "~")
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


@given(
    cases=st.lists(
        st.fixed_dictionaries(
            {"name": st.sampled_from(["a", "b", "c-1", "Bad Name"])},
            optional={"expect": _JSON, "why": _JSON, "fixture": _JSON, "rule": _JSON},
        ),
        max_size=4,
    ),
    version=st.sampled_from([3, 2, "3", None]),
    extra=st.dictionaries(st.sampled_from(["format", "description", "env"]), _JSON, max_size=2),
)
def test_any_catalogue_loads_or_is_refused_at_a_place_that_exists(
    tmp_path_factory: pytest.TempPathFactory, cases: list[Any], version: Any, extra: dict[str, Any]
) -> None:
    document = {"format": FORMAT, "version": version, "description": "d", "cases": cases, **extra}
    path = _write(tmp_path_factory.mktemp("catalogue"), document)
    try:
        catalogue = _load(path)
    except CatalogueError as error:
        refused = error
    else:
        refused = None
        names = [case["name"] for case in catalogue.cases]
        assert len(names) == len(set(names))
        assert all(isinstance(case["expect"], dict) for case in catalogue.cases)
    if refused is not None:
        _resolve(document, refused.pointer)  # the pointer names a place in the document
        assert refused.fix


@given(st.binary(max_size=40) | _JSON.map(lambda value: json.dumps(value).encode()))
def test_any_file_is_read_or_refused_clearly(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("json") / "cases.json"
    path.write_bytes(data)
    try:
        document, refused = read_json(path), None
    except CatalogueError as error:
        document, refused = None, error
    if refused is None:
        assert document == json.loads(data)
    else:
        assert refused.path == path
        assert refused.fix


def test_pointer_escapes_tilde_and_slash() -> None:
    assert pointer_to(["cases", 0, "a/b~c"]) == "/cases/0/a~1b~0c"
    assert pointer_to([]) == ""
