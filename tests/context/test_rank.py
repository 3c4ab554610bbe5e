"""PageRank and the ranking of definitions: the most used file first, focus and mentions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from uet.context.graph import EdgeArrays, FileMatrix, TagGraph
from uet.context.model import Definition, FileTags, MapEntry
from uet.context.rank import pagerank, rank_definitions, rank_files
from uet.context.weights import RankWeights


def tags(path: str, defines: list[str], references: list[str]) -> FileTags:
    definitions = tuple(
        Definition(name, "function", line, f"def {name}():") for line, name in enumerate(defines)
    )
    return FileTags(path, "python", definitions, tuple(references))


def project() -> list[FileTags]:
    """models.py is used by every file; views.py by one; tools.py by nobody."""
    return [
        tags("models.py", ["UserModel", "save_record"], []),
        tags("views.py", ["render_page"], ["UserModel", "save_record"]),
        tags("api.py", ["handle_request"], ["UserModel", "render_page"]),
        tags("jobs.py", ["run_job"], ["save_record", "UserModel"]),
        tags("tools.py", ["format_table"], ["print"]),
    ]


def matrix_of(dense: list[list[float]], personalization: list[float]) -> FileMatrix:
    paths = tuple(f"f{i}" for i in range(len(dense)))
    matrix = sparse.csr_matrix(np.array(dense))
    return FileMatrix(paths, matrix, EdgeArrays.empty(), (), np.array(personalization))


def test_pagerank_matches_the_closed_form() -> None:
    # Two nodes pointing at each other, a third dangling one pointed at by the first.
    dense = [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    weights = RankWeights(tolerance=1e-12, max_iterations=1000)
    ranks = pagerank(matrix_of(dense, [0, 0, 0]), weights)
    # Solve x = a (P^T x + (x_dangling) u) + (1 - a) u directly.
    a, n = 0.85, 3
    transition = np.array(dense) / np.maximum(np.array(dense).sum(axis=1, keepdims=True), 1)
    google = a * transition.T + a * np.outer(np.full(n, 1 / n), [0, 0, 1])
    expected = np.linalg.solve(np.eye(n) - google, np.full(n, (1 - a) / n))
    assert ranks == pytest.approx(expected, abs=1e-9)
    assert ranks.sum() == pytest.approx(1.0)


def test_pagerank_personalisation_and_edge_cases() -> None:
    dense = [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    # Teleports go to the personalisation only: f2 keeps everything, f0 and f1 get nothing.
    assert pagerank(matrix_of(dense, [0, 0, 1])) == pytest.approx([0, 0, 1], abs=1e-6)
    # f1 is dangling: its rank goes back to f0 (personalised), never to f2.
    ranks = pagerank(matrix_of(dense, [1, 0, 0]))
    assert ranks.sum() == pytest.approx(1.0)
    assert ranks[0] > ranks[1] > 0
    assert ranks[2] == pytest.approx(0.0, abs=1e-6)
    assert pagerank(matrix_of([[0.0]], [0])) == pytest.approx([1.0])
    empty = FileMatrix((), sparse.csr_matrix((0, 0)), EdgeArrays.empty(), (), np.zeros(0))
    assert len(pagerank(empty)) == 0
    # Stopping early still gives a distribution.
    assert pagerank(matrix_of(dense, [0, 0, 0]), RankWeights(max_iterations=1)).sum() == (
        pytest.approx(1.0)
    )


def test_the_most_referenced_file_ranks_first() -> None:
    graph = TagGraph(project())
    files = rank_files(graph)
    assert max(files, key=files.__getitem__) == "models.py"
    entries = rank_definitions(graph)
    assert entries[0].path == "models.py"
    assert {e.definition.name for e in entries[:2]} == {"UserModel", "save_record"}
    assert [e.rank for e in entries] == sorted((e.rank for e in entries), reverse=True)
    # Every definition appears once, the unreferenced ones too (their self-loops).
    assert sorted(e.definition.name for e in entries) == sorted(
        d.name for f in project() for d in f.definitions
    )


def test_focus_changes_the_ranking_and_leaves_out_the_focus() -> None:
    graph = TagGraph(project())
    plain = rank_definitions(graph)
    focused = rank_definitions(graph, focus=["api.py"])
    assert all(e.path != "api.py" for e in focused)

    # api.py uses render_page: in focus, views.py's definition climbs past save_record.
    def position(entries: list[MapEntry], name: str) -> int:
        return [e.definition.name for e in entries].index(name)

    assert position(plain, "render_page") > position(plain, "save_record")
    assert position(focused, "render_page") < position(focused, "save_record")


def test_mentions_up_weight_identifiers_and_paths() -> None:
    graph = TagGraph(project())
    plain = {e.definition.name: e.rank for e in rank_definitions(graph)}
    mentioned = {
        e.definition.name: e.rank for e in rank_definitions(graph, mentions=["render_page"])
    }
    assert mentioned["render_page"] > plain["render_page"]
    assert mentioned["UserModel"] < plain["UserModel"]
    by_path = rank_files(graph, mentions=["tools"])
    assert by_path["tools.py"] > rank_files(graph)["tools.py"]


def test_private_and_widely_defined_names_are_down_weighted() -> None:
    files = [
        tags("a.py", ["public_name"], []),
        tags("b.py", ["_private_name"], []),
        tags("user.py", [], ["public_name", "_private_name"]),
    ]
    ranks = {e.definition.name: e.rank for e in rank_definitions(TagGraph(files))}
    assert ranks["public_name"] > ranks["_private_name"]

    common = [tags(f"w{i}.py", ["shared_name"], []) for i in range(6)]
    files = [
        *common,
        tags("one.py", ["unique_name"], []),
        tags("u.py", [], ["shared_name", "unique_name"]),
    ]
    ranks_by_path = {e.path: e.rank for e in rank_definitions(TagGraph(files))}
    assert ranks_by_path["one.py"] > ranks_by_path["w0.py"]


def test_limit_is_a_prefix_and_ties_go_by_line() -> None:
    files = [
        *project(),
        FileTags(
            "many.py",
            "python",
            tuple(
                Definition(f"unused_{i}", "function", 20 - i, f"def unused_{i}():")
                for i in range(5)
            ),
            (),
        ),
    ]
    graph = TagGraph(files)
    full = rank_definitions(graph)
    for limit in [0, 1, 3, 7, len(full), len(full) + 5]:
        assert rank_definitions(graph, limit=limit) == full[:limit]
    unused = [e for e in full if e.path == "many.py"]
    assert len({e.rank for e in unused}) == 1  # equal shares of the file's rank
    assert [e.definition.line for e in unused] == [16, 17, 18, 19, 20]


def test_an_updated_graph_ranks_as_a_rebuilt_one() -> None:
    files = project()
    graph = TagGraph(files)
    rank_definitions(graph)  # build the arrays before the changes
    changed = tags("api.py", ["handle_request", "UserModel"], ["save_record"] * 3)
    graph.replace(changed)
    graph.remove("views.py")
    graph.replace(files[1])  # views.py again, now the last node
    rebuilt = TagGraph([files[0], changed, *files[3:], files[1]])

    def ranks(g: TagGraph) -> dict[tuple[str, str], float]:
        return {(e.path, e.definition.name): e.rank for e in rank_definitions(g, ["jobs.py"])}

    assert ranks(graph) == pytest.approx(ranks(rebuilt))
    assert ranks(graph) != pytest.approx(ranks(TagGraph(files)))


def test_zero_weights_rank_without_dividing_by_zero() -> None:
    files = [tags("a.py", ["_hidden"], []), tags("b.py", [], ["_hidden"])]
    entries = rank_definitions(TagGraph(files, RankWeights(private=0.0)))
    assert [(e.path, e.definition.name, e.rank) for e in entries] == [("a.py", "_hidden", 0.0)]
