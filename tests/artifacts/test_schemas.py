"""Checks the bundled schemas (``schemas/*.schema.json``) against docs/schema-conventions.md.

Every schema must be valid draft 2020-12, follow the id convention, describe every property
(hover and completion show the descriptions), explain every enum value, carry valid examples
and defaults, and refer only to schemas the registry holds. The contract fields the engine
and the bootstrap read must exist, and a few shapes that are easy to get wrong (commands,
apps extended by profiles, conditional requireds) are pinned by small valid/invalid tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator

from uet.artifacts.formats import FORMAT_CHECKER
from uet.artifacts.registry import ID_PREFIX, bundled_registry
from uet.resources import schemas_dir

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# The 17 core artifacts, then every other kind the original UET schemas cover.
_ARTIFACT_LIST = """
    phase_spec workstream_spec task_spec router_config project_profile profile_extension
    phase_template bootstrap_discovery bootstrap_report execution_request prompt_instance
    run_record step_attempt run_event patch_artifact patch_ledger_entry patch_policy
    cost_record execution_pattern verification_template test_gate pattern_spec
    pattern_instance pattern_execution_result worker_lifecycle doc_meta
"""
ARTIFACT_NAMES = frozenset(_ARTIFACT_LIST.split())
# Original file names that differ from ``<name>.v1.json``.
ORIGINAL_FILE_NAMES = {"doc_meta": "doc-meta.v1.json"}

# Keywords whose value is a subschema, a list of subschemas or a mapping to subschemas.
_SINGLE = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "propertyNames",
    "contains",
    "not",
    "if",
    "then",
    "else",
)
_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_CONDITIONS = frozenset({"if", "not", "propertyNames", "contains"})
# The role of a subschema, by the keyword that holds it.
_ROLES = {
    "properties": "property",
    "patternProperties": "property",
    "additionalProperties": "property",
    "$defs": "definition",
    "items": "item",
}
# Objects deliberately left open: their users close them, or their content is free by nature.
_OPEN_OBJECTS = {
    ("common", "/$defs/app_fields"),  # closed by `app` and by profile `tools` (which add `detect`)
    ("common", "/$defs/worked_example"),  # documentation only
}


def _load_schemas() -> dict[str, dict[str, Any]]:
    suffix = ".schema.json"
    return {
        entry.name[: -len(suffix)]: json.loads(entry.read_text(encoding="utf-8"))
        for entry in schemas_dir().iterdir()
        if entry.name.endswith(suffix)
    }


SCHEMAS = _load_schemas()
ARTIFACTS = sorted(name for name in SCHEMAS if name != "common")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def walk(
    schema: Any, pointer: str = "", role: str = "root", in_condition: bool = False
) -> Iterator[tuple[str, str, Any]]:
    """Yield ``(json pointer, role, subschema)`` for a schema and all its subschemas.

    Subschemas inside conditions (``if``, ``not``, ``propertyNames``, ``contains``) only test
    instances and are never shown to users, so they get the role ``condition``.
    """
    if not isinstance(schema, Mapping):
        return
    yield pointer, "condition" if in_condition else role, schema

    def children(keyword: str, subschema: Any, where: str) -> Iterator[tuple[str, str, Any]]:
        inside = in_condition or keyword in _CONDITIONS
        yield from walk(subschema, where, _ROLES.get(keyword, "other"), inside)

    for keyword in _SINGLE:
        if keyword in schema:
            yield from children(keyword, schema[keyword], f"{pointer}/{keyword}")
    for keyword in _LISTS:
        for index, subschema in enumerate(schema.get(keyword, ())):
            yield from children(keyword, subschema, f"{pointer}/{keyword}/{index}")
    for keyword in _MAPS:
        for key, subschema in schema.get(keyword, {}).items():
            yield from children(keyword, subschema, f"{pointer}/{keyword}/{_escape(key)}")


def _validator_at(name: str, pointer: str) -> Draft202012Validator:
    """A validator for the subschema at ``pointer`` of schema ``name``, refs resolved offline."""
    uri = f"{ID_PREFIX}{name}.schema.json#{quote(pointer, safe='/~')}"
    return Draft202012Validator(
        {"$ref": uri},
        registry=bundled_registry().referencing_registry,
        format_checker=FORMAT_CHECKER,
    )


def _errors(name: str, instance: Any) -> list[str]:
    validator = bundled_registry().validator(name)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(instance)]


def test_the_registry_holds_every_artifact_kind_and_common() -> None:
    assert set(SCHEMAS) == ARTIFACT_NAMES | {"common"}
    assert bundled_registry().names() == sorted(ARTIFACT_NAMES | {"common"})


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    meta = Draft202012Validator(
        Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    assert [f"{e.json_path}: {e.message}" for e in meta.iter_errors(SCHEMAS[name])] == []


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_header_follows_the_conventions(name: str) -> None:
    schema = SCHEMAS[name]
    assert schema["$schema"] == DRAFT_2020_12
    assert schema["$id"] == f"{ID_PREFIX}{name}.schema.json"
    assert schema["title"].strip()
    assert schema["description"].strip()
    if name == "common":
        assert "properties" not in schema
        assert schema["$defs"]
    else:
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        assert schema["examples"], "at least one complete example"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_property_and_definition_is_described(name: str) -> None:
    undescribed = [
        pointer
        for pointer, role, subschema in walk(SCHEMAS[name])
        if role in ("property", "definition") and not str(subschema.get("description", "")).strip()
    ]
    assert undescribed == []


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_enum_value_is_described(name: str) -> None:
    for pointer, _, subschema in walk(SCHEMAS[name]):
        if "enum" not in subschema:
            continue
        descriptions = subschema.get("enumDescriptions")
        assert isinstance(descriptions, list), f"{pointer}: enumDescriptions missing"
        assert len(descriptions) == len(subschema["enum"]), pointer
        assert all(isinstance(text, str) and text.strip() for text in descriptions), pointer


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_objects_are_closed(name: str) -> None:
    open_objects = [
        pointer
        for pointer, role, subschema in walk(SCHEMAS[name])
        if role not in ("other", "condition")
        and "properties" in subschema
        and "additionalProperties" not in subschema
        and "unevaluatedProperties" not in subschema
        and (name, pointer) not in _OPEN_OBJECTS
    ]
    assert open_objects == []


@pytest.mark.parametrize("name", ARTIFACTS)
def test_examples_are_valid_and_cover_every_field(name: str) -> None:
    examples = SCHEMAS[name]["examples"]
    for example in examples:
        assert _errors(name, example) == []
    covered = {key for example in examples for key in example}
    assert set(SCHEMAS[name]["properties"]) - {"$schema", "doc_id"} - covered == set()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_nested_defaults_and_examples_are_valid(name: str) -> None:
    checked = 0
    for pointer, _, subschema in walk(SCHEMAS[name]):
        if not pointer:
            continue
        values = list(subschema.get("examples", []))
        if "default" in subschema:
            values.append(subschema["default"])
        validator = _validator_at(name, pointer)
        for value in values:
            assert [e.message for e in validator.iter_errors(value)] == [], pointer
            checked += 1
    if name in ("common", "workstream_spec", "project_profile"):
        assert checked, "defaults and examples exist here; the walk must reach them"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_ref_is_relative_and_resolves_offline(name: str) -> None:
    resolver = bundled_registry().referencing_registry.resolver(base_uri=SCHEMAS[name]["$id"])
    for pointer, _, subschema in walk(SCHEMAS[name]):
        reference = subschema.get("$ref")
        if reference is None:
            continue
        assert "://" not in reference, f"{pointer}: $ref must be relative"
        assert resolver.lookup(reference).contents, pointer


@pytest.mark.parametrize("name", ARTIFACTS)
def test_top_level_accepts_stamps_and_extensions_only(name: str) -> None:
    example = dict(SCHEMAS[name]["examples"][0])
    stamped = {
        **example,
        "$schema": f"{ID_PREFIX}{name}.schema.json",
        "doc_id": example.get("doc_id", "DOC-TEST-001"),
        "x-owner": {"team": "engine", "notes": ["free-form"]},
    }
    assert _errors(name, stamped) == []
    errors = list(bundled_registry().validator(name).iter_errors({**example, "x_owner": 1}))
    assert [(e.validator, e.json_path) for e in errors] == [("additionalProperties", "$")]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_lookup_maps_every_spelling_to_the_name(name: str) -> None:
    original = ORIGINAL_FILE_NAMES.get(name, f"{name}.v1.json")
    spellings = (name, SCHEMAS[name]["$id"], f"{name}.schema.json", f"schema/{original}")
    for spelling in (*spellings, f"schema/{name}.v1.json"):
        assert bundled_registry().lookup(spelling) == name, spelling


def _resolve(name: str, path: tuple[str, ...]) -> Mapping[str, Any]:
    """The schema reached from schema ``name`` by following ``path`` through ``$ref``s.

    A segment is a property name, ``[]`` for array items or ``{}`` for map values.
    """
    resolver = bundled_registry().referencing_registry.resolver(base_uri=SCHEMAS[name]["$id"])
    schema: Mapping[str, Any] = SCHEMAS[name]
    for segment in (*path, None):
        while "$ref" in schema and not (segment and segment in schema.get("properties", {})):
            resolved = resolver.lookup(schema["$ref"])
            schema, resolver = resolved.contents, resolved.resolver
        if segment is None:
            break
        keyword = {"[]": "items", "{}": "additionalProperties"}.get(segment)
        schema = schema[keyword] if keyword else schema["properties"][segment]
    return schema


# Fields other packages read (docs/schema-conventions.md): a schema, then paths in it where
# ``[]`` stands for array items and ``{}`` for map values.
_CONTRACT = """
    task_spec tool command args cwd env tags execution.background
    workstream_spec concurrency.max_parallel tasks.[].depends_on
    router_config apps.{}.shell apps.{}.cwd apps.{}.env apps.{}.retry.retryable_exit_codes
    router_config apps.{}.circuit_breaker.recovery_timeout_seconds defaults.strategy
    router_config routing.rules.[].match.domain routing.rules.[].match.tags
    router_config routing.rules.[].validate_with
    execution_request task_id routing.selected_tool routing.reason
    step_attempt task_id attempt exit_code duration_ms
    profile_extension extends_profile detection.signals.[].weight
    profile_extension detection.signals.[].content.regex tools.{}.detect tools.{}.command
    profile_extension phase_templates.[].tasks.[].tool
"""
CONTRACT_FIELDS = [
    (name, path)
    for name, *paths in map(str.split, _CONTRACT.strip().splitlines())
    for path in paths
]


@pytest.mark.parametrize(("name", "path"), CONTRACT_FIELDS)
def test_contract_field_exists(name: str, path: str) -> None:
    assert _resolve(name, tuple(path.split(".")))["description"]


_STATES = ("pending", "running")


@pytest.mark.parametrize(
    ("name", "path", "keyword", "expected"),
    [
        (
            "run_record",
            "state",
            "enum",
            [*_STATES[:2], "succeeded", "failed", "canceled", "quarantined"],
        ),
        ("step_attempt", "state", "enum", [*_STATES[:2], "completed", "error", "canceled"]),
        ("router_config", "defaults.strategy", "enum", ["fixed", "round_robin", "auto"]),
        ("workstream_spec", "error_handling.strategy", "default", "fail_fast"),
        ("run_record", "run_id", "pattern", "^[0-9A-HJKMNP-TV-Z]{26}$"),
        ("task_spec", "task_id", "pattern", "^[A-Za-z0-9][A-Za-z0-9._:-]*$"),
        ("router_config", "version", "pattern", "^[0-9]+\\.[0-9]+\\.[0-9]+$"),
        ("router_config", "apps.{}.shell", "default", False),
        ("router_config", "apps.{}.retry.max_attempts", "default", 3),
        ("router_config", "apps.{}.retry.base_delay_seconds", "default", 1),
        ("router_config", "apps.{}.retry.max_delay_seconds", "default", 60),
        ("router_config", "apps.{}.retry.retry_on_timeout", "default", True),
        ("router_config", "apps.{}.circuit_breaker.failure_threshold", "default", 5),
        ("router_config", "apps.{}.circuit_breaker.recovery_timeout_seconds", "default", 60),
    ],
)
def test_contract_value(name: str, path: str, keyword: str, expected: Any) -> None:
    assert _resolve(name, tuple(path.split(".")))[keyword] == expected


_APP = {"kind": "tool", "command": "aider", "capabilities": {"task_kinds": ["code_edit"]}}
_TASK = {"task_id": "t1", "name": "Task", "kind": "code_edit"}
_PROFILE = {
    "profile_id": "p",
    "profile_version": "1.0.0",
    "extends_core": [],
    "adds_resource_types": [],
}
_IDS = {"run_id": "01JP9ZTM8REM8CBR350RKQT8EW"}
_STEP = {**_IDS, "step_attempt_id": "01JP9ZTDE02VQ1JMXXYSB7RQE6", "sequence": 1, "tool_id": "a"}
_STEP |= {"state": "error", "started_at": "2025-03-14T09:30:00Z"}
_EVENT = {**_IDS, "event_id": "01JP9ZTDE02VQ1JMXXYSB7RQE6", "ts": "2025-03-14T09:30:00+01:00"}
_WORKSTREAM = {
    "workstream_id": "w",
    "project_id": "p",
    "phase_id": "PH-1",
    "name": "n",
    "objective": "o",
}
_VERIFY = {"verification_id": "v_v1", "category": "quality"}
_SIGNAL = {"id": "s", "description": "d", "weight": 1}


def _router(app: dict[str, Any]) -> dict[str, Any]:
    return {"version": "1.0.0", "apps": {"a": app}, "routing": {}}


def _policy(scope: dict[str, Any]) -> dict[str, Any]:
    return {"patch_policy_id": "p", "scope": scope, "constraints": {}}


def _signal(**fields: Any) -> dict[str, Any]:
    return {**_PROFILE, "detection": {"signals": [{**_SIGNAL, **fields}]}}


@pytest.mark.parametrize(
    ("name", "instance", "valid"),
    [
        ("task_spec", {**_TASK, "command": "pytest -q 'a b'"}, True),
        ("task_spec", {**_TASK, "command": ["pytest", "-q"]}, True),
        ("task_spec", {**_TASK, "command": []}, False),
        ("task_spec", {**_TASK, "command": [""]}, False),
        ("task_spec", {**_TASK, "command": ""}, False),
        ("task_spec", {**_TASK, "command": "   "}, False),
        ("task_spec", {**_TASK, "command": 5}, False),
        ("task_spec", {**_TASK, "cwd": "services/api"}, True),
        ("task_spec", {**_TASK, "cwd": "/srv/api"}, False),
        ("task_spec", {**_TASK, "cwd": "C:/srv"}, False),
        ("task_spec", {**_TASK, "cwd": "../outside"}, False),
        ("task_spec", {**_TASK, "cwd": "a/../../b"}, False),
        ("task_spec", {**_TASK, "cwd": "a..b/c"}, True),
        ("task_spec", {**_TASK, "env": {"A": "1"}}, True),
        ("task_spec", {**_TASK, "env": {"A": 1}}, False),
        ("task_spec", {**_TASK, "env": {"1A": "x"}}, False),
        ("task_spec", {**_TASK, "task_id": "has space"}, False),
        ("task_spec", {**_TASK, "classification": {"complexity": "medium"}}, False),
        ("workstream_spec", {**_WORKSTREAM, "tasks": [_TASK]}, True),
        ("workstream_spec", {**_WORKSTREAM, "tasks": [{"task_id": "t1", "name": "n"}]}, False),
        ("router_config", _router({**_APP, "shell": True, "command": ["a", "--yes"]}), True),
        ("router_config", _router({**_APP, "detect": ["aider"]}), False),
        ("router_config", _router({**_APP, "retry": {"retryable_exit_codes": [1, 1]}}), False),
        ("profile_extension", {**_PROFILE, "tools": {"a": {**_APP, "detect": ["aider"]}}}, True),
        ("profile_extension", {**_PROFILE, "tools": {"a": {**_APP, "comand": "x"}}}, False),
        ("profile_extension", {**_PROFILE, "tools": {"a": {"detect": ["aider"]}}}, False),
        ("profile_extension", {"profile_id": "mine", "extends_profile": "generic"}, True),
        ("profile_extension", {"profile_id": "mine", "profile_version": "1.0.0"}, False),
        ("profile_extension", _signal(content={"glob": "*.py", "regex": "^import "}), True),
        ("profile_extension", _signal(content={"glob": "*.py", "regex": "(unclosed"}), False),
        ("profile_extension", _signal(weight="high"), False),
        ("step_attempt", {**_STEP, "exit_code": None, "duration_ms": None}, True),
        ("step_attempt", {**_STEP, "exit_code": 0, "duration_ms": 12.5, "attempt": 2}, True),
        ("step_attempt", {**_STEP, "attempt": 0}, False),
        ("step_attempt", {**_STEP, "state": "succeeded"}, False),
        ("run_event", {**_EVENT, "kind": "circuit_state_changed"}, True),
        ("run_event", {**_EVENT, "kind": "note", "ts": "2025-03-14"}, False),
        ("patch_policy", _policy({"level": "project"}), False),
        ("patch_policy", _policy({"level": "project", "project_id": "P"}), True),
        ("patch_policy", _policy({"level": "global"}), True),
        ("verification_template", {**_VERIFY, "checks": {"lint": {"cmd": "ruff check"}}}, True),
        (
            "verification_template",
            {**_VERIFY, "checks": {"d": {"cmd": "ls", "for_each": []}}},
            True,
        ),
        ("verification_template", {**_VERIFY, "meta": {"created_at": "2025-02-30"}}, False),
        ("verification_template", {**_VERIFY, "meta": {"created_at": "2025-02-28"}}, True),
    ],
)
def test_shape(name: str, instance: dict[str, Any], valid: bool) -> None:
    errors = _errors(name, instance)
    assert (errors == []) == valid, errors
