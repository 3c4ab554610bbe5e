"""However ``uet serve`` ends while a run executes (``shutdown`` + ``exit``, ``exit``
alone, end of input, SIGTERM, SIGHUP), the run is canceled and every process of it is gone.

A raw stdio client (plain JSON-RPC framing, no client library): the test must be able to
kill the server, close its input or stop answering at any moment.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# A failure guard only: the server and the run end in a few seconds when the code works.
GUARD_SECONDS = 60
# Each task starts a grandchild in its group and one that leaves it (setsid), then sleeps.
TREE = "sleep 300 & echo $! >> {pids}; setsid sleep 300 & echo $! >> {pids}; sleep 300"


class RawClient:
    """``uet serve`` over stdio with Content-Length framing; answers kept by id."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        with (root / "server.log").open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uet", "serve"],
                cwd=root,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        self.answers: dict[int, Any] = {}
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(stream.read(length))
            if "id" in message and "method" in message:  # a request of the server
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                self.answers[message["id"]] = message

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        stdin.flush()

    def request(self, method: str, params: Any) -> Any:
        self._next_id += 1
        number = self._next_id
        self.send({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        assert _until(lambda: number in self.answers), f"no answer to {method}"
        answer = self.answers.pop(number)
        assert "error" not in answer, answer
        return answer["result"]

    def close(self) -> None:
        """Make sure the server has ended; close the pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(GUARD_SECONDS)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                with contextlib.suppress(BrokenPipeError):
                    stream.close()

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})


def _until(condition: Callable[[], object], timeout: float = GUARD_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _run_states(root: Path) -> list[tuple[str, str | None]]:
    connection = sqlite3.connect(root / ".uet" / "runs.db")
    try:
        return [
            (str(row[0]), row[1])
            for row in connection.execute("SELECT state, state_reason FROM runs")
        ]
    finally:
        connection.close()


def _end_by_exit(client: RawClient) -> None:
    client.notify("exit")


def _end_by_shutdown(client: RawClient) -> None:
    client.request("shutdown", None)
    client.notify("exit")


def _end_of_input(client: RawClient) -> None:
    stdin = client.process.stdin
    assert stdin is not None
    stdin.close()


def _signal(signum: int) -> Callable[[RawClient], None]:
    return lambda client: client.process.send_signal(signum)


@pytest.mark.parametrize(
    ("ending", "status"),
    [
        (_end_by_shutdown, 0),
        (_end_by_exit, 1),
        (_end_of_input, 1),
        (_signal(signal.SIGTERM), 128 + signal.SIGTERM),
        (_signal(signal.SIGHUP), 128 + signal.SIGHUP),
    ],
    ids=["shutdown", "exit", "end-of-input", "SIGTERM", "SIGHUP"],
)
def test_every_way_the_server_ends_stops_its_runs(
    tmp_path: Path, ending: Callable[[RawClient], None], status: int
) -> None:
    (tmp_path / ".uet").mkdir()
    pids = tmp_path / "pids.txt"
    workstream = {
        "workstream_id": "ws-end",
        "project_id": "test",
        "phase_id": "PH-1",
        "name": "Ends with the server",
        "objective": "check that nothing outlives the server",
        "concurrency": {"max_parallel": 2},
        "tasks": [
            {
                "task_id": f"tree{i}",
                "name": f"Tree {i}",
                "kind": "shell",
                "command": ["sh", "-c", TREE.format(pids=pids)],
            }
            for i in range(2)
        ],
    }
    (tmp_path / "ws.json").write_text(json.dumps(workstream))
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    client = RawClient(tmp_path, env)
    try:
        client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": tmp_path.as_uri(),
                "capabilities": {},
                "initializationOptions": {"trustedWorkspace": True},
                "workspaceFolders": [{"uri": tmp_path.as_uri(), "name": "ws"}],
            },
        )
        client.notify("initialized", {})
        client.request(
            "workspace/executeCommand",
            {"command": "uet.runWorkstream", "arguments": [(tmp_path / "ws.json").as_uri()]},
        )
        assert _until(lambda: pids.exists() and len(pids.read_text().split()) == 4)
        processes = [int(pid) for pid in pids.read_text().split()]
        assert all(_alive(pid) for pid in processes)
        ending(client)
        assert client.process.wait(timeout=GUARD_SECONDS) == status
    finally:
        client.close()
    for pid in processes:
        assert _until(lambda pid=pid: not _alive(pid), timeout=10), pid
    assert [state for state, _reason in _run_states(tmp_path)] == ["canceled"]
