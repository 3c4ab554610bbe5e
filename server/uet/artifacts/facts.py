"""What one artifact file defines and references, plus the checks that need only that file.

The workspace index keeps these facts per file and answers cross-file questions (unknown
phase, duplicate ids, go to definition, rename) from them without re-reading documents.
Checks inside one workstream — duplicate task ids, unknown ``depends_on``, cycles — are
also computed here, once per change of that file.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from uet.artifacts.diagnostics import Diagnostic, Related, Severity
from uet.artifacts.positions import Span
from uet.artifacts.suggestions import Suggester
from uet.artifacts.tree import Document, Node, NodeKind

__all__ = ["FileFacts", "Reference", "Symbol", "extract_facts", "shorten", "suggest"]

# Kinds of ids. Task ids are scoped to their workstream: "<workstream_id>/<task_id>".
WORKSTREAM = "workstream"
TASK = "task"
PHASE = "phase"
APP = "app"
PROFILE = "profile"


@dataclass(frozen=True, slots=True)
class Symbol:
    """A definition of an id: where its value is written and the node it names."""

    kind: str
    id: str
    span: Span  # the id's value (what rename edits)
    node_span: Span  # the whole defining node (what document symbols cover)
    name: str = ""  # display name for symbols
    scope: str = ""  # the workstream of a task


@dataclass(frozen=True, slots=True)
class Reference:
    """A use of an id (``depends_on`` entry, ``phase_id``, a rule's app...)."""

    kind: str
    id: str
    span: Span
    scope: str = ""
    property: str = ""


@dataclass(slots=True)
class FileFacts:
    """Everything the index needs to know about one file."""

    path: str
    schema: str | None
    symbols: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    local_diagnostics: list[Diagnostic] = field(default_factory=list)


# How much of a workspace's data one diagnostic may carry: ids in a message, ids of a
# cycle, related locations. A diagnostic's size must not grow with the workspace.
MAX_ID_CHARS = 64
MAX_SHOWN_IDS = 10
MAX_RELATED = 20


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``word`` (did-you-mean), if any is close enough."""
    return Suggester(candidates)(word)


def shorten(identifier: str) -> str:
    """``identifier`` cut to ``MAX_ID_CHARS`` for a message."""
    if len(identifier) <= MAX_ID_CHARS:
        return identifier
    return identifier[: MAX_ID_CHARS - 1] + "…"


def listing(identifiers: Sequence[str]) -> str:
    """At most ``MAX_SHOWN_IDS`` ids, comma-separated, ``...`` for the rest."""
    shown = ", ".join(shorten(item) for item in identifiers[:MAX_SHOWN_IDS])
    return shown + (", ..." if len(identifiers) > MAX_SHOWN_IDS else "")


def extract_facts(path: str, schema: str | None, documents: Sequence[Document]) -> FileFacts:
    """Symbols, references and single-file cross checks of a parsed artifact."""
    facts = FileFacts(path, schema)
    for document in documents:
        root = document.root
        if root is None or root.kind is not NodeKind.OBJECT:
            continue
        if schema == "workstream_spec":
            _workstream(facts, root)
        elif schema == "phase_spec":
            _define(facts, PHASE, root, "phase_id", "name")
        elif schema == "router_config":
            _router(facts, root)
        elif schema == "profile_extension":
            _define(facts, PROFILE, root, "profile_id", "description")
            _refer(facts, PROFILE, root.get("extends_profile"), "extends_profile")
        elif schema == "project_profile":
            _refer(facts, PROFILE, root.get("profile_id"), "profile_id")
    return facts


def _string(node: Node | None) -> str | None:
    if node is None or not isinstance(node.value, str) or not node.value:
        return None
    return node.value


def _define(
    facts: FileFacts, kind: str, node: Node, id_key: str, name_key: str, *, scope: str = ""
) -> str | None:
    id_node = node.get(id_key)
    identifier = _string(id_node)
    if identifier is None or id_node is None:
        return None
    name = _string(node.get(name_key)) or identifier
    facts.symbols.append(Symbol(kind, identifier, id_node.span, node.span, name, scope))
    return identifier


def _refer(facts: FileFacts, kind: str, node: Node | None, prop: str, scope: str = "") -> None:
    identifier = _string(node)
    if identifier is not None and node is not None:
        facts.references.append(Reference(kind, identifier, node.span, scope, prop))


def _workstream(facts: FileFacts, root: Node) -> None:
    workstream = _define(facts, WORKSTREAM, root, "workstream_id", "name") or facts.path
    _refer(facts, PHASE, root.get("phase_id"), "phase_id")
    tasks = root.get("tasks")
    if tasks is None or tasks.kind is not NodeKind.ARRAY:
        return
    task_nodes: dict[str, Node] = {}
    first_span: dict[str, Span] = {}
    for task in tasks.items:
        if task.kind is not NodeKind.OBJECT:
            continue
        task_id = _define(facts, TASK, task, "task_id", "name", scope=workstream)
        if task_id is None:
            continue
        id_span = facts.symbols[-1].span
        if task_id in first_span:
            facts.local_diagnostics.append(
                Diagnostic(
                    id_span,
                    Severity.ERROR,
                    "UET301",
                    f"duplicate task id '{shorten(task_id)}' in this workstream",
                    data={"id": task_id, "kind": TASK},
                    related=(Related(facts.path, first_span[task_id], "first defined here"),),
                )
            )
            continue
        first_span[task_id] = id_span
        task_nodes[task_id] = task
        _refer(facts, APP, task.get("tool"), "tool")
    edges: dict[str, list[tuple[str, Span]]] = {}
    suggester = Suggester(task_nodes)
    for task_id, task in task_nodes.items():
        depends = task.get("depends_on")
        if depends is None or depends.kind is not NodeKind.ARRAY:
            continue
        for entry in depends.items:
            target = _string(entry)
            if target is None:
                continue
            span = entry.span  # built on demand: build it once
            facts.references.append(Reference(TASK, target, span, workstream, "depends_on"))
            if target == task_id:
                facts.local_diagnostics.append(
                    Diagnostic(
                        span,
                        Severity.ERROR,
                        "UET307",
                        f"task '{shorten(task_id)}' depends on itself",
                        data={"id": target},
                    )
                )
            elif target not in task_nodes:
                guess = suggester(target)
                hint = f"; did you mean '{guess}'?" if guess else ""
                facts.local_diagnostics.append(
                    Diagnostic(
                        span,
                        Severity.ERROR,
                        "UET302",
                        f"depends_on names unknown task '{shorten(target)}'{hint}",
                        data={"id": target, "suggestion": guess},
                    )
                )
            else:
                edges.setdefault(task_id, []).append((target, span))
    facts.local_diagnostics.extend(_cycle_diagnostics(edges, facts.path))


def _router(facts: FileFacts, root: Node) -> None:
    apps = root.get("apps")
    known: set[str] = set()
    if apps is not None and apps.kind is NodeKind.OBJECT:
        for member in apps.members:
            known.add(member.key)
            facts.symbols.append(
                Symbol(APP, member.key, member.key_span, member.value.span, member.key)
            )
    routing = root.get("routing")
    rules = (
        routing.get("rules") if routing is not None and routing.kind is NodeKind.OBJECT else None
    )
    if rules is None or rules.kind is not NodeKind.ARRAY:
        return
    apps_shown = listing(sorted(known)) or "none"
    suggester = Suggester(known)
    for rule in rules.items:
        if rule.kind is not NodeKind.OBJECT:
            continue
        for prop in ("select_from", "validate_with"):
            listed = rule.get(prop)
            if listed is None or listed.kind is not NodeKind.ARRAY:
                continue
            for entry in listed.items:
                app = _string(entry)
                if app is None:
                    continue
                facts.references.append(Reference(APP, app, entry.span, facts.path, prop))
                if app not in known:
                    guess = suggester(app)
                    hint = f"; did you mean '{guess}'?" if guess else ""
                    facts.local_diagnostics.append(
                        Diagnostic(
                            entry.span,
                            Severity.ERROR,
                            "UET305",
                            f"{prop} names unknown app '{shorten(app)}'{hint} (apps: {apps_shown})",
                            data={"id": app, "suggestion": guess},
                        )
                    )


def _cycle_diagnostics(edges: dict[str, list[tuple[str, Span]]], path: str) -> list[Diagnostic]:
    """One diagnostic per cycle (strongly connected tasks), however many tasks it holds.

    It sits on the first ``depends_on`` entry in the file that lies on the cycle and names
    the shortest cycle through that entry; related information points at the next entries
    along that cycle. Message, data and related locations are bounded, so a cycle of
    10,000 tasks costs one diagnostic of ordinary size, not 10,000 diagnostics of 10,000 ids.
    """
    diagnostics: list[Diagnostic] = []
    for component in _strongly_connected(edges):
        if len(component) < 2:
            continue
        members = set(component)
        span, source, target = min(
            (span, source, target)
            for source in component
            for target, span in edges.get(source, [])
            if target in members
        )
        cycle = _cycle_through(edges, members, source, target)
        steps = len(cycle) - 1
        message = f"dependency cycle: {_cycle_text(cycle)}"
        if steps > _CYCLE_SHOWN:
            message = f"dependency cycle of {steps} tasks: {_cycle_text(cycle)}"
        if len(component) > steps:
            message += f" ({len(component)} tasks depend on each other in cycles here)"
        related = tuple(
            Related(path, _edge_span(edges, cycle[step], cycle[step + 1]), _edge_note(cycle, step))
            for step in range(1, min(steps, MAX_RELATED + 1))
        )
        shown = cycle if len(cycle) <= MAX_RELATED else [*cycle[:MAX_RELATED], cycle[-1]]
        diagnostics.append(
            Diagnostic(
                span,
                Severity.ERROR,
                "UET303",
                message,
                data={"cycle": shown, "length": steps, "tasks": len(component)},
                related=related,
            )
        )
    return diagnostics


_CYCLE_SHOWN = 8  # a longer cycle shows its first tasks, "…", and the last one


def _cycle_text(cycle: list[str]) -> str:
    """``a → b → c → a``; a long cycle as ``a → b → c → d → e → … → z → a``."""
    shown = cycle if len(cycle) - 1 <= _CYCLE_SHOWN else [*cycle[:5], "…", *cycle[-2:]]
    return " → ".join(item if item == "…" else shorten(item) for item in shown)


def _edge_note(cycle: list[str], step: int) -> str:
    note = f"'{shorten(cycle[step])}' depends on '{shorten(cycle[step + 1])}'"
    steps = len(cycle) - 1
    if step == MAX_RELATED and steps > MAX_RELATED + 1:
        note += f" (and {steps - MAX_RELATED - 1} more steps)"
    return note


def _edge_span(edges: dict[str, list[tuple[str, Span]]], source: str, target: str) -> Span:
    return next(span for following, span in edges[source] if following == target)


def _cycle_through(
    edges: dict[str, list[tuple[str, Span]]], members: set[str], source: str, target: str
) -> list[str]:
    """Shortest path ``source → target → ... → source`` inside one component (BFS)."""
    parents: dict[str, str] = {target: source}
    queue = deque([target])
    while queue:
        current = queue.popleft()
        if current == source:
            break
        for following, _ in edges.get(current, []):
            if following in members and following not in parents:
                parents[following] = current
                queue.append(following)
    path = [source]
    node = source
    while node != target:
        node = parents[node]
        path.append(node)
    path.reverse()  # now target → ... → source
    return [source, *path]


def _strongly_connected(edges: dict[str, list[tuple[str, Span]]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (5,000-task workstreams must not hit the stack limit)."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    nodes = set(edges)
    for targets in edges.values():
        nodes.update(target for target, _ in targets)
    for start in sorted(nodes):
        if start in index_of:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = edges.get(node, [])
            if position < len(successors):
                work.append((node, position + 1))
                following = successors[position][0]
                if following not in index_of:
                    work.append((following, 0))
                elif following in on_stack:
                    low[node] = min(low[node], index_of[following])
                continue
            if low[node] == index_of[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components
