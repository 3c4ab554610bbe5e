"""Which schema applies to a file, in the documented order, and why."""

from __future__ import annotations

import pytest

from uet.artifacts import AssociationSettings, SchemaRegistry, associate, load_text

PREFIX = "https://uet.invalid/schemas/v1/"
REGISTRY = SchemaRegistry(
    {
        name: {"$id": f"{PREFIX}{name}.schema.json", "type": "object"}
        for name in ("common", "workstream_spec", "router_config", "task_spec", "phase_spec")
    }
)


def schema_of(text: str, path: str, settings: AssociationSettings | None = None) -> str | None:
    return associate(load_text(text, path), path, REGISTRY, settings).schema


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("workstreams/build.yaml", "workstream_spec"),
        ("deep/in/workstreams/build.json", "workstream_spec"),
        ("ci/nightly.workstream.json", "workstream_spec"),
        ("router_config.json", "router_config"),
        ("config/router_config.prod.yaml", "router_config"),
        ("router.config.yaml", "router_config"),
        ("phases/PH-01.yaml", "phase_spec"),
        ("x/y.task_spec.yml", "task_spec"),
        ("task_spec.json", "task_spec"),
        ("package.json", None),
        ("docs/mkdocs.yml", None),
        ("common.json", None),
    ],
)
def test_conventions(path: str, expected: str | None) -> None:
    assert schema_of("{}", path) == expected


def test_modeline_wins_over_everything() -> None:
    text = "# uet: schema=task_spec\n$schema: router_config.schema.json\n"
    association = associate(load_text(text, "workstreams/a.yaml"), "workstreams/a.yaml", REGISTRY)
    assert (association.schema, association.source) == ("task_spec", "modeline")
    assert association.reason == "its modeline names task_spec"


def test_modeline_none_opts_out() -> None:
    assert schema_of("# uet: schema=none\na: 1\n", "workstreams/a.yaml") is None


def test_dollar_schema_by_id_file_name_or_original_name() -> None:
    for value in (
        f"{PREFIX}task_spec.schema.json",
        "task_spec.schema.json",
        "../schemas/task_spec.schema.json",
        "schema/task_spec.v1.json",
    ):
        assert schema_of(f'{{"$schema": "{value}"}}', "anything.json") == "task_spec"


def test_unknown_schema_names_get_a_diagnostic_with_a_suggestion() -> None:
    text = "# uet: schema=workstream_spek\n"
    association = associate(load_text(text, "a.yaml"), "a.yaml", REGISTRY)
    assert association.schema is None and association.problem is not None
    assert association.problem.code == "UET108"
    assert "did you mean 'workstream_spec'?" in association.problem.message
    assert association.problem.span.start == text.index("workstream_spek")


def test_foreign_dollar_schema_is_left_alone() -> None:
    text = '{"$schema": "http://json-schema.org/draft-07/schema#"}'
    association = associate(load_text(text, "x.json"), "x.json", REGISTRY)
    assert association.schema is None and association.problem is None


def test_user_settings_come_before_conventions() -> None:
    settings = AssociationSettings(
        schemas={"task_spec": ["jobs/*.yaml"], "none": ["workstreams/skip*"]}
    )
    assert schema_of("{}", "jobs/a.yaml", settings) == "task_spec"
    assert schema_of("{}", "workstreams/skip-me.yaml", settings) is None
    assert schema_of("{}", "workstreams/keep.yaml", settings) == "workstream_spec"
