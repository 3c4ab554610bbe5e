"""The user settings of uet-lsp: one frozen, typed, fully defaulted dataclass.

Why one class: the language server parses it from ``workspace/configuration`` (per folder)
or ``initializationOptions``; later the run commands read ``trustedWorkspace`` from it; and
the VS Code ``contributes.configuration`` block and docs/configuration.md are generated
from it (``configuration_contributions`` / ``configuration_markdown``), so there is one
source for names, types, defaults and descriptions. Invalid values never fail: each bad
setting falls back to its default and yields a message for the user.

Why no validation library: the settings are booleans, bounded integers, choices, lists of
globs and one map of them, each checked in a few lines by its type (``_checked``). The
server reads them before its first diagnostics, and importing a model library (pydantic)
was a sixth of its start-up (benchmarks/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args, get_origin, get_type_hints

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


def _about(
    description: str,
    *,
    scope: str = "resource",
    minimum: int | None = None,
    maximum: int | None = None,
) -> dict[str, Any]:
    """What the editor's settings UI shows of a setting (a field's metadata)."""
    bounds = {"minimum": minimum, "maximum": maximum}
    return {"description": description, "scope": scope} | {
        key: value for key, value in bounds.items() if value is not None
    }


@dataclass(frozen=True)
class Settings:
    """Every ``uet.*`` setting, with its default (camelCase in the editor: ``maxFileSize``)."""

    schemas: dict[str, tuple[str, ...]] = field(
        default_factory=dict,
        metadata=_about(
            "Schema associations: schema name (e.g. `workstream_spec`) or `none` → glob "
            "patterns (gitignore syntax, relative to the workspace folder). They are tried "
            "after a file's modeline and `$schema` and before the built-in naming conventions; "
            "`none` opts matching files out.",
        ),
    )
    schema_conventions: bool = field(
        default=True,
        metadata=_about(
            "Associate files with schemas by the built-in file-name and folder conventions "
            "(for example `workstreams/*.yaml`, `router_config.json`).",
        ),
    )
    max_file_size: int = field(
        default=_FIVE_MIB,
        metadata=_about(
            "Largest artifact file, in bytes, that is validated; a larger file gets one "
            "diagnostic instead.",
            minimum=1024,
        ),
    )
    debounce: int = field(
        default=150,
        metadata=_about(
            "Delay in milliseconds before re-validating a document whose last validation was "
            "slow. Documents that validate in a few milliseconds are validated on every "
            "change without delay.",
            minimum=0,
            maximum=5000,
        ),
    )
    exclude: tuple[str, ...] = field(
        default=(),
        metadata=_about(
            "Glob patterns (gitignore syntax, relative to the workspace folder) of files the "
            "workspace index skips, in addition to `.gitignore` and folders such as "
            "`node_modules`, `.venv` and `.git`.",
        ),
    )
    log_level: LogLevel = field(
        default="info",
        metadata=_about(
            "How much the server writes to its log (the editor's output channel).",
            scope="window",
        ),
    )
    trusted_workspace: bool = field(
        default=False,
        metadata=_about(
            "Allow uet to run the tools named by the workspace's artifacts (workstream runs). "
            "Validation, completion and navigation never run anything.",
        ),
    )
    run_priority: Literal["idle", "low", "normal"] = field(
        default="idle",
        metadata=_about(
            "CPU priority of task processes started from the editor. idle: they use only CPU "
            "time nothing else wants, so the editor stays responsive while a run uses every "
            "core (Linux SCHED_IDLE; nice 19 elsewhere); low: nice value raised by 10; "
            "normal: the editor's priority.",
        ),
    )


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def parse_settings(raw: object) -> tuple[Settings, list[str]]:
    """Settings from a client's ``uet`` section, and a message per value that was ignored.

    ``raw`` may be the section itself or an object holding it under ``uet`` (both shapes
    occur in ``initializationOptions``). ``None`` means "nothing configured". Keys are the
    editor's camelCase names (the Python names are accepted too).
    """
    if raw is None:
        return Settings(), []
    if not isinstance(raw, Mapping):
        return Settings(), [f"settings for '{SECTION}' must be an object; using the defaults"]
    section = raw.get(SECTION)
    if isinstance(section, Mapping):
        raw = section
    known = {key: item for item in fields(Settings) for key in (item.name, _camel(item.name))}
    types = get_type_hints(Settings)
    messages: list[str] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        item = known.get(key)
        if item is None:
            messages.append(f"unknown setting '{SECTION}.{key}' ignored")
            continue
        if value is None:
            continue
        try:
            values[item.name] = _checked(types[item.name], value, item.metadata)
        except ValueError as error:
            messages.append(f"invalid setting '{SECTION}.{key}': {error}; using the default")
    return Settings(**values), messages


def _checked(kind: Any, value: Any, limits: Mapping[str, Any]) -> Any:
    """``value`` as a setting of type ``kind`` within ``limits``; ValueError says why not."""
    origin, args = get_origin(kind), get_args(kind)
    if origin is Literal:
        if value in args:
            return value
        raise ValueError(f"expected one of {', '.join(args)}")
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ValueError("expected true or false")
    if kind is int:
        whole = isinstance(value, float) and value.is_integer()
        if not whole and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("expected a whole number")
        low, high = limits.get("minimum"), limits.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            wanted = f"of at least {low}" if high is None else f"from {low} to {high}"
            raise ValueError(f"expected a number {wanted}")
        return int(value)
    if origin is tuple:
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise ValueError("expected a list of glob patterns")
    if isinstance(value, Mapping):  # schema name → globs; one glob alone is a list of one
        return {
            str(name): _checked(args[1], [globs] if isinstance(globs, str) else globs, {})
            for name, globs in value.items()
        }
    raise ValueError("expected an object")


def _json_schema(kind: Any) -> dict[str, Any]:
    """The JSON schema of a setting's type, as VS Code's settings UI reads it."""
    origin, args = get_origin(kind), get_args(kind)
    globs = {"type": "array", "items": {"type": "string"}}
    if origin is Literal:
        return {"enum": list(args), "type": "string"}
    if origin is tuple:
        return globs
    if origin is dict:
        return {"additionalProperties": globs, "type": "object"}
    return {"type": "boolean" if kind is bool else "integer"}


def configuration_contributions() -> dict[str, dict[str, Any]]:
    """The VS Code ``contributes.configuration.properties`` entries, ``uet.<name>`` each."""
    defaults = Settings()
    types = get_type_hints(Settings)
    properties: dict[str, dict[str, Any]] = {}
    for item in fields(Settings):
        default = getattr(defaults, item.name)
        entry = {
            **_json_schema(types[item.name]),
            **item.metadata,
            "default": list(default) if isinstance(default, tuple) else default,
        }
        properties[f"{SECTION}.{_camel(item.name)}"] = dict(sorted(entry.items()))
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
