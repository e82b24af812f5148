"""What users install: `python -m build` makes an sdist and a wheel ready for an index (metadata,
version, license); the wheel ships the schemas (and no tests), and the installed package
finds them without the source tree; `envoverlay schema` prints self-contained documents."""

from __future__ import annotations

import email.message
import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import envoverlay
from envoverlay.cli import main
from envoverlay.schemas import SCHEMA_NAMES, bundled_schema

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build`: an sdist, then a wheel built from that sdist (so a file the sdist
    forgets breaks the wheel)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    [built] = dist.glob("envoverlay-*.whl")
    return built


@pytest.fixture(scope="module")
def sdist(dist: Path) -> Path:
    [built] = dist.glob("envoverlay-*.tar.gz")
    return built


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.BytesParser().parsebytes(archive.read(name))


def test_wheel_metadata_is_ready_for_an_index(wheel: Path) -> None:
    meta = _metadata(wheel)
    assert meta["Name"] == "envoverlay"
    assert meta["Version"] == envoverlay.__version__ == "0.1.0"
    assert wheel.name == f"envoverlay-{envoverlay.__version__}-py3-none-any.whl"
    assert meta["Summary"]
    assert meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.11"
    urls = {value.split(",", 1)[0] for value in meta.get_all("Project-URL", [])}
    assert {"Homepage", "Documentation", "Changelog", "Issues"} <= urls
    classifiers = meta.get_all("Classifier", [])
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    # Runtime dependencies are exactly the four the project allows; python-dotenv is an extra.
    runtime = sorted(
        re.split(r"[<>=!~; ]", dep, maxsplit=1)[0]
        for dep in meta.get_all("Requires-Dist", [])
        if "extra ==" not in dep
    )
    assert runtime == ["attrs", "cattrs", "jsonschema", "platformdirs"]
    assert "dotenv" in meta.get_all("Provides-Extra", [])
    assert meta.get_payload().startswith("# envoverlay")  # the README is the description
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read("envoverlay-0.1.0.dist-info/entry_points.txt").decode()
        assert "envoverlay = envoverlay.cli:main" in entry_points
        assert "envoverlay-0.1.0.dist-info/licenses/LICENSE" in archive.namelist()


def test_sdist_holds_the_sources_tests_and_docs(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = {
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "envoverlay/__init__.py",
        "envoverlay/py.typed",
        "tests/test_packaging.py",
    }
    expected |= {f"schema/{name}.schema.json" for name in SCHEMA_NAMES}
    expected |= {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert expected <= names, sorted(expected - names)
    # Nothing of a developer's machine: no virtualenvs, caches or build output.
    assert not [n for n in names if n.split("/", 1)[0] in {".venv", ".ci-venv", "dist", "build"}]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_wheel_contains_the_schemas_and_no_tests(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SCHEMA_NAMES:
        assert f"envoverlay/schema/{name}.schema.json" in names
    assert "envoverlay/py.typed" in names
    assert not any(n.startswith("tests/") for n in names)
    for name in SCHEMA_NAMES:
        shipped = json.loads(zipfile.ZipFile(wheel).read(f"envoverlay/schema/{name}.schema.json"))
        assert shipped == json.loads((ROOT / "schema" / f"{name}.schema.json").read_text("utf-8"))


def test_installed_wheel_reads_its_own_schemas(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import envoverlay, envoverlay.schemas as s, json, sys\n"
        "print(envoverlay.__file__)\n"
        "print(json.dumps(s.bundled_schema()['$id']))\n"
        "s.validator('session-start.output').validate({'continue': True})\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, check=True
    )
    first, second = proc.stdout.decode().splitlines()[:2]
    assert Path(first).is_relative_to(target)
    assert json.loads(second).endswith("session-start.output.schema.json")


def test_schema_command_prints_the_bundled_output_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == bundled_schema("session-start.output")
    assert "env-overlay" in json.dumps(printed)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_command_prints_every_schema(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", name]) == 0
    assert json.loads(capsys.readouterr().out) == bundled_schema(name)


def test_schema_command_rejects_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "nope"]) == 2
    assert "unknown schema 'nope'" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="install check-jsonschema")
def test_printed_schema_works_with_an_independent_validator(tmp_path: Path) -> None:
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(bundled_schema()))
    corpus = ROOT / "tests" / "hook_corpus"
    good = tmp_path / "good.json"
    good.write_bytes((corpus / "valid" / "spec-example.out").read_bytes())
    bad = tmp_path / "bad.json"
    bad.write_bytes((corpus / "invalid" / "op-set-and-default.out").read_bytes())
    ok = subprocess.run(
        ["check-jsonschema", "--schemafile", str(schema_file), str(good)],
        capture_output=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout
    fail = subprocess.run(
        ["check-jsonschema", "--schemafile", str(schema_file), str(bad)],
        capture_output=True,
        check=False,
    )
    assert fail.returncode == 1


def test_every_public_name_resolves_to_its_module() -> None:
    import importlib

    assert set(envoverlay.__all__) == set(envoverlay._HOME)
    for name in envoverlay.__all__:
        value = getattr(envoverlay, name)
        module = importlib.import_module(f"envoverlay.{envoverlay._HOME[name]}")
        assert value is getattr(module, name), name
    assert callable(envoverlay.compose)  # not the module of the same purpose
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = envoverlay.nope  # type: ignore[attr-defined]


def test_import_envoverlay_imports_nothing_else() -> None:
    """`import envoverlay` costs only the package file; each name loads its module on first
    use, and importing a submodule first never hides the public function of the same
    name (the composition module is not called `compose`)."""
    code = (
        "import sys, json\n"
        "before = set(sys.modules)\n"
        "import envoverlay\n"
        "loaded = sorted(set(sys.modules) - before)\n"
        "import envoverlay.cli, envoverlay.shell\n"
        "assert callable(envoverlay.compose), envoverlay.compose\n"
        "print(json.dumps(loaded))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout) == ["envoverlay"]
