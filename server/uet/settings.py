"""The user settings of uet-lsp: one frozen, typed, fully defaulted model.

Why one model: the language server parses it from ``workspace/configuration`` (per folder)
or ``initializationOptions``; later the run commands read ``trustedWorkspace`` from it; and
the VS Code ``contributes.configuration`` block and docs/configuration.md are generated
from it (``configuration_contributions`` / ``configuration_markdown``), so there is one
source for names, types, defaults and descriptions. Invalid values never fail: each bad
setting falls back to its default and yields a message for the user.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "SECTION",
    "LogLevel",
    "Settings",
    "configuration_contributions",
    "configuration_markdown",
    "parse_settings",
]

SECTION = "uet"
LogLevel = Literal["error", "warning", "info", "debug"]
_FIVE_MIB = 5 * 1024 * 1024


class Settings(BaseModel):
    """Every ``uet.*`` setting, with its default."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True
    )

    schemas: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description=(
            "Schema associations: schema name (e.g. `workstream_spec`) or `none` → glob "
            "patterns (gitignore syntax, relative to the workspace folder). They are tried "
            "after a file's modeline and `$schema` and before the built-in naming conventions; "
            "`none` opts matching files out."
        ),
        json_schema_extra={"scope": "resource", "example": {"workstream_spec": ["plans/*.yaml"]}},
    )
    schema_conventions: bool = Field(
        default=True,
        description=(
            "Associate files with schemas by the built-in file-name and folder conventions "
            "(for example `workstreams/*.yaml`, `router_config.json`)."
        ),
        json_schema_extra={"scope": "resource"},
    )
    max_file_size: int = Field(
        default=_FIVE_MIB,
        ge=1024,
        description=(
            "Largest artifact file, in bytes, that is validated; a larger file gets one "
            "diagnostic instead."
        ),
        json_schema_extra={"scope": "resource"},
    )
    debounce: int = Field(
        default=150,
        ge=0,
        le=5000,
        description=(
            "Delay in milliseconds before re-validating a document whose last validation was "
            "slow. Documents that validate in a few milliseconds are validated on every "
            "change without delay."
        ),
        json_schema_extra={"scope": "resource"},
    )
    exclude: tuple[str, ...] = Field(
        default=(),
        description=(
            "Glob patterns (gitignore syntax, relative to the workspace folder) of files the "
            "workspace index skips, in addition to `.gitignore` and folders such as "
            "`node_modules`, `.venv` and `.git`."
        ),
        json_schema_extra={"scope": "resource", "example": ["fixtures/**"]},
    )
    log_level: LogLevel = Field(
        default="info",
        description="How much the server writes to its log (the editor's output channel).",
        json_schema_extra={"scope": "window"},
    )
    trusted_workspace: bool = Field(
        default=False,
        description=(
            "Allow uet to run the tools named by the workspace's artifacts (workstream runs). "
            "Validation, completion and navigation never run anything."
        ),
        json_schema_extra={"scope": "resource"},
    )
    run_priority: Literal["idle", "low", "normal"] = Field(
        default="idle",
        description=(
            "CPU priority of task processes started from the editor. idle: they use only CPU "
            "time nothing else wants, so the editor stays responsive while a run uses every "
            "core (Linux SCHED_IDLE; nice 19 elsewhere); low: nice value raised by 10; "
            "normal: the editor's priority."
        ),
        json_schema_extra={"scope": "resource"},
    )

    @field_validator("schemas", mode="before")
    @classmethod
    def _globs_as_lists(cls, value: Any) -> Any:
        """Accept a single glob where a list is expected, as yaml.schemas does."""
        if isinstance(value, Mapping):
            return {
                key: [globs] if isinstance(globs, str) else globs for key, globs in value.items()
            }
        return value


def parse_settings(raw: object) -> tuple[Settings, list[str]]:
    """Settings from a client's ``uet`` section, and a message per value that was ignored.

    ``raw`` may be the section itself or an object holding it under ``uet`` (both shapes
    occur in ``initializationOptions``). ``None`` means "nothing configured".
    """
    if raw is None:
        return Settings(), []
    if not isinstance(raw, Mapping):
        return Settings(), [f"settings for '{SECTION}' must be an object; using the defaults"]
    section = raw.get(SECTION)
    if isinstance(section, Mapping):
        raw = section
    messages: list[str] = []
    known = {field.alias or name for name, field in Settings.model_fields.items()}
    known |= set(Settings.model_fields)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            messages.append(f"unknown setting '{SECTION}.{key}' ignored")
        elif value is not None:
            values[str(key)] = value
    while True:
        try:
            return Settings.model_validate(values), messages
        except ValidationError as error:
            bad = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
            for item in error.errors():
                where = ".".join(str(part) for part in item["loc"])
                messages.append(
                    f"invalid setting '{SECTION}.{where}': {item['msg']}; using the default"
                )
            if not bad & values.keys():
                return Settings(), messages
            for key in bad:
                values.pop(key, None)


def configuration_contributions() -> dict[str, dict[str, Any]]:
    """The VS Code ``contributes.configuration.properties`` entries, ``uet.<name>`` each."""
    schema = Settings.model_json_schema(by_alias=True)
    properties: dict[str, dict[str, Any]] = {}
    for name, field in Settings.model_fields.items():
        alias = field.alias or name
        entry = dict(schema["properties"][alias])
        entry.pop("title", None)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        entry.pop("example", None)
        entry["scope"] = extra.get("scope", "resource")
        entry["default"] = Settings().model_dump(mode="json", by_alias=True)[alias]
        if "enum" in entry or "const" in entry:
            entry.setdefault("type", "string")
        if entry.get("type") == "object":
            entry["additionalProperties"] = {"type": "array", "items": {"type": "string"}}
        properties[f"{SECTION}.{alias}"] = entry
    return properties


def configuration_markdown() -> str:
    """docs/configuration.md, generated from the model (a test keeps the file in step)."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from uet.settings by `python -m uet.settings`; do not edit. -->",
        "",
        "The language server reads the `uet` section of the editor's settings through",
        "`workspace/configuration`, once per workspace folder, and again whenever the editor",
        "sends `workspace/didChangeConfiguration`; no restart is needed. Editors that cannot",
        "answer `workspace/configuration` (Neovim 0.7) pass the same object as",
        '`initializationOptions` (either `{...}` or `{"uet": {...}}`). An invalid value is',
        "reported once in a message and replaced by its default; the other settings still",
        "apply.",
        "",
        "| Setting | Type | Default | Scope | Description |",
        "|---|---|---|---|---|",
    ]
    for name, entry in configuration_contributions().items():
        kind = entry.get("type", "string")
        if "enum" in entry:
            kind = " \\| ".join(f"`{value}`" for value in entry["enum"])
        default = json.dumps(entry["default"])
        description = str(entry.get("description", "")).replace("|", "\\|")
        lines.append(f"| `{name}` | {kind} | `{default}` | {entry['scope']} | {description} |")
    lines += [
        "",
        "Example (VS Code `settings.json`):",
        "",
        "```json",
        json.dumps(
            {
                "uet.schemas": {"workstream_spec": ["plans/*.yaml"], "none": ["fixtures/**"]},
                "uet.maxFileSize": _FIVE_MIB,
                "uet.exclude": ["build/**"],
                "uet.logLevel": "info",
            },
            indent=2,
        ),
        "```",
        "",
        "Example (Neovim 0.7, `vim.lsp.start_client`):",
        "",
        "```lua",
        "init_options = { uet = { schemas = { workstream_spec = { 'plans/*.yaml' } } } }",
        "```",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--contributions"]:
        print(json.dumps(configuration_contributions(), indent=2))
    else:
        print(configuration_markdown(), end="")
