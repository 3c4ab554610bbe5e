"""SIGTERM and SIGHUP end ``uet serve`` like the end of its input does: a normal exit
(``finally`` blocks and ``atexit`` handlers run) with status 128 + the signal, on stdio
while the client keeps its end open, and on TCP. That the runs it executes are stopped
is ``test_runs_end_with_server``'s part.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

GUARD_SECONDS = 60  # a failure guard only: the server ends at once when the code works
# ``uet serve`` in a process that records, from an atexit handler, that it exited normally.
SERVE = (
    "import atexit, pathlib, sys\n"
    "marker = pathlib.Path(sys.argv[1])\n"
    "atexit.register(marker.write_text, 'atexit ran')\n"
    "from uet.cli.main import main\n"
    "raise SystemExit(main(['serve', *sys.argv[2:]]))\n"
)


def _serve(tmp_path: Path, *arguments: str) -> tuple[subprocess.Popen[bytes], Path]:
    marker = tmp_path / "atexit.txt"
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(marker), "--log-file", str(tmp_path / "log"), *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    return process, marker


def _end(process: subprocess.Popen[bytes]) -> None:
    """Make sure the server has ended; close its pipes."""
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def _initialize(process: subprocess.Popen[bytes], root: Path) -> None:
    """Send ``initialize`` and wait for its answer: the server is serving."""
    assert process.stdin is not None and process.stdout is not None
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}},
        }
    ).encode()
    process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    process.stdin.flush()
    length = 0
    while line := process.stdout.readline().strip():
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    assert json.loads(process.stdout.read(length))["id"] == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_ends_a_stdio_server_normally_while_its_input_stays_open(
    tmp_path: Path, signum: int
) -> None:
    process, marker = _serve(tmp_path)
    try:
        _initialize(process, tmp_path)
        process.send_signal(signum)  # the client keeps stdin open
        assert process.wait(timeout=GUARD_SECONDS) == 128 + signum
    finally:
        _end(process)
    assert marker.read_text() == "atexit ran"
    assert f"ending on {signal.Signals(signum).name}" in (tmp_path / "log").read_text()


def test_a_signal_ends_a_tcp_server_normally(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process, marker = _serve(tmp_path, "--tcp", f"127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + GUARD_SECONDS
        while True:  # serving once it accepts a connection
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the TCP server never listened"
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=GUARD_SECONDS) == 128 + signal.SIGTERM
    finally:
        _end(process)
    assert marker.read_text() == "atexit ran"
