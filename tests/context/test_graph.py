"""The file graph: its edges and weights, and that replacing a file matches a rebuild."""

from __future__ import annotations

import math

import pytest

from uet.context.graph import Edge, TagGraph
from uet.context.model import Definition, FileTags
from uet.context.weights import RankWeights


def tags(path: str, defines: list[str], references: list[str]) -> FileTags:
    definitions = tuple(
        Definition(name, "function", line, f"def {name}():") for line, name in enumerate(defines)
    )
    return FileTags(path, "python", definitions, tuple(references))


def dense_by_path(graph: TagGraph) -> dict[tuple[str, str], float]:
    """The matrix as (source, target) -> weight, whatever the node order."""
    matrix = graph.matrix()
    dense = matrix.matrix.toarray()
    return {
        (source, target): float(dense[i, j])
        for i, source in enumerate(matrix.paths)
        for j, target in enumerate(matrix.paths)
    }


def fixture_files() -> list[FileTags]:
    return [
        tags("core.py", ["parse_config", "Engine", "_helper"], ["_helper"]),
        tags("a.py", ["main"], ["parse_config"] * 4 + ["Engine", "_helper"]),
        tags("b.py", ["build_report"], ["parse_config", "Engine"]),
        tags("c.py", ["render"], ["build_report", "print"]),
        tags("empty.py", [], []),
    ]


def by_key(edges: list[Edge]) -> dict[tuple[str, str, str], float]:
    return {(e.source, e.target, e.ident): e.weight for e in edges}


def test_edges_and_weights_follow_the_documented_multipliers() -> None:
    graph = TagGraph(fixture_files())
    edges = by_key(graph.edges())
    assert edges == {
        # long snake_case name (x10), four references (sqrt)
        ("a.py", "core.py", "parse_config"): pytest.approx(10 * math.sqrt(4)),
        ("b.py", "core.py", "parse_config"): pytest.approx(10.0),
        # CamelCase but short: no bonus
        ("a.py", "core.py", "Engine"): pytest.approx(1.0),
        ("b.py", "core.py", "Engine"): pytest.approx(1.0),
        # private (x0.1); core.py references its own helper
        ("a.py", "core.py", "_helper"): pytest.approx(0.1),
        ("core.py", "core.py", "_helper"): pytest.approx(0.1),
        ("c.py", "b.py", "build_report"): pytest.approx(10.0),
        # nobody references these: aider's self-loops
        ("a.py", "a.py", "main"): pytest.approx(0.1),
        ("c.py", "c.py", "render"): pytest.approx(0.1),
    }
    # "print" is defined nowhere: no edge. empty.py is still a node.
    matrix = graph.matrix()
    assert matrix.paths == ("core.py", "a.py", "b.py", "c.py", "empty.py")  # arrival order
    dense = dense_by_path(graph)
    assert dense["a.py", "core.py"] == pytest.approx(20 + 1 + 0.1)  # summed over identifiers
    assert all(v == 0 for (source, _), v in dense.items() if source == "empty.py")
    # The self-loops of unreferenced definitions share rank but do not hold it: not in the matrix.
    assert dense["a.py", "a.py"] == 0
    assert dense["c.py", "c.py"] == 0
    assert dense["c.py", "b.py"] == pytest.approx(10.0)
    assert dense["core.py", "core.py"] == pytest.approx(0.1)  # its reference to its own helper
    assert list(matrix.personalization) == [0, 0, 0, 0, 0]


def test_focus_and_mentions_weigh_edges_and_personalisation() -> None:
    graph = TagGraph(fixture_files())
    edges = by_key(graph.edges(focus=["b.py"], mentions=["Engine"]))
    assert edges["b.py", "core.py", "Engine"] == pytest.approx(1.0 * 10 * 50)
    assert edges["a.py", "core.py", "Engine"] == pytest.approx(10.0)
    assert edges["b.py", "core.py", "parse_config"] == pytest.approx(10.0 * 50)
    assert edges["a.py", "core.py", "parse_config"] == pytest.approx(20.0)
    matrix = graph.matrix(focus=["b.py"], mentions=["core", "render"])
    # b.py in focus; core.py's stem is mentioned
    personal = dict(zip(matrix.paths, matrix.personalization.tolist(), strict=True))
    assert personal == {"core.py": 1, "a.py": 0, "b.py": 1, "c.py": 0, "empty.py": 0}


def test_widely_defined_names_are_down_weighted() -> None:
    files = [tags(f"m{i}.py", ["handle_event"], []) for i in range(6)]
    files.append(tags("user.py", [], ["handle_event"]))
    edges = by_key(TagGraph(files).edges())
    # long (x10), defined in six files (x0.1)
    assert edges["user.py", "m0.py", "handle_event"] == pytest.approx(1.0)
    five = by_key(TagGraph(files[1:]).edges())
    assert five["user.py", "m1.py", "handle_event"] == pytest.approx(10.0)


def test_custom_weights_apply() -> None:
    weights = RankWeights(sqrt_reference_counts=False, long_identifier=1.0)
    edges = by_key(TagGraph(fixture_files(), weights).edges())
    assert edges["a.py", "core.py", "parse_config"] == pytest.approx(4.0)


@pytest.mark.parametrize(
    "changed",
    [
        tags("a.py", ["main", "Engine"], ["build_report"] * 9),  # new definer, new references
        tags("core.py", ["parse_config"], []),  # drops definitions others reference
        tags("new.py", ["fresh_name"], ["parse_config", "render"]),  # a new file
    ],
)
def test_replace_matches_a_rebuild_and_touches_only_its_identifiers(changed: FileTags) -> None:
    files = fixture_files()
    graph = TagGraph(files)
    before = by_key(graph.edges(focus=["c.py"]))
    graph.replace(changed)
    after = by_key(graph.edges(focus=["c.py"]))
    rebuilt_files = [f for f in files if f.path != changed.path] + [changed]
    rebuilt = TagGraph(rebuilt_files)
    assert after == by_key(rebuilt.edges(focus=["c.py"]))
    assert sorted(graph.paths) == sorted(rebuilt.paths)
    assert dense_by_path(graph) == pytest.approx(dense_by_path(rebuilt))

    old = next((f for f in files if f.path == changed.path), None)
    touched = {d.name for d in changed.definitions} | set(changed.references)
    if old is not None:
        touched |= {d.name for d in old.definitions} | set(old.references)
    untouched_before = {k: v for k, v in before.items() if k[2] not in touched}
    untouched_after = {k: v for k, v in after.items() if k[2] not in touched}
    assert untouched_before == untouched_after
    assert untouched_before  # the test compares something


def test_remove_forgets_the_file_and_its_edges() -> None:
    files = fixture_files()
    graph = TagGraph(files)
    graph.remove("core.py")
    graph.remove("unknown.py")  # no error
    assert "core.py" not in graph
    assert by_key(graph.edges()) == by_key(TagGraph(files[1:]).edges())
    assert all("core.py" not in (e.source, e.target) for e in graph.edges())
    assert dense_by_path(graph) == pytest.approx(dense_by_path(TagGraph(files[1:])))
    graph.replace(files[0])
    assert by_key(graph.edges()) == by_key(TagGraph(files).edges())
    assert dense_by_path(graph) == pytest.approx(dense_by_path(TagGraph(files)))
    for path in ["a.py", "empty.py", "c.py"]:  # from the middle, the end, and so on
        graph.remove(path)
        rest = [f for f in files if f.path in graph]
        assert by_key(graph.edges()) == by_key(TagGraph(rest).edges())
        assert dense_by_path(graph) == pytest.approx(dense_by_path(TagGraph(rest)))
