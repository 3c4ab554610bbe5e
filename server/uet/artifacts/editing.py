"""Schema-driven editing help: completion candidates and hover text, as plain records.

Everything the editor offers comes from the one schema registry (through ``schema_nav``)
and, for ids, from the workspace index (passed in as a function, so this module stays
independent of it). Results carry code-point spans; ``uet.lsp.convert`` turns them into
protocol types. Quick fixes live in ``quickfix``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from uet.artifacts.cursor import CursorContext, cursor_context
from uet.artifacts.facts import APP, PHASE, PROFILE, TASK
from uet.artifacts.loader import ParsedFile
from uet.artifacts.positions import Span
from uet.artifacts.registry import SchemaRegistry
from uet.artifacts.schema_nav import (
    MISSING,
    SchemaSummary,
    property_schemas,
    schemas_at,
    summarize,
)
from uet.artifacts.tree import Document, NodeKind, PathPart

__all__ = [
    "ID_PROPERTIES",
    "Completion",
    "HoverInfo",
    "complete",
    "hover",
    "id_kind_at",
    "render_scalar",
    "task_ids_of",
]

CompletionKind = Literal["property", "value", "id", "boolean"]
IdLookup = Callable[[str], Sequence[str]]
_MAX_COMPLETIONS = 1000
_PLAIN_YAML = re.compile(r"^[A-Za-z_./][A-Za-z0-9_./ -]*[A-Za-z0-9_./]$|^[A-Za-z_./]$")
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})

# Properties whose values are ids of another artifact: (schema, path pattern) → id kind.
# ``*`` stands for any list index.
ID_PROPERTIES: dict[tuple[str, tuple[str, ...]], str] = {
    ("workstream_spec", ("phase_id",)): PHASE,
    ("workstream_spec", ("tasks", "*", "depends_on", "*")): TASK,
    ("workstream_spec", ("tasks", "*", "tool")): APP,
    ("task_spec", ("tool",)): APP,
    ("router_config", ("routing", "rules", "*", "select_from", "*")): APP,
    ("router_config", ("routing", "rules", "*", "validate_with", "*")): APP,
    ("project_profile", ("profile_id",)): PROFILE,
    ("profile_extension", ("extends_profile",)): PROFILE,
}


@dataclass(frozen=True, slots=True)
class Completion:
    """One completion candidate: ``insert_text`` replaces ``replace``.

    ``snippet`` is the same insertion in LSP snippet syntax for editors that expand
    snippets (a key with its value's skeleton and the cursor where the value goes, enum
    values as a choice, the default as a placeholder); it may span lines, indented
    relative to the key's line.
    """

    label: str
    kind: CompletionKind
    insert_text: str
    replace: Span
    detail: str = ""
    documentation: str = ""
    sort_text: str = ""
    snippet: str = ""


@dataclass(frozen=True, slots=True)
class HoverInfo:
    """Markdown describing the node under the cursor, and that node's span."""

    markdown: str
    span: Span
    path: tuple[PathPart, ...]


def id_kind_at(schema: str | None, path: Sequence[PathPart]) -> str | None:
    """The id kind (task, phase, app, profile) expected at ``path``, if any."""
    if schema is None:
        return None
    shape = tuple("*" if isinstance(part, int) else part for part in path)
    return ID_PROPERTIES.get((schema, shape))


def complete(
    parsed: ParsedFile,
    offset: int,
    schema: str,
    registry: SchemaRegistry,
    *,
    ids: IdLookup | None = None,
    root_value: Any = MISSING,
) -> list[Completion]:
    """Candidates at ``offset``: keys not yet present, enum values, booleans and ids.

    ``root_value`` is the last value of the document that parsed (the current text may
    not); it lets ``oneOf`` branches be chosen by what is already written.
    """
    if root_value is MISSING and parsed.documents and parsed.documents[0].root is not None:
        root_value = parsed.documents[0].root.value
    context = cursor_context(parsed.text, offset, parsed.language)
    nodes = schemas_at(registry, schema, context.path, root_value)
    found: list[Completion] = []
    if context.position in ("key", "item"):
        keys = context.existing_keys | _written_keys(root_value, context.path)
        found.extend(_key_candidates(parsed.language, context, nodes, registry, keys))
    if context.position in ("value", "item"):
        summary = summarize(nodes)
        found.extend(_value_candidates(parsed.language, context, summary))
        kind = id_kind_at(schema, context.path)
        if kind is not None and ids is not None:
            known = {item.label for item in found} | _ids_taken(root_value, context.path)
            for identifier in ids(kind):
                if identifier not in known:
                    text = render_scalar(identifier, parsed.language)
                    found.append(
                        Completion(identifier, "id", text, context.replace, f"{kind} id", "", "1")
                    )
    return found[:_MAX_COMPLETIONS]


def hover(
    parsed: ParsedFile, offset: int, schema: str, registry: SchemaRegistry
) -> HoverInfo | None:
    """What the schema says about the key or value under ``offset``."""
    document = _document_at(parsed, offset)
    if document is None or document.root is None:
        return None
    located = _locate(document, offset)
    if located is None:
        return None
    path, span, value = located
    nodes = schemas_at(registry, schema, path, document.root.value)
    if not nodes:
        return None
    summary = summarize(nodes)
    return HoverInfo(_hover_markdown(path, summary, schema, registry, value), span, path)


def render_scalar(value: Any, language: str) -> str:
    """``value`` written as a JSON or YAML scalar (YAML: plain when unambiguous)."""
    if language == "yaml" and isinstance(value, str):
        if _PLAIN_YAML.match(value) and value.lower() not in _YAML_WORDS and not _numberish(value):
            return value
        return json.dumps(value, ensure_ascii=False)
    if language == "yaml" and isinstance(value, Mapping | list):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return json.dumps(value, ensure_ascii=False)


def task_ids_of(root_value: Any) -> list[str]:
    """The task ids a workstream's value defines, in order (completion falls back to them
    while the text does not parse and the index holds none of the file's ids)."""
    tasks = root_value.get("tasks") if isinstance(root_value, Mapping) else None
    if not isinstance(tasks, list):
        return []
    found = (task.get("task_id") for task in tasks if isinstance(task, Mapping))
    return list(dict.fromkeys(item for item in found if isinstance(item, str)))


def _ids_taken(root_value: Any, path: Sequence[PathPart]) -> set[str]:
    """Ids not to offer at ``path``, an item of an id list: the other items of that list
    (ids are listed once) and, in ``depends_on``, the id of the task it belongs to (a task
    cannot depend on itself). Read from the last value that parsed; the item at the cursor
    is the one being replaced, so it stays offered."""
    if not path or not isinstance(path[-1], int):
        return set()
    *parents, position = path
    holder: Any = root_value
    owner: Any = None
    for part in parents:
        owner = holder
        if isinstance(part, str) and isinstance(holder, Mapping):
            holder = holder.get(part)
        elif isinstance(part, int) and isinstance(holder, list) and 0 <= part < len(holder):
            holder = holder[part]
        else:
            return set()
    taken = set()
    if isinstance(holder, list):
        taken = {
            item for index, item in enumerate(holder) if index != position and isinstance(item, str)
        }
    if parents[-1:] == ["depends_on"] and isinstance(owner, Mapping):
        task_id = owner.get("task_id")
        if isinstance(task_id, str):
            taken.add(task_id)
    return taken


def _numberish(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _written_keys(root_value: Any, path: Sequence[PathPart]) -> frozenset[str]:
    value = root_value
    for part in path:
        if isinstance(part, str) and isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value):
            value = value[part]
        else:
            return frozenset()
    return frozenset(str(key) for key in value) if isinstance(value, Mapping) else frozenset()


def _key_candidates(
    language: str,
    context: CursorContext,
    nodes: Sequence[Any],
    registry: SchemaRegistry,
    existing: frozenset[str],
) -> list[Completion]:
    required: set[str] = set()
    for node in nodes:
        listed = node.contents.get("required")
        if isinstance(listed, list):
            required.update(str(name) for name in listed)
    found: list[Completion] = []
    for name, subschemas in property_schemas(nodes, registry).items():
        if name in existing and name != context.prefix:
            continue
        if name == "$schema":
            continue
        summary = summarize(subschemas)
        if language == "json":
            insert = f'"{name}": '
        elif summary.types in (("object",), ("array",)):
            insert = f"{name}:"
        else:
            insert = f"{name}: "
        order = "0" if name in required else "2"
        detail = " | ".join(summary.types) + (" (required)" if name in required else "")
        snippet = _key_snippet(name, language, summary)
        found.append(
            Completion(
                name,
                "property",
                insert,
                context.replace,
                detail,
                summary.description,
                order,
                snippet,
            )
        )
    return found


def _key_snippet(name: str, language: str, summary: SchemaSummary) -> str:
    """``name`` with the skeleton of its value, in snippet syntax."""
    if language == "json":
        head = _snippet_text(json.dumps(name, ensure_ascii=False)) + ": "
        shapes = {"object": "{$0}", "array": "[$0]", "string": '"$0"'}
    else:
        head = _snippet_text(name) + ":"
        shapes = {"object": "\n  $0", "array": "\n  - $0"}
    enum = summary.enum or ((True, False) if summary.types == ("boolean",) else ())
    if enum and not (summary.has_default and not summary.enum):
        choices = ",".join(_snippet_choice(render_scalar(value, language)) for value in enum)
        return f"{head}{'' if language == 'json' else ' '}${{1|{choices}|}}"
    if summary.has_default and not isinstance(summary.default, Mapping | list):
        default = _snippet_text(render_scalar(summary.default, language), in_placeholder=True)
        return f"{head}{'' if language == 'json' else ' '}${{1:{default}}}"
    if len(summary.types) == 1 and summary.types[0] in shapes:
        return head + shapes[summary.types[0]]
    return head + ("" if language == "json" else " ") + "$0"


def _snippet_text(text: str, in_placeholder: bool = False) -> str:
    """``text`` with the characters snippet syntax gives a meaning escaped."""
    text = text.replace("\\", "\\\\").replace("$", "\\$")
    return text.replace("}", "\\}") if in_placeholder else text


def _snippet_choice(text: str) -> str:
    """One ``${1|a,b|}`` choice, escaped."""
    for char in ("\\", "$", "}", ",", "|"):
        text = text.replace(char, "\\" + char)
    return text


def _value_candidates(
    language: str, context: CursorContext, summary: SchemaSummary
) -> list[Completion]:
    found: list[Completion] = []
    for position, value in enumerate(summary.enum):
        described = summary.enum_descriptions
        documentation = described[position] if position < len(described) else ""
        label = value if isinstance(value, str) else json.dumps(value)
        detail = "default" if summary.has_default and summary.default == value else ""
        found.append(
            Completion(
                label,
                "value",
                render_scalar(value, language),
                context.replace,
                detail,
                documentation,
                f"0{position:04d}",
            )
        )
    if "boolean" in summary.types and not summary.enum:
        for value in (True, False):
            found.append(
                Completion(
                    json.dumps(value), "boolean", json.dumps(value), context.replace, "", "", "0"
                )
            )
    if summary.has_default and not summary.enum and "boolean" not in summary.types:
        default = summary.default
        if not isinstance(default, Mapping | list):
            label = default if isinstance(default, str) else json.dumps(default)
            found.append(
                Completion(
                    label, "value", render_scalar(default, language), context.replace, "default"
                )
            )
    return found


def _document_at(parsed: ParsedFile, offset: int) -> Document | None:
    for document in parsed.documents:
        if document.span.start <= offset <= document.span.end:
            return document
    return parsed.documents[0] if parsed.documents else None


def _locate(document: Document, offset: int) -> tuple[tuple[PathPart, ...], Span, Any] | None:
    """Path, span and value of the innermost key or value containing ``offset``."""
    node = document.root
    if node is None or not node.span.contains(offset):
        return None
    path: list[PathPart] = []
    while True:
        if node.kind is NodeKind.OBJECT:
            for member in node.members:
                if member.key_span.contains(offset):
                    return (*path, member.key), member.key_span, member.value.value
            child = next(
                (member for member in node.members if member.value.span.contains(offset)), None
            )
            if child is None:
                return tuple(path), node.span, node.value
            path.append(child.key)
            node = child.value
        elif node.kind is NodeKind.ARRAY:
            found = next(
                (
                    (index, item)
                    for index, item in enumerate(node.items)
                    if item.span.contains(offset)
                ),
                None,
            )
            if found is None:
                return tuple(path), node.span, node.value
            path.append(found[0])
            node = found[1]
        else:
            return tuple(path), node.span, node.value


def _hover_markdown(
    path: Sequence[PathPart],
    summary: SchemaSummary,
    schema: str,
    registry: SchemaRegistry,
    value: Any,
) -> str:
    name = next((part for part in reversed(path) if isinstance(part, str)), None)
    heading = f"**{name}**" if name else f"**{registry.info(schema).title}**"
    if summary.types:
        heading += " — " + " | ".join(f"`{kind}`" for kind in summary.types)
    parts = [heading]
    if summary.deprecated:
        parts.append("*Deprecated.*")
    if summary.description:
        parts.append(summary.description)
    if summary.enum:
        lines = ["Allowed values:"]
        for position, allowed in enumerate(summary.enum):
            described = summary.enum_descriptions
            text = f"- `{json.dumps(allowed)}`"
            if position < len(described) and described[position]:
                text += f" — {described[position]}"
            if allowed == value:
                text += " *(current)*"
            lines.append(text)
        parts.append("\n".join(lines))
    if summary.has_default:
        parts.append(f"Default: `{json.dumps(summary.default)}`")
    info = registry.info(schema)
    parts.append(f"Schema: `{schema}` ({info.title})")
    return "\n\n".join(parts)
