"""Fuzzing the reading path: whatever the input, loading, validation and cross-file facts
answer with diagnostics, never an exception, and no single input takes over a second.

Inputs are arbitrary bytes and text, JSON and YAML built from hostile pieces (aliases,
recursive anchors, tags, deep nesting, huge scalars, lone surrogates, byte-order marks),
and the project's own artifacts mutated. ``make test`` runs a bounded number of examples
per test; ``make fuzz`` runs the same tests with ``UET_FUZZ_EXAMPLES`` raised (over
100,000 inputs in all) and prints hypothesis' statistics: how many inputs each test ran.

The one-second bound is hypothesis' ``deadline``: an input over it is re-run, and the test
fails only if it is slow again, so a busy machine does not fail it by chance. A deadline
is checked when the call returns, so an input that never returns is stopped by an alarm
after ``HANG_SECONDS`` and reported (and shrunk) as a failing example.
"""

from __future__ import annotations

import functools
import json
import os
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uet.artifacts import LineIndex, bundled_registry, check_parsed, check_text, load_bytes
from uet.artifacts.index import WorkspaceIndex

HANG_SECONDS = 10.0
EXAMPLES = int(os.environ.get("UET_FUZZ_EXAMPLES", "150"))
ROOT = Path(__file__).resolve().parent.parent
REGISTRY = bundled_registry()

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=1),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

Test = TypeVar("Test", bound=Callable[..., None])


def guarded(test: Test) -> Test:
    """Fail an example that does not return within ``HANG_SECONDS`` instead of hanging."""

    def alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"no answer after {HANG_SECONDS:.0f} s: the input hangs the reader")

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
        try:
            test(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    return wrapper  # type: ignore[return-value]


# Paths that make the association pick each kind of artifact, and some that pick none.
PATHS = (
    "workstreams/ws.yaml",
    "workstreams/ws.json",
    "phases/ph.yaml",
    "router_config.json",
    "PROJECT_PROFILE.yaml",
    "profile_extensions/ext.yaml",
    "notes.yaml",
    "data.json",
)


def _seed_files() -> list[tuple[str, str]]:
    """Real artifacts: the project's examples, and the reference repository's when present."""
    seeds: list[tuple[str, str]] = []
    workspace = ROOT / "examples" / "sample-workspace"
    for path in sorted(workspace.rglob("*")):
        if path.suffix in (".json", ".yaml", ".yml") and path.is_file():
            seeds.append((path.relative_to(workspace).as_posix(), path.read_text("utf-8")))
    reference = ROOT.parent / "shared" / "uet-reference" / "examples"
    if reference.is_dir():
        for path in sorted(reference.iterdir()):
            if path.suffix in (".json", ".yaml", ".yml"):
                text = path.read_text("utf-8", errors="replace")
                seeds.append((f"workstreams/{path.name}", text))
    return seeds


SEEDS = _seed_files()

# Pieces an attacker or a careless editor puts into YAML and JSON.
HOSTILE = (
    "&a [*a]",
    "&a {k: *a}",
    "*undefined",
    "&x [1, 2]",
    "<<: *x",
    "<<: [*x, *x]",
    "!!str 123",
    "!!int '3'",
    "!!int abc",
    "!!float x",
    "!!bool yes",
    "!!null ''",
    "!!binary aGk=",
    "!!timestamp 2024-01-01",
    "!custom v",
    "! 12",
    "!!map {a: 1}",
    "!!seq [1]",
    "!!str [1]",
    "1" * 4400,
    "-" + "9" * 5000,
    "0x" + "f" * 3600,
    "0o" + "7" * 6000,
    "1e99999",
    "1." + "0" * 5000,
    ".inf",
    ".nan",
    "NaN",
    "Infinity",
    "[" * 1100,
    "{a: " * 300,
    "- " * 400,
    "\ud800",
    "\udfff",
    "\ufeff",
    "\x00",
    "\t",
    "\r",
    "\u2028",
    '"\\ud800"',
    '"\\u0000"',
    "? [a, b]\n: c",
    "key: value",
    "task_id: t",
    "depends_on: [t, t, missing]",
    "- task_id: t\n  depends_on: [t]",
    "---",
    "...",
    "%YAML 1.1\n---",
    "%TAG ! tag:example.com,2000:\n---",
    "|\n  block",
    ">-\n  folded",
    "'unterminated",
    '"unterminated',
    "# comment",
    "a: b: c",
    "{",
    "}",
    "]",
)


def _nested(depth: int, opener: str, closer: str, inner: str = "1") -> str:
    return opener * depth + inner + closer * depth


def _block_nested(depth: int) -> str:
    return "".join(f"{'  ' * level}k{level}:\n" for level in range(depth)) + "  " * depth + "v\n"


scalars = st.sampled_from(HOSTILE) | st.text(max_size=12) | st.integers().map(str)
yaml_lines = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from(["", "- ", "k: ", "k: - ", "? "]), scalars),
    max_size=25,
).map(lambda lines: "\n".join("  " * indent + lead + value for indent, lead, value in lines))
deep = st.builds(
    lambda depth, kind: (
        _nested(depth, "[", "]")
        if kind == 0
        else _nested(depth, '{"a":', "}")
        if kind == 1
        else _block_nested(depth)
        if kind == 2
        else _nested(depth, "- ", "", "x")
    ),
    st.integers(0, 1200),
    st.integers(0, 3),
)
hostile_text = st.one_of(
    yaml_lines,
    deep,
    st.lists(scalars, max_size=30).map(" ".join),
    st.text(
        st.characters(codec=None, categories=None) | st.sampled_from(list("{}[]:,&*!-|>'\"\n ")),
        max_size=300,
    ),
)


@st.composite
def mutated_seed(draw: st.DrawFn) -> tuple[str, str]:
    """A real artifact with a few random edits: cut, duplicate, or insert a hostile piece."""
    path, text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        until = draw(st.integers(at, min(len(text), at + 200)))
        action = draw(st.integers(0, 3))
        if action == 0:
            text = text[:at] + text[until:]
        elif action == 1:
            text = text[:at] + text[at:until] * 2 + text[until:]
        elif action == 2:
            text = text[:at] + draw(st.sampled_from(HOSTILE)) + text[at:]
        else:
            text = text[:at] + draw(st.text(max_size=5)) + text[until:]
    return path, text


def _checked(text: str, path: str) -> None:
    """Check ``text`` as ``path``: every diagnostic lies inside the text and converts."""
    report = check_text(text, path, registry=REGISTRY)
    index = LineIndex(report.parsed.text)
    for diagnostic in report.diagnostics:
        assert 0 <= diagnostic.span.start <= diagnostic.span.end <= len(report.parsed.text)
        index.utf16_position(diagnostic.span.start)
        index.utf16_position(diagnostic.span.end)
        assert isinstance(diagnostic.message, str)
        str(diagnostic.message)


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(PATHS))
@guarded
def test_bytes(data: bytes, path: str) -> None:
    parsed = load_bytes(data, path)
    report = check_parsed(parsed, path, registry=REGISTRY)
    for diagnostic in report.diagnostics:
        assert 0 <= diagnostic.span.start <= diagnostic.span.end <= len(parsed.text)


@FUZZ
@given(
    st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"]),
    st.sampled_from(SEEDS) if SEEDS else st.just(("a.yaml", "a: 1\n")),
)
@guarded
def test_encodings(codec: str, seed: tuple[str, str]) -> None:
    path, text = seed
    data = text.encode(codec)
    if codec in ("utf-16-le", "utf-16-be"):
        data = ("\ufeff" + text).encode(codec)
    parsed = load_bytes(data, path)
    report = check_parsed(parsed, path, registry=REGISTRY)
    assert report.diagnostics is not None


@FUZZ
@given(hostile_text, st.sampled_from(PATHS))
@guarded
def test_hostile_text(text: str, path: str) -> None:
    _checked(text, path)


@FUZZ
@given(mutated_seed())
@guarded
def test_mutated_artifacts(seed: tuple[str, str]) -> None:
    path, text = seed
    _checked(text, path)


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["task_id", "depends_on", "tasks", "workstream_id", "tool", "x"])
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=40,
)


@FUZZ
@given(json_values, st.sampled_from(["workstreams/ws.json", "router_config.json"]), st.data())
@guarded
def test_json_values(value: object, path: str, data: st.DataObject) -> None:
    text = json.dumps(value)
    if data.draw(st.booleans()):
        # A huge number or a deep nesting where the value was.
        piece = data.draw(
            st.sampled_from(["1" * 4400, "-" + "9" * 5000, "1e99999", _nested(600, "[", "]")])
        )
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + piece + text[at:]
    _checked(text, path)
    _checked(text, path.replace(".json", ".yaml"))


task_ids = st.sampled_from(["a", "b", "c", "d", "build", "test", "x" * 300, "\ud800", ""])
tasks = st.lists(
    st.fixed_dictionaries(
        {"task_id": task_ids},
        optional={"depends_on": st.lists(task_ids, max_size=4), "tool": st.sampled_from("rp")},
    ),
    max_size=8,
)
workstreams = st.fixed_dictionaries(
    {"workstream_id": st.sampled_from(["ws-1", "ws-2"]), "tasks": tasks},
    optional={"phase_id": st.sampled_from(["PH-A", "PH-B"])},
)


@FUZZ
@given(st.lists(workstreams, min_size=1, max_size=4), st.lists(st.integers(0, 3), max_size=4))
@guarded
def test_cross_file_facts(documents: list[dict[str, object]], removals: list[int]) -> None:
    index = WorkspaceIndex(["generic"])
    paths = [f"workstreams/ws{number}.json" for number in range(len(documents))]
    for path, document in zip(paths, documents, strict=True):
        text = json.dumps(document)  # lone surrogates become \ud800 escapes
        index.update(check_text(text, path, registry=REGISTRY))
    index.update(check_text("phase_id: PH-A\nname: A\n", "phases/a.yaml", registry=REGISTRY))
    for number in removals:
        if number < len(paths):
            index.remove(paths[number])
    for path in index.paths():
        for diagnostic in index.diagnostics(path):
            assert len(diagnostic.message) < 10_000


def test_seeds_exist_and_check() -> None:
    """The mutation test needs real artifacts to start from."""
    assert SEEDS
    for seed_path, text in SEEDS:
        check_text(text, seed_path, registry=REGISTRY)
