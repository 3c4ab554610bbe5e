"""Hostile and broken files: every one is read in a bounded way and becomes diagnostics.

Real files in temporary folders, the real ``uet`` command in a subprocess (a hang fails
through the subprocess timeout, which is only a failure guard) and the loader in-process.
"""

from __future__ import annotations

import codecs
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from uet.artifacts import LineIndex, check_file, check_text, load_bytes, load_path, load_text
from uet.artifacts.guards import MAX_DEPTH, CheckCancelled
from uet.artifacts.json_parser import parse_json
from uet.artifacts.validation import describe_type
from uet.artifacts.yaml_parser import parse_yaml

GUARD = 60  # seconds; only to turn a hang into a failure

# A valid workstream to add bad values to, and a second file with a known mistake that
# must still be reported whatever happens to the first.
WORKSTREAM = """\
workstream_id: WS-1
project_id: P
phase_id: PH-1
name: Build
objective: Build it.
error_handling:
  strategy: fail_fast
tasks:
  - task_id: lint
    name: Lint
    kind: lint
"""
OTHER_MISTAKE = WORKSTREAM.replace("fail_fast", "fail_fst").replace("WS-1", "WS-2")


def uet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=False,
    )


def validate_json(root: Path, *paths: str) -> tuple[int, list[dict[str, Any]], str]:
    """``uet validate --format json`` on ``root``: exit status, records, stderr."""
    result = uet("validate", "--format", "json", *paths, cwd=root)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout or "[]"), result.stderr


def workspace_with(tmp_path: Path, name: str, content: str | bytes) -> Path:
    """A workspace with ``workstreams/<name>`` and a second workstream with one mistake."""
    folder = tmp_path / "workstreams"
    folder.mkdir()
    target = folder / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, "utf-8")
    (folder / "other.yaml").write_text(OTHER_MISTAKE, "utf-8")
    return tmp_path


def by_file(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for record in records:
        found.setdefault(Path(record["path"]).name, []).append(record["code"])
    return found


# -- item 2: recursive aliases ---------------------------------------------------------


def test_a_recursive_alias_is_one_diagnostic_at_once(tmp_path: Path) -> None:
    root = workspace_with(tmp_path, "loop.yaml", WORKSTREAM + "extra: &a [*a]\n")
    status, records, _ = validate_json(root)
    assert status == 1
    assert by_file(records) == {"loop.yaml": ["UET106"], "other.yaml": ["UET204"]}
    (loop,) = [record for record in records if record["path"].endswith("loop.yaml")]
    assert "*a" in loop["message"] and "recursive" in loop["message"]
    assert (loop["line"], loop["column"]) == (12, 12)  # the alias itself


def test_recursive_aliases_inside_mappings_and_undefined_aliases() -> None:
    result = parse_yaml("a: &m\n  b: *m\nc: *nowhere\n")
    assert result.documents == []
    assert [(item.code, item.span) for item in result.problems] == [
        ("UET106", (11, 13)),
        ("UET101", (17, 25)),
    ]
    # An alias after its anchor's node is complete is fine, even inside a later node.
    assert parse_yaml("a: &a [1]\nb: [*a, *a]\n").documents[0].root.value == {  # type: ignore[union-attr]
        "a": [1],
        "b": [[1], [1]],
    }


# -- item 3: integers beyond Python's int/str limit -------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("huge.json", '{"workstream_id": ' + "7" * 5000 + "}"),
        ("huge.yaml", "workstream_id: " + "7" * 5000 + "\n"),
        ("hex.yaml", "workstream_id: 0x" + "f" * 3600 + "\n"),
        ("float.yaml", "workstream_id: 1e999\n"),
    ],
)
def test_huge_numbers_are_one_diagnostic_and_hide_nothing(
    tmp_path: Path, name: str, content: str
) -> None:
    root = workspace_with(tmp_path, name, content)
    status, records, _ = validate_json(root)
    assert status == 1
    assert by_file(records) == {name: ["UET112"], "other.yaml": ["UET204"]}
    (huge,) = [record for record in records if record["path"].endswith(name)]
    assert len(huge["message"]) < 200
    assert (huge["line"], huge["column"]) == (1, 16 if name != "huge.json" else 19)


def test_the_largest_allowed_integers_are_rendered_bounded() -> None:
    text = WORKSTREAM.replace("WS-1", "0x" + "f" * 3500)  # ~4,200 digits: allowed
    report = check_text(text, "workstreams/ws.yaml")
    (diagnostic,) = report.diagnostics
    assert diagnostic.code == "UET201"
    assert "about 4,2" in diagnostic.message and len(diagnostic.message) < 200
    assert describe_type(-(10**10_000)) == "a negative number of about 10,001 digits"
    assert describe_type(12345) == "number 12345"


# -- item 4: deep nesting, one bound for JSON and YAML ----------------------------------


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 995, 999])
def test_nesting_over_the_bound_is_refused_in_both_languages(depth: int) -> None:
    yaml_text = "workstream_id: " + "[" * depth + "]" * depth + "\n"
    json_text = '{"workstream_id": ' + "[" * depth + "]" * depth + "}"
    for text, path in ((yaml_text, "workstreams/d.yaml"), (json_text, "workstreams/d.json")):
        report = check_text(text, path)
        assert [item.code for item in report.diagnostics] == ["UET105"], path
        assert report.diagnostics[0].span.start == len(text.split("[")[0]) + MAX_DEPTH - 1


def test_nesting_at_the_bound_is_validated_and_rendered_in_a_worker_thread() -> None:
    """Everything downstream of the parser (jsonschema's walk, its messages, ours) has
    room for the deepest document the parsers accept, also in a thread."""
    deep = "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1)
    deep_object = "{a: " * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1)
    texts = {
        "workstreams/a.yaml": f"{deep}\n",
        "workstreams/b.yaml": WORKSTREAM.replace("objective: Build it.", f"objective: {deep}"),
        "workstreams/c.yaml": WORKSTREAM.replace("name: Build", f"name: {deep_object}"),
        "workstreams/d.json": json.dumps({"workstream_id": "W", "tasks": [[[[[]]]]]})[:-1]
        + ', "x": '
        + deep.replace("1", "[]")[2:-2]
        + "}",
    }
    results: dict[str, list[str]] = {}
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for path, text in texts.items():
                results[path] = [item.code for item in check_text(text, path).diagnostics]
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(GUARD)
    assert failures == []
    assert results["workstreams/a.yaml"] == ["UET201"]
    assert "UET201" in results["workstreams/b.yaml"]
    assert "UET201" in results["workstreams/c.yaml"]
    assert "UET105" not in results["workstreams/d.json"]


# -- item 7: what a path is -------------------------------------------------------------


def test_a_fifo_named_on_the_command_line_is_refused_without_blocking(tmp_path: Path) -> None:
    root = workspace_with(tmp_path, "ok.yaml", WORKSTREAM)
    os.mkfifo(root / "pipe.yaml")
    status, records, stderr = validate_json(root, "pipe.yaml", ".")
    assert status == 1
    assert "pipe.yaml: not a regular file: a FIFO (named pipe)" in stderr
    assert by_file(records) == {"other.yaml": ["UET204"]}


def test_special_files_say_what_they_are(tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "sock.yaml"))
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "dir.yaml").mkdir()
    expected = {
        tmp_path / "sock.yaml": "a socket",
        tmp_path / "fifo.yaml": "a FIFO (named pipe)",
        tmp_path / "dir.yaml": "a directory",
        Path(os.devnull): "a character device",
    }
    try:
        for path, kind in expected.items():
            parsed = load_path(path)
            assert [(item.code, item.message) for item in parsed.problems] == [
                ("UET111", f"not a regular file: {kind}; it is not read")
            ]
    finally:
        listener.close()


def test_symbolic_link_loops_and_broken_links_say_so(tmp_path: Path) -> None:
    root = workspace_with(tmp_path, "ok.yaml", WORKSTREAM)
    (root / "loop.yaml").symlink_to(root / "loop.yaml")
    (root / "broken.yaml").symlink_to(root / "nowhere.yaml")
    status, records, stderr = validate_json(root, "loop.yaml", "broken.yaml", ".")
    assert status == 1
    assert "loop.yaml: cannot read: symbolic link loop" in stderr
    assert "broken.yaml: cannot read: broken symbolic link" in stderr
    assert "no such file" not in stderr
    assert by_file(records) == {"other.yaml": ["UET204"]}
    missing = uet("validate", "missing.yaml", cwd=root)
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr


# -- item 9: lone surrogates ------------------------------------------------------------


@pytest.mark.parametrize("path", ["workstreams/s.yaml", "workstreams/s.json"])
def test_lone_surrogates_are_reported_where_they_are(path: str) -> None:
    text = WORKSTREAM.replace("Build it.", "Build \ud83d it.")
    if path.endswith(".json"):
        text = json.dumps({"workstream_id": "W", "name": "x\udc00y"}, ensure_ascii=False)
    report = check_text(text, path)
    (problem,) = [item for item in report.diagnostics if item.code == "UET114"]
    assert text[problem.span.start] in "\ud83d\udc00"
    assert report.parsed.text == text  # offsets are those of the text given


def test_surrogates_from_an_editor_buffer_keep_every_offset() -> None:
    text = "workstream_id: W\nname: \ud800\U0001f680x\n"
    data = text.encode("utf-8", "surrogatepass")  # what the server hands the loader
    parsed = load_bytes(data, "workstreams/w.yaml")
    assert parsed.text == text
    assert [item.code for item in parsed.problems] == ["UET114"]
    index = LineIndex(text)
    end = text.index("x")
    assert index.utf16_position(end).column == 6 + 1 + 2  # "name: " + lone unit + pair
    assert index.offset_from_utf16(1, 9) == end


# -- item 10: explicit YAML tags --------------------------------------------------------


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("!!str 123", "123"),
        ("!!str true", "true"),
        ("!!int '3'", 3),
        ('!!int "0x1f"', 31),
        ("! 12", "12"),
        ("! true", "true"),
        ("!!float 3", 3.0),
        ("!!float '2.5'", 2.5),
        ("!!bool 'false'", False),
        ("!!null ''", None),
        ("!<tag:yaml.org,2002:str> 7", "7"),
        ("!!seq [1]", [1]),
        ("!!map {a: 1}", {"a": 1}),
    ],
)
def test_core_tags_are_honoured(scalar: str, value: object) -> None:
    result = parse_yaml(f"a: {scalar}\n")
    assert result.problems == []
    read = result.documents[0].root.value["a"]  # type: ignore[union-attr]
    assert read == value and type(read) is type(value)


@pytest.mark.parametrize(
    ("scalar", "code", "value"),
    [
        ("!!int abc", "UET113", "abc"),
        ("!!int 1.5", "UET113", "1.5"),
        ("!!bool yes", "UET113", "yes"),
        ("!!null 0", "UET113", "0"),
        ("!!float x", "UET113", "x"),
        ("!!map [1]", "UET113", [1]),
        ("!!seq x", "UET113", "x"),
        ("!!binary aGk=", "UET110", "aGk="),
        ("!!timestamp 2024-01-01", "UET110", "2024-01-01"),
        ("!custom 5", "UET110", "5"),
        ("!custom [5]", "UET110", [5]),
    ],
)
def test_other_tags_and_misfits_are_reported_never_silent(
    scalar: str, code: str, value: object
) -> None:
    text = f"a: {scalar}\n"
    result = parse_yaml(text)
    assert [item.code for item in result.problems] == [code]
    assert result.problems[0].span.start == 3
    assert result.documents[0].root.value["a"] == value  # type: ignore[union-attr]


def test_a_tagged_value_is_validated_as_its_tag_says() -> None:
    text = WORKSTREAM.replace("workstream_id: WS-1", "workstream_id: !!str 123")
    assert check_text(text, "workstreams/ws.yaml").diagnostics == []
    text = WORKSTREAM.replace("workstream_id: WS-1", "workstream_id: !!int '3'")
    assert [item.code for item in check_text(text, "workstreams/ws.yaml").diagnostics] == ["UET201"]


# -- item 11: byte order marks ----------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_a_bom_are_decoded(tmp_path: Path, codec: str) -> None:
    bom = {
        "utf-8": codecs.BOM_UTF8,
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }[codec]
    text = OTHER_MISTAKE.replace("Build it.", "Bau \u00e9 \U0001f680")
    target = tmp_path / "workstreams" / "ws.yaml"
    target.parent.mkdir()
    target.write_bytes(bom + text.encode(codec))
    report = check_file(target)
    assert [item.code for item in report.diagnostics] == ["UET204"]
    position = report.parsed.line_index.position(report.diagnostics[0].span.start)
    assert (position.line, position.column) == (6, 12)
    assert report.value["objective"] == "Bau \u00e9 \U0001f680"  # type: ignore[index]


def test_a_bom_kept_in_an_editor_buffer_moves_no_offset() -> None:
    text = "\ufeffa: 1\nb: x\n"
    parsed = load_text(text, "a.yaml")
    node = parsed.documents[0].root.get("b")  # type: ignore[union-attr]
    assert node is not None and node.span.start == text.index("x")


def test_a_broken_utf16_file_says_which_encoding_failed() -> None:
    data = codecs.BOM_UTF16_LE + "a: 1\n".encode("utf-16-le") + b"\x00\xd8"  # lone surrogate
    parsed = load_bytes(data, "a.yaml")
    assert [item.code for item in parsed.problems] == ["UET104"]
    assert "not valid UTF-16" in parsed.problems[0].message
    assert load_bytes(b"a: \x00\x01\n", "a.yaml").problems[0].message.startswith("binary file")


# -- parsing can be stopped -------------------------------------------------------------


def test_a_long_parse_polls_its_cancel_check_and_stops() -> None:
    yaml_text = "items:\n" + "  - {a: 1, b: [x, y]}\n" * 20_000
    json_text = json.dumps({"items": [{"a": 1, "b": ["x", "y"]}] * 20_000})
    for text, parse in ((yaml_text, parse_yaml), (json_text, parse_json)):
        calls: list[int] = []

        def cancelled(calls: list[int] = calls) -> bool:
            calls.append(1)
            return len(calls) >= 3

        with pytest.raises(CheckCancelled):
            parse(text, "", cancelled)
        assert len(calls) == 3
    assert load_text(yaml_text, "a.yaml", cancelled=lambda: False).problems == []


def test_a_document_with_a_million_values_and_an_alias_is_no_alias_bomb() -> None:
    """Only what aliases add counts towards the alias bound, not the document's own size."""
    text = "base: &b [1]\nagain: *b\nitems:\n" + "  - [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" * 120_000
    result = parse_yaml(text)
    assert result.problems == []
    assert len(result.documents[0].root.value["items"]) == 120_000  # type: ignore[union-attr]
