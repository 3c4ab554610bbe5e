"""Did-you-mean that helps: a suggestion is close in name or a synonym the schema lists
(``x-synonyms``), or there is none; never a far-fetched property one level down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from uet.artifacts import bundled_registry, check_text
from uet.artifacts.suggestions import STRICT_CUTOFF, Suggester

REGISTRY = bundled_registry()
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
WORKSTREAM = (
    "workstream_id: ws\nproject_id: p\nphase_id: PH\nname: n\nobjective: o\n"
    "tasks:\n  - task_id: a\n    name: a\n    kind: k\n    {key}: 3\n"
)


def message_for(key: str, text: str = WORKSTREAM, path: str = "workstreams/w.yaml") -> str:
    report = check_text(text.replace("{key}", key), path, registry=REGISTRY)
    (diagnostic,) = [item for item in report.diagnostics if item.code == "UET203"]
    return diagnostic.message


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("retries", "execution.max_attempts"),
        ("Max-Retries", "execution.max_attempts"),
        ("timeout", "execution.timeout_seconds"),
        ("timout_seconds", "execution.timeout_seconds"),
        ("deps", "depends_on"),
        ("needs", "depends_on"),
        ("cmd", "command"),
        ("workdir", "cwd"),
        ("environment", "env"),
        ("tgs", "tags"),
        ("retrys", "execution.max_attempts"),  # a close synonym
    ],
)
def test_a_task_key_gets_what_the_user_meant(key: str, meant: str) -> None:
    assert message_for(key) == f"unknown property '{key}'; did you mean '{meant}'?"


@pytest.mark.parametrize("key", ["bananas", "owner", "write_all", "zz"])
def test_a_key_close_to_nothing_gets_no_suggestion_but_the_allowed_keys(key: str) -> None:
    message = message_for(key)
    assert "did you mean" not in message
    assert message.startswith(f"unknown property '{key}' (allowed: ")


def test_the_same_level_synonym_gives_a_rename_fix() -> None:
    report = check_text(
        WORKSTREAM.replace("{key}", "deps"), "workstreams/w.yaml", registry=REGISTRY
    )
    (diagnostic,) = report.diagnostics
    assert diagnostic.data is not None
    assert diagnostic.data["suggestion"] == "depends_on"
    assert diagnostic.data["nested_suggestion"] is None


def test_synonyms_work_inside_nested_objects_and_apps() -> None:
    text = WORKSTREAM.replace("    {key}: 3\n", "    execution:\n      {key}: 3\n")
    assert message_for("retries", text).endswith("did you mean 'max_attempts'?")
    router = json.dumps({"version": "1.0.0", "apps": {"x": {"kind": "tool", "cmd": ["x"]}}})
    assert message_for("cmd", router, "router_config.json").endswith("did you mean 'command'?")
    router = json.dumps({"version": "1.0.0", "apps": {"x": {"kind": "tool", "timeout": 3}}})
    assert message_for("timeout", router, "router_config.json").endswith(
        "did you mean 'limits.timeout_seconds'?"
    )


def test_a_nested_guess_must_be_closer_than_a_guess_on_the_same_level() -> None:
    # 'retries' is 0.62 similar to 'create' (resource_scope_delta.create): not enough.
    assert Suggester(["create"])("retries") == "create"
    assert Suggester(["create"], cutoff=STRICT_CUTOFF)("retries") is None


def synonym_sites(value: Any, path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "x-synonyms":
                found.append((path, item))
            found.extend(synonym_sites(item, f"{path}/{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(synonym_sites(item, f"{path}/{index}"))
    return found


@pytest.mark.parametrize("schema", sorted(SCHEMAS.glob("*.schema.json")), ids=lambda p: p.name)
def test_synonyms_follow_the_conventions(schema: Path) -> None:
    """``x-synonyms`` sit on a property entry, list at most 20 distinct strings, and none of
    them is a name of the same object or a synonym of another of its properties."""
    document = json.loads(schema.read_text("utf-8"))
    objects: dict[str, dict[str, str]] = {}
    for path, words in synonym_sites(document):
        parent, _, name = path.rpartition("/")
        assert parent.endswith("/properties"), path
        assert isinstance(words, list) and 0 < len(words) <= 20, path
        assert all(isinstance(word, str) and word for word in words), path
        assert len(set(words)) == len(words), path
        siblings = _resolve(document, parent)
        claimed = objects.setdefault(parent, {})
        for word in words:
            assert word not in siblings, f"{path}: {word} is a property of the same object"
            assert claimed.setdefault(word, name) == name, f"{path}: {word} claimed twice"


def _resolve(document: Any, pointer: str) -> Any:
    node = document
    for part in pointer.strip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
