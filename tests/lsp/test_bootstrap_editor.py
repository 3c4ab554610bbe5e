"""Bootstrap in the editor, against the real server over stdio as VS Code and Neovim 0.7:
the ``source`` code actions of a workspace without UET artifacts, ``uet.bootstrap`` as ONE
``workspace/applyEdit`` (applied to disk by the test client, as an editor would) or, for a
client that cannot create files through an edit, the server's own write and its message,
zero diagnostics on every generated file, ``uet.selectProfile``'s question, ``uet/status``,
the profile hover, and hostile profile extensions that never lead outside the workspace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import to_fs_path
from pytest_lsp import LanguageClient

from uet.bootstrap import AnalysisOptions, analyze_workspace, plan_bootstrap

from .conftest import Session, profile_capabilities, until

PYTHON_LIBRARY = {
    "pyproject.toml": (
        '[project]\nname = "tinylib"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n\n'
        '[project.optional-dependencies]\ndev = ["pytest", "ruff", "mypy"]\n'
    ),
    "README.md": "# tinylib\n\nAdds numbers.\n",
    "src/tinylib/__init__.py": (
        '"""A tiny library."""\n\n\ndef add(left: int, right: int) -> int:\n'
        "    return left + right\n"
    ),
    "tests/test_add.py": (
        "from tinylib import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 3\n"
    ),
    ".gitignore": "__pycache__/\n",
}
PYTHON = "software-dev-python"
# What every Python bootstrap writes (workstreams depend on the tools found on PATH).
ALWAYS_WRITTEN = {
    "PROJECT_PROFILE.yaml",
    "router_config.json",
    ".gitignore",
    ".tasks/.gitkeep",
    ".ledger/.gitkeep",
    *(
        f"phases/PH-PY-{name}.yaml"
        for name in ("PLAN", "IMPLEMENT", "LINT", "TYPECHECK", "TEST", "REVIEW", "RELEASE")
    ),
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A Python library without UET artifacts (replaces the conftest's ``basic`` copy)."""
    root = tmp_path / "ws"
    for relative, text in PYTHON_LIBRARY.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


@dataclass
class Editor:
    """What the test client saw of the bootstrap traffic, and how it answers questions."""

    session: Session
    statuses: list[dict[str, Any]] = field(default_factory=list)
    questions: list[types.ShowMessageRequestParams] = field(default_factory=list)
    edits: list[types.WorkspaceEdit] = field(default_factory=list)
    answer: str | None = None  # the button whose title starts with this is pressed

    @property
    def root(self) -> Path:
        return self.session.root

    async def code_actions(
        self, relative: str, only: list[str] | None = None
    ) -> list[types.CodeAction]:
        zero = types.Position(line=0, character=0)
        found = await self.session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=self.session.uri(relative)),
                range=types.Range(start=zero, end=zero),
                context=types.CodeActionContext(diagnostics=[], only=only),
            )
        )
        return [item for item in found or [] if isinstance(item, types.CodeAction)]

    async def execute(self, command: str, *arguments: Any) -> dict[str, Any]:
        result = await self.session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        )
        return plain(result)  # type: ignore[no-any-return]

    def messages(self) -> list[str]:
        return [item.message for item in self.session.client.messages]


def plain(value: Any) -> Any:
    """pygls hands untyped payloads over as named tuples; make them dicts and lists."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


@pytest.fixture
def editor(session: Session) -> Editor:
    """The session's client, answering ``workspace/applyEdit`` by writing the edit to disk
    (refusing anything outside the workspace) and ``window/showMessageRequest`` with
    ``Editor.answer``; it records ``uet/status``."""
    current = Editor(session)
    client = session.client
    caps = profile_capabilities(session.profile)
    edit_caps = caps.workspace.workspace_edit if caps.workspace else None
    can_create = bool(
        edit_caps
        and edit_caps.document_changes
        and types.ResourceOperationKind.Create in (edit_caps.resource_operations or [])
    )

    def apply_edit(
        ls: LanguageClient, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        current.edits.append(params.edit)
        for change in params.edit.document_changes or []:
            if isinstance(change, types.CreateFile):
                if not can_create:
                    session.violations.append(f"unadvertised CreateFile {change.uri}")
                target = inside(session, change.uri)
                overwrite = bool(change.options and change.options.overwrite)
                if target.exists() and not overwrite:
                    return types.ApplyWorkspaceEditResult(applied=False, failure_reason="exists")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("", "utf-8")
            elif isinstance(change, types.TextDocumentEdit):
                target = inside(session, change.text_document.uri)
                text = target.read_text("utf-8")
                target.write_text(apply_text_edits(text, change.edits), "utf-8")
            else:
                session.violations.append(f"unexpected change {change!r}")
        for uri, edits in (params.edit.changes or {}).items():
            target = inside(session, uri)
            target.write_text(apply_text_edits(target.read_text("utf-8"), edits), "utf-8")
        return types.ApplyWorkspaceEditResult(applied=True)

    def show_message_request(
        ls: LanguageClient, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        current.questions.append(params)
        if current.answer is None:
            return None
        return next(
            (item for item in params.actions or [] if item.title.startswith(current.answer)),
            None,
        )

    def status(ls: LanguageClient, params: Any) -> None:
        current.statuses.append(plain(params))

    def structure_action(value: Any, _: type) -> types.Command | types.CodeAction:
        # lsprotocol 2025.0.0 takes any item with a "command" key for a Command; a CodeAction
        # whose command is an object is one too (clients check that command is a string).
        if isinstance(value.get("command"), str):
            return converter.structure(value, types.Command)
        return converter.structure(value, types.CodeAction)

    converter = client.protocol._converter
    converter.register_structure_hook(types.Command | types.CodeAction, structure_action)
    features = client.protocol.fm.features
    for method, handler in (
        (types.WORKSPACE_APPLY_EDIT, apply_edit),
        (types.WINDOW_SHOW_MESSAGE_REQUEST, show_message_request),
        ("uet/status", status),
    ):
        features.pop(method, None)
        client.feature(method)(handler)
    return current


def inside(session: Session, uri: str) -> Path:
    """The path of ``uri``; a URI outside the workspace is a violation (and not written)."""
    path = Path(to_fs_path(uri) or uri)
    if not path.resolve().is_relative_to(session.root.resolve()):
        session.violations.append(f"edit outside the workspace: {uri}")
        raise ValueError(uri)
    return path


def apply_text_edits(
    text: str, edits: Sequence[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit]
) -> str:
    """Apply LSP text edits (UTF-16 positions), last first, as an editor does."""
    spans = [(offset(text, edit.range.start), offset(text, edit.range.end), edit) for edit in edits]
    for start, end, edit in sorted(spans, key=lambda item: item[0], reverse=True):
        assert isinstance(edit, types.TextEdit), edit  # no snippets in a bootstrap
        text = text[:start] + edit.new_text + text[end:]
    return text


def offset(text: str, position: types.Position) -> int:
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = column = 0
    for character in line:
        if units >= position.character:
            break
        units += 2 if ord(character) > 0xFFFF else 1
        column += 1
    return min(start + column, len(text))


def position_of(text: str, needle: str) -> types.Position:
    before = text[: text.index(needle)]
    return types.Position(line=before.count("\n"), character=len(before.rpartition("\n")[2]))


def tree(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(root).as_posix(), path.read_bytes()


async def hover_text(session: Session, relative: str, needle: str) -> str:
    text = (session.root / relative).read_text("utf-8")
    hover = await session.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri(relative)),
            position=position_of(text, needle),
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


async def test_bootstrap_actions_apply_one_edit_whose_files_have_no_diagnostics(
    editor: Editor,
) -> None:
    session, root = editor.session, editor.root
    await session.start()
    await until(lambda: editor.statuses)
    assert editor.statuses[-1] == {
        "workspaceFolder": root.as_uri(),
        "profileId": None,
        "profileVersion": None,
        "profileFile": None,
    }
    actions = await editor.code_actions("src/tinylib/__init__.py")
    first = actions[0]
    assert first.title.startswith(f"UET: Bootstrap workspace as {PYTHON} (")
    assert "python-sources" in first.title and first.is_preferred
    assert first.command is not None and first.command.command == "uet.bootstrap"
    assert list(first.command.arguments or []) == [PYTHON, root.as_uri()]
    assert actions[-1].title == "UET: Choose a profile to bootstrap workspace…"
    assert {action.kind for action in actions} == {types.CodeActionKind.Source}
    assert await editor.code_actions("README.md", only=[types.CodeActionKind.QuickFix]) == []

    plan = plan_bootstrap(root, PYTHON, analysis=analyze_workspace(root, AnalysisOptions()))
    expected = {item.path: item.text for item in plan.writes()}
    assert set(expected) >= ALWAYS_WRITTEN and any(p.startswith("workstreams/") for p in expected)
    result = await editor.execute(first.command.command, *(first.command.arguments or []))

    assert result["applied"] is True and sorted(result["files"]) == sorted(expected)
    assert {path: (root / path).read_text("utf-8") for path in expected} == expected
    assert (root / ".gitignore").read_text("utf-8").startswith("__pycache__/\n")
    if session.profile == "vscode":
        assert result["writtenBy"] == "client"
        (edit,) = editor.edits
        changes = edit.document_changes or []
        created = {change.uri for change in changes if isinstance(change, types.CreateFile)}
        assert created == {session.uri(path) for path in expected if path != ".gitignore"}
        replaced = [
            change
            for change in changes
            if isinstance(change, types.TextDocumentEdit)
            and change.text_document.uri == session.uri(".gitignore")
        ]
        (gitignore,) = replaced
        assert gitignore.edits[0].range.end == types.Position(line=1, character=0)
    else:  # Neovim 0.7 cannot create files through an edit: the server writes and says so
        assert result["writtenBy"] == "server" and editor.edits == []
        await until(lambda: any("directly to disk" in text for text in editor.messages()))
    await until(lambda: editor.statuses[-1]["profileId"] == PYTHON)
    assert editor.statuses[-1]["profileFile"] == session.uri("PROJECT_PROFILE.yaml")
    assert json.loads((root / ".uet/bootstrap.json").read_text("utf-8"))["profile_id"] == PYTHON

    for path in sorted(expected):
        if path.endswith((".json", ".yaml")):
            assert await session.diagnostics(session.open(path)) == [], path
    described = await hover_text(session, "PROJECT_PROFILE.yaml", f"profile_id: {PYTHON}")
    assert "the active profile of this workspace" in described
    assert "the best match for this workspace" in described and "python-sources" in described

    assert await editor.code_actions("src/tinylib/__init__.py") == []
    again = await editor.execute("uet.bootstrap", PYTHON)
    assert again["applied"] is True and again["files"] == []
    assert len(editor.edits) == (1 if session.profile == "vscode" else 0)


async def test_select_profile_asks_with_the_ranked_profiles(editor: Editor) -> None:
    session, root = editor.session, editor.root
    await session.start()
    ranking = analyze_workspace(root, AnalysisOptions()).ranking

    dismissed = await editor.execute("uet.selectProfile")
    (question,) = editor.questions
    # Short buttons for the plausible profiles only, best first; scores in the message.
    plausible = [score for score in ranking if score.score > 0]
    assert len(plausible) < len(ranking)  # some profiles score 0 here: they are left out
    assert [item.title for item in question.actions or []] == [
        score.profile_id for score in plausible
    ]
    assert ranking[0].profile_id == PYTHON and PYTHON in question.message
    for score in plausible:
        assert f"{score.profile_id} ({score.score:.2f}" in question.message
    for score in ranking:
        if score.score == 0:
            assert score.profile_id not in question.message
    assert dismissed["applied"] is False and not (root / "PROJECT_PROFILE.yaml").exists()

    editor.answer = "generic"
    unsaved = session.open(".gitignore", "__pycache__/\ndist/\n", language="ignore")
    refused = await editor.execute("uet.selectProfile", None, root.as_uri())
    assert refused["applied"] is False and "save or revert .gitignore" in refused["message"]
    assert editor.edits == [] and not (root / "PROJECT_PROFILE.yaml").exists()
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=unsaved))
    )
    chosen = await editor.execute("uet.selectProfile", None, root.as_uri())
    assert chosen["applied"] is True and chosen["profileId"] == "generic"
    assert "profile_id: generic" in (root / "PROJECT_PROFILE.yaml").read_text("utf-8")
    await until(lambda: editor.statuses and editor.statuses[-1]["profileId"] == "generic")
    described = await hover_text(session, "PROJECT_PROFILE.yaml", "profile_id: generic")
    assert f"The best match now is `{PYTHON}`" in described
    persisted = await editor.execute("uet.bootstrap")  # no profile: the persisted one
    assert persisted["profileId"] == "generic" and persisted["files"] == []


async def test_hostile_profile_extensions_never_write_outside(editor: Editor) -> None:
    session, root = editor.session, editor.root
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "PH-STOLEN.yaml").write_text("phase_id: PH-STOLEN\n", "utf-8")
    folder = root / "profile_extensions"
    folder.mkdir()
    (folder / "link.yaml").symlink_to(outside / "PH-STOLEN.yaml")
    hostile = [
        {"phase_id": "../../../evil", "name": "Evil", "category": "x"},
        {"phase_id": "PH-UP", "name": "Up", "category": "x", "template_path": "../../x.yaml"},
        {"phase_id": "PH-ABS", "name": "Abs", "category": "x", "template_path": "/etc/hosts"},
        {"phase_id": "PH-LINK", "name": "Link", "category": "x", "template_path": "link.yaml"},
    ]
    for number, entry in enumerate(hostile):
        document = {"profile_id": f"evil{number}", "extends_profile": PYTHON}
        document["phase_templates"] = [entry]  # type: ignore[assignment]
        (folder / f"{number}.json").write_text(json.dumps(document), "utf-8")
    before = dict(tree(root.parent))
    await session.start()

    assert await editor.code_actions("pyproject.toml") == []  # extensions are UET artifacts
    for number in range(len(hostile)):
        with pytest.raises(JsonRpcException, match=f"unknown profile 'evil{number}'"):
            await editor.execute("uet.bootstrap", f"evil{number}")
    with pytest.raises(JsonRpcException, match="not a workspace folder"):
        await editor.execute("uet.bootstrap", PYTHON, outside.as_uri())
    result = await editor.execute("uet.selectProfile", PYTHON)  # a profile: no question
    assert result["applied"] is True and editor.questions == []

    after = dict(tree(root.parent))
    changed = {path for path in after if before.get(path) != after[path]}
    assert changed and all(path.startswith("ws/") for path in changed)
    assert not any(name.startswith(("PH-UP", "PH-ABS", "PH-LINK")) for name in after)
    for edit in editor.edits:
        for change in edit.document_changes or []:
            uri = change.uri if isinstance(change, types.CreateFile) else None
            assert uri is None or uri.startswith(root.as_uri() + "/")


async def test_preview_shows_the_plan_and_applying_it_writes_exactly_that(
    editor: Editor,
) -> None:
    """From a Python file of a project without UET artifacts: the bootstrap actions are
    offered, ``uet.previewBootstrap`` returns the plan and writes nothing, and its ``apply``
    command writes exactly the previewed files."""
    session, root = editor.session, editor.root
    await session.start()
    source = "src/tinylib/__init__.py"
    session.open(source, language="python")
    actions = await editor.code_actions(source, only=[types.CodeActionKind.Source])
    assert actions and actions[0].title.startswith(f"UET: Bootstrap workspace as {PYTHON} (")

    before = dict(tree(root))
    preview = await editor.execute("uet.previewBootstrap")
    assert dict(tree(root)) == before and editor.edits == [] and editor.questions == []
    assert preview["profileId"] == PYTHON and preview["ambiguous"] is False
    assert preview["ok"] is True and preview["problems"] == []
    assert preview["workspaceFolder"] == root.as_uri()
    analysis = analyze_workspace(root, AnalysisOptions())
    plausible = [score.profile_id for score in analysis.ranking if score.score > 0]
    assert plausible[0] == PYTHON and len(plausible) < len(analysis.ranking)
    assert [item["profileId"] for item in preview["profiles"]] == plausible
    assert all(item["score"] > 0 and item["reasons"] for item in preview["profiles"])
    files = {item["path"]: item for item in preview["files"]}
    plan = plan_bootstrap(root, PYTHON, analysis=analysis)
    assert {path: item["text"] for path, item in files.items() if item["text"] is not None} == {
        item.path: item.text for item in plan.writes()
    }
    assert set(files) >= ALWAYS_WRITTEN
    assert files["PROJECT_PROFILE.yaml"]["action"] == "create"
    assert files[".gitignore"]["action"] == "update"
    assert files[".gitignore"]["previousText"] == "__pycache__/\n"
    assert files[".gitignore"]["uri"] == session.uri(".gitignore")
    assert "would create" in preview["message"] and ".gitignore" in preview["message"]
    apply = preview["apply"]
    assert apply["command"] == "uet.bootstrap"
    assert apply["arguments"] == [PYTHON, root.as_uri()]

    result = await editor.execute(apply["command"], *apply["arguments"])
    assert result["applied"] is True
    written = {path for path, item in files.items() if item["text"] is not None}
    assert sorted(result["files"]) == sorted(written)
    for path in written:
        assert (root / path).read_text("utf-8") == files[path]["text"], path

    again = await editor.execute("uet.previewBootstrap", PYTHON, root.as_uri())
    assert {item["action"] for item in again["files"]} == {"unchanged"}
    assert "up to date" in again["message"]
    with pytest.raises(JsonRpcException, match="unknown profile 'nope'"):
        await editor.execute("uet.previewBootstrap", "nope")
    with pytest.raises(JsonRpcException, match="arguments"):
        await editor.execute("uet.previewBootstrap", 1)


async def test_a_folder_without_signals_is_offered_only_the_fallback_profile(
    editor: Editor,
) -> None:
    """An empty project: no profile scores, so the question has one button (the fallback),
    never a list of profiles scoring 0.00; the preview says the same."""
    session, root = editor.session, editor.root
    for path in list(root.rglob("*"))[::-1]:
        path.unlink() if path.is_file() else path.rmdir()
    (root / "notes.txt").write_text("", "utf-8")
    await session.start()
    actions = await editor.code_actions("notes.txt")
    assert [action.title.split(" (")[0] for action in actions][:1] == [
        "UET: Bootstrap workspace as generic"
    ]
    await editor.execute("uet.selectProfile")
    (question,) = editor.questions
    assert [item.title for item in question.actions or []] == ["generic"]
    preview = await editor.execute("uet.previewBootstrap")
    assert [item["profileId"] for item in preview["profiles"]] == ["generic"]
    assert preview["profileId"] == "generic" and not (root / "PROJECT_PROFILE.yaml").exists()
