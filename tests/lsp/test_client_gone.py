"""A client that goes away while the server indexes (the editor window closed): what the
server still writes to it (the end of the indexing's progress) is dropped with a debug
line, not logged as an internal error with a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

GUARD_SECONDS = 60  # a failure guard only: the server ends at once when its input ends
FILES = 2000  # enough chunks of indexing that the client leaves in the middle of it


def _send(stream: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    stream.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    stream.flush()


def _receive(stream: IO[bytes]) -> dict[str, Any]:
    length = 0
    while line := stream.readline().strip():
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    message: dict[str, Any] = json.loads(stream.read(length))
    return message


def _workspace(root: Path) -> Path:
    folder = root / "ws" / "workstreams"
    folder.mkdir(parents=True)
    for number in range(FILES):
        (folder / f"ws{number}.yaml").write_text(f"workstream_id: WS-{number}\nphases: []\n")
    return root / "ws"


def test_a_client_that_leaves_during_indexing_is_no_internal_error(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "uet", "serve", "--log-level", "debug"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    assert process.stdin is not None and process.stdout is not None
    try:
        _send(
            process.stdin,
            {
                "id": 1,
                "method": "initialize",
                "params": {
                    "processId": None,
                    "rootUri": root.as_uri(),
                    "capabilities": {"window": {"workDoneProgress": True}},
                    "workspaceFolders": [{"uri": root.as_uri(), "name": "ws"}],
                },
            },
        )
        while _receive(process.stdout).get("id") != 1:
            pass
        _send(process.stdin, {"method": "initialized", "params": {}})
        while True:  # answer the progress token's creation, then leave at the first report
            message = _receive(process.stdout)
            if message.get("method") == "window/workDoneProgress/create":
                _send(process.stdin, {"id": message["id"], "result": None})
            elif message.get("method") == "$/progress":
                kind = message["params"]["value"]["kind"]
                assert kind != "end", "indexing ended before the client could leave"
                if kind == "report":
                    break
        process.stdin.close()
        process.stdout.close()
        process.wait(timeout=GUARD_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    written = log.read_text("utf-8")
    assert "Traceback" not in written
    assert "internal error" not in written
    assert " ERROR " not in written
    assert "the client is gone" in written  # the server did write to the gone client
