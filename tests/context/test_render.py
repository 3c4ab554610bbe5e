"""Rendering the map: aider's text layout, the JSON shape, and the token budget."""

from __future__ import annotations

import json

import pytest

from uet.context.graph import TagGraph
from uet.context.model import Definition, FileTags, MapEntry
from uet.context.rank import rank_definitions
from uet.context.render import fit_to_budget, render_json, render_map, render_text
from uet.context.tokens import count_tokens


def entry(path: str, name: str, line: int, rank: float, kind: str = "function") -> MapEntry:
    return MapEntry(path, Definition(name, kind, line, f"def {name}(value: int) -> str:"), rank)


def ranked() -> list[MapEntry]:
    """Forty definitions over five files, best first; file ranks interleave."""
    entries = [
        entry(f"pkg/module_{i % 5}.py", f"function_number_{i}", 3 * i + (i % 2), 1.0 / (i + 1))
        for i in range(40)
    ]
    return sorted(entries, key=lambda e: -e.rank)


def test_text_layout_groups_by_file_in_rank_order() -> None:
    entries = [
        entry("b.py", "beta", 10, 0.9),
        entry("a.py", "alpha", 0, 0.5, "class"),
        entry("b.py", "gamma", 2, 0.4),
        entry("b.py", "delta", 3, 0.3),
        entry("b.py", "same_line", 3, 0.2),
    ]
    assert render_text(entries) == (
        "b.py:\n"
        "⋮\n"
        "│def gamma(value: int) -> str:\n"
        "│def delta(value: int) -> str:\n"
        "⋮\n"
        "│def beta(value: int) -> str:\n"
        "⋮\n"
        "\n"
        "a.py:\n"
        "│def alpha(value: int) -> str:\n"
        "⋮\n"
    )
    assert render_text([]) == ""


def test_json_shape() -> None:
    entries = [entry("b.py", "beta", 10, 0.9), entry("a.py", "alpha", 0, 0.5, "class")]
    entries.append(entry("b.py", "gamma", 2, 0.4))
    data = json.loads(render_json(entries))
    assert data == [
        {
            "path": "b.py",
            "definitions": [
                {
                    "name": "gamma",
                    "kind": "function",
                    "line": 2,
                    "signature": "def gamma(value: int) -> str:",
                    "rank": 0.4,
                },
                {
                    "name": "beta",
                    "kind": "function",
                    "line": 10,
                    "signature": "def beta(value: int) -> str:",
                    "rank": 0.9,
                },
            ],
        },
        {
            "path": "a.py",
            "definitions": [
                {
                    "name": "alpha",
                    "kind": "class",
                    "line": 0,
                    "signature": "def alpha(value: int) -> str:",
                    "rank": 0.5,
                }
            ],
        },
    ]


@pytest.mark.parametrize("as_json", [False, True])
def test_render_respects_the_budget_and_grows_with_it(as_json: bool) -> None:
    entries = ranked()
    render = render_json if as_json else render_text
    full = count_tokens(render(entries))
    previous: list[MapEntry] = []
    for budget in [0, 1, 5, 17, 40, 64, 100, 150, 233, 400, full - 1, full, full + 50]:
        fitted = fit_to_budget(entries, budget, render)
        text = render_map(entries, budget, as_json=as_json)
        assert text == render(fitted)
        # JSON stays a document: with no room at all it is still "[]"
        assert count_tokens(text) <= (budget if budget or not as_json else 1)
        # the largest prefix: one more entry would not fit
        assert fitted == entries[: len(fitted)]
        if len(fitted) < len(entries):
            assert count_tokens(render(entries[: len(fitted) + 1])) > budget
        # monotonic: a larger budget never shows less
        assert fitted[: len(previous)] == previous
        previous = fitted
    assert previous == entries
    assert fit_to_budget(entries, full - 1, render) != entries
    assert 0 < len(fit_to_budget(entries, 100, render)) < len(entries)


def test_best_entries_survive_a_small_budget() -> None:
    entries = ranked()
    text = render_map(entries, 40)
    assert "function_number_0(" in text
    assert "function_number_39(" not in text


def test_count_tokens_uses_the_real_tokenizer() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2
    assert count_tokens("<|endoftext|>") > 1  # a special token's marker is plain text here


def test_a_ranked_graph_renders_its_most_used_file_first() -> None:
    files = [
        FileTags(
            "models.py", "python", (Definition("UserModel", "class", 4, "class UserModel:"),), ()
        ),
        FileTags(
            "views.py",
            "python",
            (Definition("show_user", "function", 0, "def show_user():"),),
            ("UserModel",),
        ),
        FileTags("api.py", "python", (), ("UserModel", "show_user")),
    ]
    text = render_map(rank_definitions(TagGraph(files)), 1000)
    assert text.startswith("models.py:\n⋮\n│class UserModel:\n⋮\n\nviews.py:\n")
    focused = render_map(rank_definitions(TagGraph(files), focus=["models.py"]), 1000)
    assert focused == "views.py:\n│def show_user():\n⋮\n"
