"""``uet validate`` and ``uet schemas`` end to end: output format, ranges, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from uet.cli.main import main

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "examples" / "sample-workspace"

FOUR_MISTAKES = """\
workstream_id: ws-broken
project_id: PRJ-1
phase_id: PH-1
name: Four mistakes
objective: One of each kind.
error_handling:
  strategy: fail-fast
tasks:
  - task_id: compile
    name: Compile
    kind: lint
    colour: blue
  - task_id: test
    kind: test
    depends_on: [compile, complie]
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_four_mistakes_four_diagnostics_on_exactly_those_nodes(tmp_path: Path) -> None:
    (tmp_path / "workstreams").mkdir()
    (tmp_path / "workstreams" / "broken.yaml").write_text(FOUR_MISTAKES, "utf-8")
    result = run("validate", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    records = json.loads(result.stdout)
    found = [(r["code"], r["line"], r["column"], r["end_line"], r["end_column"]) for r in records]
    assert found == [
        ("UET204", 7, 13, 7, 22),  # the enum value 'fail-fast'
        ("UET203", 12, 5, 12, 11),  # the unknown key 'colour'
        ("UET202", 13, 5, 13, 12),  # the item missing 'name': its first key
        ("UET302", 15, 27, 15, 34),  # the depends_on entry 'complie'
    ]
    assert {r["path"] for r in records} == {"workstreams/broken.yaml"}
    assert {r["schema"] for r in records} == {"workstream_spec"}
    assert {r["severity"] for r in records} == {"error"}


def test_text_output_is_ruff_style(tmp_path: Path) -> None:
    (tmp_path / "workstreams").mkdir()
    (tmp_path / "workstreams" / "broken.yaml").write_text(FOUR_MISTAKES, "utf-8")
    result = run("validate", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "workstreams/broken.yaml:7:13: error UET204 'error_handling.strategy' has the invalid "
        "value string 'fail-fast'; did you mean 'fail_fast'? "
        "(allowed: fail_fast, continue, escalate)"
    )
    assert lines[-1] == "Checked 1 artifact: 4 errors."


def test_sample_workspace_is_clean() -> None:
    assert main(["validate", str(SAMPLE)]) == 0


def test_schema_flag_forces_a_schema_on_any_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "notes.yaml"
    target.write_text("task_id: t\nname: n\n", "utf-8")
    assert main(["validate", str(target)]) == 0
    assert "skipped, not a UET artifact" in capsys.readouterr().err
    assert main(["validate", "--schema", "task_spec", str(target), "--format", "json"]) == 1
    (record,) = json.loads(capsys.readouterr().out)
    assert (record["code"], record["line"], record["column"]) == ("UET202", 1, 1)
    assert "'kind'" in record["message"]


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--schema", "no_such_schema", str(tmp_path)]) == 2
    assert "unknown schema 'no_such_schema'" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("binary.json", b'{"a": "\x00\x01"}', "UET104"),
        ("latin1.yaml", "workstream_id: caf\xe9\n".encode("latin-1"), "UET104"),
        ("deep.json", b"[" * 10_000 + b"]" * 10_000, "UET105"),
        ("nan.json", b'{"workstream_id": NaN}', "UET107"),
        ("syntax.yaml", b"workstream_id: [\n", "UET101"),
    ],
)
def test_bad_input_gets_one_clear_diagnostic(
    tmp_path: Path, name: str, content: bytes, code: str
) -> None:
    (tmp_path / "workstreams").mkdir()
    (tmp_path / "workstreams" / name).write_bytes(content)
    result = run("validate", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    codes = [record["code"] for record in json.loads(result.stdout)]
    assert code in codes
    assert "Traceback" not in result.stderr


def test_size_limit(tmp_path: Path) -> None:
    (tmp_path / "workstreams").mkdir()
    big = tmp_path / "workstreams" / "big.json"
    big.write_text('{"workstream_id": "' + "x" * 2000 + '"}', "utf-8")
    result = run("validate", "--format", "json", "--max-file-size", "1000", cwd=tmp_path)
    (record,) = json.loads(result.stdout)
    assert record["code"] == "UET103" and "over the 1,000-byte limit" in record["message"]


def test_folders_honour_gitignore_and_skip_tool_folders(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("generated/\n", "utf-8")
    for folder in ("generated/workstreams", "node_modules/workstreams", "real/workstreams"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "w.yaml").write_text("workstream_id: [\n", "utf-8")
    result = run("validate", "--format", "json", cwd=tmp_path)
    assert {record["path"] for record in json.loads(result.stdout)} == {"real/workstreams/w.yaml"}


def test_schemas_lists_every_schema_with_its_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schemas", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    names = {item["name"] for item in listed}
    assert {"workstream_spec", "task_spec", "router_config", "run_record"} <= names
    assert all(item["id"].endswith(f"/{item['name']}.schema.json") for item in listed)


def test_a_key_written_one_level_too_high_gets_the_nested_suggestion(tmp_path: Path) -> None:
    (tmp_path / "workstreams").mkdir()
    text = FOUR_MISTAKES.replace("    colour: blue\n", "    timout_seconds: 30\n")
    (tmp_path / "workstreams" / "w.yaml").write_text(text, "utf-8")
    result = run("validate", "--format", "json", cwd=tmp_path)
    messages = [record["message"] for record in json.loads(result.stdout)]
    assert (
        "unknown property 'timout_seconds'; did you mean 'execution.timeout_seconds'?" in messages
    )


def test_github_annotations(tmp_path: Path) -> None:
    (tmp_path / "workstreams").mkdir()
    (tmp_path / "workstreams" / "broken.yaml").write_text(FOUR_MISTAKES, "utf-8")
    result = run("validate", "--format", "github", cwd=tmp_path)
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(
        "::error file=workstreams/broken.yaml,line=7,col=13,endLine=7,endColumn=22,title=UET204::"
    )
