"""Deterministic workloads: inherited maps, layers, hook output and thread states.

Everything here is built from a seeded :class:`random.Random`, so every run of the suite
measures the same inputs. Nothing here is timed.

Sizes (see README.md):

* **typical** thread: 300 inherited variables, a 30-entry PATH, one config layer of 10 ops,
  6 hook layers of 10 ops (one PATH prepend, one unset, the rest sets/defaults), one runtime
  layer of 2 ops;
* **large** thread: 10x everything: 3,000 inherited variables, a 2,000-entry PATH, 10 config
  layers of 10 ops, 60 hook layers of 10 ops, one runtime layer of 20 ops.
"""

from __future__ import annotations

import functools
import json
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from envoverlay import Layer, LayerKind, Op, ThreadState
from envoverlay.lifecycle import CODEX_RUNTIME

Platform = Literal["posix", "windows"]
Size = Literal["typical", "large"]

SEED = 20240611
OPS_PER_LAYER = 10

_HASH_CHARS = "0123456789abcdfghijklmnpqrsvwxyz"  # nix's base-32 alphabet
_VALUE_CHARS = string.ascii_letters + string.digits + "/._-:@+"
_WORDS = (
    "CACHE", "HOME", "DIR", "MODE", "LEVEL", "URL", "HOST", "PORT", "USER", "CONFIG", "ROOT",
    "LOG", "OPTS", "FLAGS", "NAME", "VERSION", "PROFILE", "REGION", "TIMEOUT", "PREFIX",
)  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    """How big one workload is."""

    variables: int
    path_entries: int
    config_layers: int
    hook_layers: int
    runtime_ops: int


SIZES: dict[Size, Sizes] = {
    "typical": Sizes(variables=300, path_entries=30, config_layers=1, hook_layers=6, runtime_ops=2),
    "large": Sizes(
        variables=3000, path_entries=2000, config_layers=10, hook_layers=60, runtime_ops=20
    ),
}


@dataclass(frozen=True)
class Thread:
    """One compose() workload: what a runtime passes at spawn time."""

    platform: Platform
    size: Size
    base: dict[str, str]
    layers: tuple[Layer, ...]
    protected: tuple[str, ...]
    #: The same changes as one flat name -> value dict (for the ``dict | dict`` baseline).
    flat_overlay: dict[str, str]

    @property
    def op_count(self) -> int:
        return sum(len(layer.ops) for layer in self.layers)


def _value(rng: random.Random, low: int = 8, high: int = 60) -> str:
    return "".join(rng.choices(_VALUE_CHARS, k=rng.randint(low, high)))


def _name(rng: random.Random, index: int, platform: Platform) -> str:
    name = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}_{index}"
    if platform == "windows" and rng.random() < 0.5:
        # Windows environments mix spellings: Path, SystemRoot, windir, ...
        name = name.title() if rng.random() < 0.5 else name.lower()
    return name


def _path_entry(rng: random.Random, index: int, platform: Platform) -> str:
    tool = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 10)))
    if platform == "windows":
        # Short: 2,000 of them must fit Windows' 32,767-unit limit for one variable.
        return f"C:\\t\\{tool[:4]}{index}"
    return f"/opt/{tool}{index}/bin"


def _base(rng: random.Random, sizes: Sizes, platform: Platform) -> dict[str, str]:
    separator = ";" if platform == "windows" else ":"
    path = separator.join(_path_entry(rng, i, platform) for i in range(sizes.path_entries))
    if platform == "windows":
        base = {
            "=C:": "C:\\work",
            "Path": path,
            "SystemRoot": "C:\\Windows",
            "ComSpec": "C:\\Windows\\system32\\cmd.exe",
            "windir": "C:\\Windows",
            "USERPROFILE": "C:\\Users\\dev",
            "TEMP": "C:\\Users\\dev\\AppData\\Local\\Temp",
        }
    else:
        base = {
            "PATH": path,
            "HOME": "/home/dev",
            "USER": "dev",
            "SHELL": "/bin/bash",
            "LANG": "C.UTF-8",
            "TERM": "xterm-256color",
            "LD_LIBRARY_PATH": "/opt/lib:/usr/local/lib",
        }
    index = 0
    while len(base) < sizes.variables:
        base[_name(rng, index, platform)] = _value(rng)
        index += 1
    return base


def _hook_layer(
    rng: random.Random,
    number: int,
    inherited_names: Sequence[str],
    unset_name: str,
    platform: Platform,
) -> Layer:
    path_name = "PATH" if platform == "posix" else rng.choice(("PATH", "Path", "path"))
    entries = [_path_entry(rng, 10_000 + number * 10 + i, platform) for i in range(2)]
    ops = [Op.prepend(path_name, entries), Op.unset(unset_name)]
    for slot in range(OPS_PER_LAYER - 2):
        if rng.random() < 0.5:
            name = rng.choice(inherited_names)  # override something inherited
        else:
            name = f"HOOK{number}_{rng.choice(_WORDS)}_{slot}"
        if rng.random() < 0.3:
            ops.append(Op.default(name, _value(rng)))
        else:
            ops.append(Op.set(name, _value(rng)))
    return Layer.from_ops(ops, kind="hook", id=f"hook-{number}")


def build_thread(size: Size, platform: Platform, seed: int = SEED) -> Thread:
    """The typical or large compose() workload for one platform's rules."""
    sizes = SIZES[size]
    rng = random.Random(f"{seed}-{size}-{platform}")
    base = _base(rng, sizes, platform)
    # Hooks override ordinary inherited names: not PATH (prepended), not LD_LIBRARY_PATH
    # (a sensitive name: the workload composes without diagnostics).
    skip = ("PATH", "Path", "=C:", "LD_LIBRARY_PATH")
    inherited_names = [name for name in base if name not in skip]
    unset_names = rng.sample(inherited_names, sizes.hook_layers)
    override_pool = [name for name in inherited_names if name not in unset_names]

    layers: list[Layer] = []
    for number in range(sizes.config_layers):
        ops = [Op.set(f"CFG{number}_{rng.choice(_WORDS)}_{i}", _value(rng)) for i in range(10)]
        layers.append(Layer.from_ops(ops, kind="config", id=f"config-{number}"))
    for number in range(sizes.hook_layers):
        layers.append(_hook_layer(rng, number, override_pool, unset_names[number], platform))
    runtime_names = list(CODEX_RUNTIME)
    runtime_names += [f"RUNTIME_VAR_{i}" for i in range(sizes.runtime_ops - len(runtime_names))]
    runtime_ops = [Op.set(name, f"{name.lower()}-{rng.randrange(10**9)}") for name in runtime_names]
    layers.append(Layer.from_ops(runtime_ops, kind="runtime", id="runtime"))

    flat: dict[str, str] = {}
    for layer in layers:
        for op in layer.ops:
            if op.action in ("set", "default") and op.value is not None:
                flat[op.name] = op.value
            elif op.action == "prepend":
                flat[op.name] = ";".join(op.entries)
    return Thread(platform, size, base, tuple(layers), tuple(CODEX_RUNTIME), flat)


def hook_output_document(seed: int = SEED) -> dict[str, Any]:
    """A typical SessionStart hook output: a 10-op env overlay using every op form."""
    rng = random.Random(f"{seed}-hook-output")
    env: dict[str, Any] = {
        "PATH": {"prepend": ["/repo/.venv/bin", "/repo/node_modules/.bin"]},
        "PYTHONHOME": None,
        "VIRTUAL_ENV": "/repo/.venv",
        "PKG_CONFIG_PATH": {"append": "/repo/lib/pkgconfig", "separator": ":"},
        "EDITOR": {"default": "vim"},
        "DB_PASSWORD": {"set": _value(rng, 16, 16), "secret": True},
    }
    while len(env) < OPS_PER_LAYER:
        env[f"PROJECT_{rng.choice(_WORDS)}_{len(env)}"] = _value(rng)
    return {
        "continue": True,
        "hookSpecificOutput": {
            "hookEventName": "SessionStart",
            "additionalContext": "Using the project venv and the repo's node tools.",
            "env": env,
        },
    }


def hook_output_text(seed: int = SEED) -> str:
    """:func:`hook_output_document` as the hook would print it."""
    return json.dumps(hook_output_document(seed), indent=2) + "\n"


def thread_state(layer_count: int = 50, seed: int = SEED) -> ThreadState:
    """A thread state with ``layer_count`` layers of 10 ops (config, provider, hook and
    thread kinds) and the Codex runtime template, as an embedder would persist it."""
    rng = random.Random(f"{seed}-state-{layer_count}")
    kinds: tuple[LayerKind, ...] = ("config", "provider", "hook", "hook", "hook", "thread")
    layers = []
    for number in range(layer_count):
        kind = kinds[number % len(kinds)]
        ops = [
            Op.prepend("PATH", [f"/opt/layer{number}/bin"]),
            Op.unset(f"OLD_{rng.choice(_WORDS)}_{number}"),
        ]
        for slot in range(OPS_PER_LAYER - 2):
            name = f"L{number}_{rng.choice(_WORDS)}_{slot}"
            maker = Op.default if rng.random() < 0.3 else Op.set
            ops.append(maker(name, _value(rng)))
        layers.append(
            Layer.from_ops(
                ops, kind=kind, id=f"{kind}-{number}", lifetime="thread", inherit=number % 4 != 0
            )
        )
    return ThreadState.new(
        thread_id="thread-0001", session_id="session-0001", layers=layers, runtime=CODEX_RUNTIME
    )


# -- worst cases: each exists at two sizes, the second ten times the first ---------------------


def over_limit_path_thread(scale: int) -> tuple[dict[str, str], tuple[Layer, ...]]:
    """Path ops over an inherited PATH already over the size limit, so that every one is
    rejected: a 150 KB PATH (2,400 nix-store-like entries of 64 bytes) and 286 prepends in
    layers of 10 at scale 1; ten times both at scale 10."""
    rng = random.Random(f"{SEED}-over-limit-{scale}")
    hashes = ("".join(rng.choices(_HASH_CHARS, k=32)) for _ in range(2_400 * scale))
    path = ":".join(f"/nix/store/{h}-tool{n:05d}-1.0.0/bin" for n, h in enumerate(hashes))
    ops = [Op.prepend("PATH", [f"/new/{n}/bin"]) for n in range(286 * scale)]
    layers = tuple(
        Layer.from_ops(ops[start : start + OPS_PER_LAYER], kind="hook", id=f"hook-{start}")
        for start in range(0, len(ops), OPS_PER_LAYER)
    )
    return {"PATH": path, "HOME": "/home/dev"}, layers


def path_entries_thread(count: int, *, ascii: bool) -> tuple[dict[str, str], tuple[Layer, ...]]:
    """``count`` prepends of one 40-byte entry each, in layers of 10, over a short PATH:
    past 800 entries the list is longer than a quarter of the posix limit, past 3,200 it
    is over the limit and the rest are rejected. ``ascii=False`` spells each entry with a
    two-byte character (``é``), so sizes must be counted in bytes, not characters."""
    letter = "e" if ascii else "é"
    entries = [f"/opt/{letter}{n:06d}/{'x' * (28 if ascii else 27)}" for n in range(count)]
    ops = [Op.prepend("PATH", [entry]) for entry in entries]
    layers = tuple(
        Layer.from_ops(ops[start : start + OPS_PER_LAYER], kind="hook", id=f"hook-{start}")
        for start in range(0, len(ops), OPS_PER_LAYER)
    )
    return {"PATH": "/usr/bin:/bin", "HOME": "/home/dev"}, layers


@functools.cache
def large_hook_output_text(megabytes: int = 5, seed: int = SEED) -> str:
    """A SessionStart hook output of about ``megabytes`` MB: an env overlay of every op form
    (sets, two-entry prepends, defaults, unsets, secrets), printed indented."""
    rng = random.Random(f"{seed}-large-hook-output")
    env: dict[str, Any] = {}
    target = megabytes * 1_000_000
    size = 0
    index = 0
    while size < target:
        form = index % 5
        name = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}_{index}"
        value: Any
        if form == 0:
            value = _value(rng, 40, 120)
        elif form == 1:
            value = {"prepend": [f"/repo/tools/t{index}/bin", f"/repo/tools/t{index}/sbin"]}
        elif form == 2:
            value = {"default": _value(rng, 40, 80)}
        elif form == 3:
            value = None
        else:
            value = {"set": _value(rng, 32, 32), "secret": True}
        env[name] = value
        size += len(name) + len(json.dumps(value)) + 30  # with the indentation
        index += 1
    document = {
        "continue": True,
        "hookSpecificOutput": {
            "hookEventName": "SessionStart",
            "additionalContext": "Every tool of the monorepo.",
            "env": env,
        },
    }
    return json.dumps(document, indent=2) + "\n"


def env_file_text(lines: int) -> str:
    """A CLAUDE_ENV_FILE of ``lines`` lines in the static subset, with the constructs hooks
    write in about the proportions seen in published hooks: plain exports, PATH
    self-references, references to $HOME, $'…' values and comments."""
    out = []
    for index in range(lines):
        kind = index % 5
        if kind == 0:
            out.append(f"export TOOL_VALUE_{index}='value {index}'")
        elif kind == 1:
            out.append(f'export PATH="/opt/tool{index}/bin:$PATH"')
        elif kind == 2:
            out.append(f'export TOOL_DIR_{index}="$HOME/tools/{index}"')
        elif kind == 3:
            out.append(f"# set by the hook, step {index}")
        else:
            out.append(f"export TOOL_OPTS_{index}=$'--flag\\t{index}'")
    return "\n".join(out) + "\n"
