"""The conventions of ruff and pytest, on the real ``uet`` command: help for every command
and option, ``-v``/``-q`` before or after the command's name, ``--json`` everywhere, and
``uet validate`` showing the source under each diagnostic in colour on a terminal (a real
pseudo-terminal), plain on a pipe, without colour under ``NO_COLOR``."""

from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.terminal import run_on_terminal, terminal_env
from uet.cli.diagnostic_display import excerpt
from uet.cli.main import build_parser, command_parsers

BROKEN = """\
workstream_id: ws-broken
project_id: PRJ-1
phase_id: PH-1
name: Two mistakes
objective: Show the source under each diagnostic.
error_handling:
  strategy: fail-fast
tasks:
  - task_id: compile
    name: Compile
    kind: lint
  - task_id: test
    name: Test
    kind: test
    depends_on: [compile,\tcomplie]
"""
# SGR sequences that set a colour (30-37, 90-97 and their backgrounds, 256/true colour).
_COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])[0-9;]*m")
_ANY_ESCAPE = re.compile(r"\x1b\[")


def _undocumented_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """The arguments ``parser --help`` lists without a help text: laid out one per line
    (a wide formatter), an argument with help has two spaces then text after its name."""
    parser.formatter_class = functools.partial(
        argparse.HelpFormatter, max_help_position=1000, width=2000
    )
    missing = []
    in_arguments = False
    for line in parser.format_help().splitlines():
        if line.endswith(":") and not line.startswith(" "):
            in_arguments = line in ("positional arguments:", "options:")
        elif in_arguments and re.match(r"  \S", line) and not re.match(r"  \S.*?  +\S", line):
            missing.append(line.strip())
    return missing


def _env(**changes: str) -> dict[str, str]:
    return terminal_env(**changes)


def _uet(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=cwd,
        env=env or _env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _uet_on_terminal(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    return run_on_terminal([sys.executable, "-m", "uet", *args], cwd=cwd, env=env)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    (tmp_path / "workstreams").mkdir()
    (tmp_path / "workstreams" / "broken.yaml").write_text(BROKEN, "utf-8")
    return tmp_path


def test_every_command_and_option_has_help() -> None:
    missing = [f"uet {name}" for name in _undocumented_arguments(build_parser())]
    for name, command in command_parsers().items():
        if not command.description:
            missing.append(f"uet {name}: no description")
        missing += [f"uet {name} {argument}" for argument in _undocumented_arguments(command)]
    assert missing == []


def test_every_command_that_prints_a_report_takes_json() -> None:
    without = [
        name for name, command in command_parsers().items() if "--json" not in command.format_help()
    ]
    assert without == ["serve"]  # it speaks LSP on stdout


def test_bootstrap_json(tmp_path: Path) -> None:
    project = tmp_path / "tinycalc"
    shutil.copytree(Path(__file__).parents[1] / "examples" / "sample-project", project)
    planned = _uet("bootstrap", "--dry-run", "--json", cwd=project)
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["profile"] == "software-dev-python" and plan["dry_run"] is True
    assert {"path": "PROJECT_PROFILE.yaml", "action": "create"} in plan["files"]
    assert "report" not in plan and not (project / "PROJECT_PROFILE.yaml").exists()
    assert "+++ b/PROJECT_PROFILE.yaml" in planned.stderr  # the diff, for a person
    done = _uet("bootstrap", "--json", cwd=project)
    document = json.loads(done.stdout)
    assert document["dry_run"] is False
    assert document["report"]["status"] in ("ready", "partial")
    assert (project / "PROJECT_PROFILE.yaml").is_file()


def test_validate_json_is_format_json(broken: Path) -> None:
    as_json = _uet("validate", "--json", cwd=broken)
    as_format = _uet("validate", "--format", "json", cwd=broken)
    assert as_json.returncode == as_format.returncode == 1
    assert json.loads(as_json.stdout) == json.loads(as_format.stdout)
    assert len(json.loads(as_json.stdout)) == 2


def test_schemas_json_and_aligned_columns() -> None:
    listing = json.loads(_uet("schemas", "--json").stdout)
    assert {"name", "id", "title"} == set(listing[0])
    lines = _uet("schemas").stdout.splitlines()
    assert len(lines) == len(listing)
    title_columns = {
        line.index(f"  {row['title']}") for line, row in zip(lines, listing, strict=True)
    }
    id_columns = {line.index(row["id"]) for line, row in zip(lines, listing, strict=True)}
    assert len(title_columns) == 1 and len(id_columns) == 1


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_before_or_after_the_command(broken: Path, where: str) -> None:
    args = ["-q", "validate"] if where == "before" else ["validate", "--quiet"]
    result = _uet(*args, cwd=broken)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("workstreams/broken.yaml:") for line in lines)
    loud = _uet("validate", cwd=broken).stdout.splitlines()
    assert loud[:-1] == lines and loud[-1] == "Checked 1 artifact: 2 errors."


def test_verbose_and_quiet_together_is_a_usage_error() -> None:
    result = _uet("-v", "schemas", "-q")
    assert result.returncode == 2
    assert "not allowed with argument -v/--verbose" in result.stderr


def test_validate_on_a_terminal_shows_the_source_with_a_marker_in_colour(broken: Path) -> None:
    code, output = _uet_on_terminal("validate", cwd=broken, env=_env())
    assert code == 1
    assert _COLOUR.search(output), output
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    assert (
        "error[UET204]: 'error_handling.strategy' has the invalid value string 'fail-fast'" in plain
    )
    assert " --> workstreams/broken.yaml:7:13\n" in plain
    assert "7 |   strategy: fail-fast\n  |             ^^^^^^^^^\n" in plain
    # a tab is shown as four spaces and the marker lines up under what follows it
    assert (
        "15 |     depends_on: [compile,    complie]\n   |                              ^^^^^^^\n"
        in plain
    )
    assert plain.rstrip().endswith("Checked 1 artifact: 2 errors.")


def test_validate_on_a_terminal_honours_no_color(broken: Path) -> None:
    code, output = _uet_on_terminal("validate", cwd=broken, env=_env(NO_COLOR="1"))
    assert code == 1
    assert not _COLOUR.search(output), output
    assert "^^^^^^^^^" in output  # still the full layout


def test_validate_on_a_pipe_is_plain(broken: Path) -> None:
    result = _uet("validate", cwd=broken, env=_env(TERM="xterm-256color"))
    assert not _ANY_ESCAPE.search(result.stdout + result.stderr)
    assert result.stdout.splitlines()[0].startswith("workstreams/broken.yaml:7:13: error UET204")
    full = _uet("validate", "--format", "full", cwd=broken).stdout
    assert "  |             ^^^^^^^^^" in full and not _ANY_ESCAPE.search(full)


def test_a_clean_workspace_on_a_terminal_is_one_green_line(tmp_path: Path) -> None:
    (tmp_path / "workstreams").mkdir()
    valid = BROKEN.replace("fail-fast", "fail_fast").replace(",\tcomplie", "")
    (tmp_path / "workstreams" / "ok.yaml").write_text(valid, "utf-8")
    code, output = _uet_on_terminal("validate", cwd=tmp_path, env=_env())
    assert code == 0
    assert re.sub(r"\x1b\[[0-9;]*m", "", output).strip() == "All 1 artifact valid."
    assert "\x1b[1;32m" in output


def test_excerpt_is_safe_to_print_and_lines_up() -> None:
    # wide characters take two cells: the marker moves two columns per character
    assert excerpt("名前: x", 4, 5).marker == "      ^"
    # control characters and bidirectional overrides are never printed as they are
    shown = excerpt("a\x1b[31mb\u202ec", 0, 1).shown
    assert "\x1b" not in shown and "\u202e" not in shown and shown.startswith("a")
    # an empty span, or one at the end of the line, is one caret
    assert excerpt("key:", 4, 4).marker == "    ^"
    # a span that continues below is marked to the end of its first line
    assert excerpt("  - a", 2, None).marker == "  ^^^"
    # a long line is cut to a window around the marker
    long_line = "x" * 5000 + "TARGET" + "y" * 5000
    cut = excerpt(long_line, 5000, 5006)
    assert len(cut.shown) < 200 and cut.shown.startswith("…") and cut.shown.endswith("…")
    assert cut.shown[len(cut.marker) - 6 : len(cut.marker)] == "TARGET"


def test_a_hostile_source_line_cannot_drive_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "workstreams").mkdir()
    hostile = '{"workstream_id": "ws-h", "name": "\x1b[2J\x1b]0;owned\x07\u202e"}\n'
    (tmp_path / "workstreams" / "h.json").write_text(hostile, "utf-8")
    code, output = _uet_on_terminal("validate", cwd=tmp_path, env=_env())
    assert code == 1
    assert "workstreams/h.json:1:" in output
    assert "\x1b[2J" not in output and "\x1b]0;" not in output and "\u202e" not in output
    assert "\ufffd[2J" in output  # the line is shown, its controls made visible
