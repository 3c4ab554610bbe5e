"""Subprocess adapter with real child processes (small Python programs written here)."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from engine_support import process_alive, wait_until

from uet.engine.adapters import supervision
from uet.engine.adapters.base import AdapterRequest, AttemptStatus
from uet.engine.adapters.logs import CappedLog
from uet.engine.adapters.subprocess import SubprocessAdapter
from uet.engine.cancel import CancelToken

ADAPTER = SubprocessAdapter()


@pytest.fixture(autouse=True, params=["cwd_is_current", "cwd_elsewhere"])
def engine_cwd(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Run every test with the child's working directory both equal to the engine's and
    different from it (the child must land in its own either way)."""
    monkeypatch.chdir(tmp_path if request.param == "cwd_is_current" else tmp_path.parent)
    return str(request.param)


def script(tmp_path: Path, name: str, body: str) -> tuple[str, ...]:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return (sys.executable, str(path))


def request(tmp_path: Path, argv: tuple[str, ...], **kwargs: object) -> AdapterRequest:
    return AdapterRequest(
        argv=argv,
        cwd=kwargs.pop("cwd", tmp_path),  # type: ignore[arg-type]
        log_path=tmp_path / "logs" / "attempt.log",
        **kwargs,  # type: ignore[arg-type]
    )


def run(req: AdapterRequest, cancel: CancelToken | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    with CancelToken() as token:
        return ADAPTER.execute(req, cancel or token, **kwargs)  # type: ignore[arg-type]


def test_success_streams_output_to_the_log(tmp_path: Path) -> None:
    argv = script(tmp_path, "ok", "import sys\nprint('hello')\nprint('oops', file=sys.stderr)\n")
    chunks: list[bytes] = []
    spawned: list[int] = []
    result = run(request(tmp_path, argv), on_output=chunks.append, on_spawn=spawned.append)
    assert result.status is AttemptStatus.COMPLETED
    assert result.exit_code == 0
    assert result.log_path is not None
    text = result.log_path.read_text()
    assert "hello" in text and "oops" in text
    assert b"".join(chunks).decode() == text
    assert spawned == [result.process_group]


def test_no_output_means_no_log_file(tmp_path: Path) -> None:
    result = run(request(tmp_path, ("true",)))
    assert result.status is AttemptStatus.COMPLETED
    assert result.log_path is None
    assert not (tmp_path / "logs").exists()


def test_nonzero_exit_is_failed(tmp_path: Path) -> None:
    argv = script(tmp_path, "fail", "import sys\nprint('bad')\nsys.exit(3)\n")
    result = run(request(tmp_path, argv))
    assert result.status is AttemptStatus.FAILED
    assert result.exit_code == 3
    assert result.reason == "exit code 3"


def test_missing_program_is_a_spawn_failure(tmp_path: Path) -> None:
    result = run(request(tmp_path, ("definitely-not-a-program-uet",)))
    assert result.status is AttemptStatus.SPAWN_FAILED
    assert "definitely-not-a-program-uet" in result.reason
    result = run(request(tmp_path, ("./not-here",)))
    assert result.status is AttemptStatus.SPAWN_FAILED


def test_program_is_looked_up_on_the_child_path(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    tool = tools / "uet-test-tool"
    tool.write_text('#!/bin/sh\necho from-tool "$1"\n')
    tool.chmod(0o755)
    env = {"PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = run(request(tmp_path, ("uet-test-tool", "x y"), env=env))
    assert result.status is AttemptStatus.COMPLETED, result
    assert result.log_path is not None
    assert result.log_path.read_text() == "from-tool x y\n"


def test_a_program_that_moved_is_looked_up_again(tmp_path: Path) -> None:
    # The engine remembers where a program was found; when that file goes away, the next
    # start looks it up afresh instead of failing.
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        tool = folder / "uet-moving-tool"
        tool.write_text(f"#!/bin/sh\necho {folder.name}\n")
        tool.chmod(0o755)
    env = {"PATH": f"{first}{os.pathsep}{second}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = run(request(tmp_path, ("uet-moving-tool",), env=env))
    assert result.log_path is not None and result.log_path.read_text() == "first\n"
    (first / "uet-moving-tool").unlink()
    result = run(request(tmp_path, ("uet-moving-tool",), env=env))
    assert result.status is AttemptStatus.COMPLETED, result
    assert result.log_path is not None and result.log_path.read_text() == "second\n"
    (second / "uet-moving-tool").unlink()
    result = run(request(tmp_path, ("uet-moving-tool",), env=env))
    assert result.status is AttemptStatus.SPAWN_FAILED
    assert result.reason.startswith("cannot start 'uet-moving-tool'")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_children_do_not_inherit_ignored_sigpipe(tmp_path: Path) -> None:
    # Python ignores SIGPIPE; its children must get the default action back.
    result = run(request(tmp_path, ("grep", "SigIgn", "/proc/self/status")))
    assert result.log_path is not None
    ignored = int(result.log_path.read_text().split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))


def test_flood_is_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        "flood",
        """
        import sys
        sys.stdout.write("FIRST\\n")
        for i in range(40000):
            sys.stdout.write("x" * 99 + "\\n")
        sys.stdout.write("LAST\\n")
        """,
    )
    result = run(request(tmp_path, argv, log_max_bytes=256 * 1024))
    assert result.status is AttemptStatus.COMPLETED
    assert result.truncated
    assert result.output_bytes > 4_000_000
    assert result.log_path is not None
    data = result.log_path.read_bytes()
    assert len(data) < 256 * 1024 + 100
    assert data.startswith(b"FIRST\n")
    assert data.endswith(b"LAST\n")
    assert b"bytes of output omitted]" in data


def test_capped_log_keeps_everything_under_the_cap(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "x.log", max_bytes=1000)
    payload = bytes(range(256)) * 3
    for start in range(0, len(payload), 7):
        log.write(payload[start : start + 7])
    log.close()
    log.close()
    assert (tmp_path / "x.log").read_bytes() == payload
    assert not log.truncated


# A grandchild that, unless it is killed first, writes a mark after a minute: what the
# adapter did not wait for it to end by itself.
OUTLIVE = "import sys, time; time.sleep(60); open(sys.argv[1], 'w').write('outlived')"

GRANDCHILD = f"""
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", {OUTLIVE!r}, sys.argv[1] + ".outlived"])
with open(sys.argv[1], "w") as handle:
    handle.write(str(child.pid))
print("started", flush=True)
time.sleep(60)
"""


def test_timeout_kills_grandchildren_and_keeps_partial_output(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    argv = (*script(tmp_path, "tree", GRANDCHILD), str(pid_file))
    result = run(request(tmp_path, argv, timeout_seconds=1.0, kill_grace_seconds=1.0))
    assert result.status is AttemptStatus.TIMED_OUT
    assert result.reason == "timed out after 1 s"
    assert result.exit_code == -signal.SIGTERM  # the leader was stopped, not waited for
    assert result.log_path is not None
    assert "started" in result.log_path.read_text()
    grandchild = int(pid_file.read_text())
    assert wait_until(lambda: not process_alive(grandchild), timeout=5)
    assert not (tmp_path / "grandchild.pid.outlived").exists()  # killed, not waited for


def test_sigterm_ignored_gets_sigkill_after_grace(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        "stubborn",
        """
        import signal, time
        signal.signal(signal.SIGTERM, lambda *_: print("SIGTERM ignored", flush=True))
        print("started", flush=True)
        time.sleep(60)  # goes on sleeping after the handler
        """,
    )
    result = run(request(tmp_path, argv, timeout_seconds=0.5, kill_grace_seconds=1.0))
    assert result.status is AttemptStatus.TIMED_OUT
    assert result.exit_code == -signal.SIGKILL
    # SIGTERM first, which it survived (its handler ran), then SIGKILL.
    assert result.log_path is not None
    assert result.log_path.read_text() == "started\nSIGTERM ignored\n"


def test_cancel_stops_the_whole_tree(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    argv = (*script(tmp_path, "tree", GRANDCHILD), str(pid_file))
    with CancelToken() as token:
        timer = threading.Timer(0.5, token.cancel, args=("user asked",))
        timer.start()
        result = ADAPTER.execute(request(tmp_path, argv, kill_grace_seconds=1.0), token)
        timer.join()
    assert result.status is AttemptStatus.CANCELED
    assert result.reason == "canceled: user asked"
    grandchild = int(pid_file.read_text())
    assert wait_until(lambda: not process_alive(grandchild), timeout=5)
    assert result.process_group is not None
    assert not process_alive(result.process_group)


def test_already_canceled_never_spawns(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with CancelToken() as token:
        token.cancel("early")
        result = ADAPTER.execute(request(tmp_path, ("touch", str(marker))), token)
    assert result.status is AttemptStatus.CANCELED
    assert not marker.exists()


def test_stragglers_holding_the_pipe_are_terminated(tmp_path: Path) -> None:
    pid_file = tmp_path / "straggler.pid"
    argv = (
        *script(
            tmp_path,
            "straggler",
            """
            import subprocess, sys
            outlive = sys.argv[2]
            child = subprocess.Popen([sys.executable, "-c", outlive, sys.argv[1] + ".outlived"])
            open(sys.argv[1], "w").write(str(child.pid))
            print("leader done", flush=True)
            """,
        ),
        str(pid_file),
        OUTLIVE,
    )
    result = run(request(tmp_path, argv, kill_grace_seconds=1.0))
    assert result.status is AttemptStatus.COMPLETED
    assert wait_until(lambda: not process_alive(int(pid_file.read_text())), timeout=5)
    assert not (tmp_path / "straggler.pid.outlived").exists()  # terminated, not waited for


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd (Linux)")
def test_many_parallel_attempts_do_not_leak_descriptors(tmp_path: Path) -> None:
    before = len(list(Path("/proc/self/fd").iterdir()))
    threads = [
        threading.Thread(target=run, args=(request(tmp_path, ("true",)),)) for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(list(Path("/proc/self/fd").iterdir())) == before


def test_exit_codes_signals_and_start_failures_are_reported(tmp_path: Path) -> None:
    result = run(request(tmp_path, ("sh", "-c", "echo out; echo err >&2; exit 4")))
    descriptors = len(list(Path("/dev/fd").iterdir()))  # (stdin's /dev/null is open now)
    assert (result.status, result.exit_code, result.reason) == (
        AttemptStatus.FAILED,
        4,
        "exit code 4",
    )
    assert result.log_path is not None
    assert sorted(result.log_path.read_text().split()) == ["err", "out"]
    result = run(request(tmp_path, ("sh", "-c", "kill -TERM $$")))
    assert (result.status, result.reason) == (AttemptStatus.FAILED, "killed by SIGTERM")
    not_executable = tmp_path / "data.txt"
    not_executable.write_text("#!/bin/sh\n")
    failures = {
        "missing": run(request(tmp_path, ("definitely-not-a-program-uet",))),
        "not executable": run(request(tmp_path, (str(not_executable),))),
        "missing cwd": run(request(tmp_path, ("true",), cwd=tmp_path / "gone")),
    }
    assert {name: result.status for name, result in failures.items()} == dict.fromkeys(
        failures, AttemptStatus.SPAWN_FAILED
    )
    assert failures["missing"].reason == (
        "cannot start 'definitely-not-a-program-uet': No such file or directory"
    )
    assert failures["not executable"].reason.endswith("Permission denied")
    assert failures["missing cwd"].reason == "cannot start 'true': No such file or directory"
    # Failed starts close what they opened.
    assert len(list(Path("/dev/fd").iterdir())) == descriptors


def test_a_leader_that_closes_its_output_is_still_waited_for(tmp_path: Path) -> None:
    # The pipe closes long before the leader exits: supervision then watches the leader
    # itself, still honouring the timeout.
    closes_early = """
        import os, sys, time
        print("bye", flush=True)
        os.close(1); os.close(2)
        time.sleep(float(sys.argv[1]))
        sys.exit(3)
        """
    argv = script(tmp_path, "closes", closes_early)
    result = run(request(tmp_path, (*argv, "0.3")))
    # Its exit code, which it has only after its sleep: the adapter waited for it.
    assert (result.status, result.exit_code) == (AttemptStatus.FAILED, 3)
    result = run(request(tmp_path, (*argv, "60"), timeout_seconds=0.5, kill_grace_seconds=0.5))
    assert result.status is AttemptStatus.TIMED_OUT
    assert result.log_path is not None and result.log_path.read_text() == "bye\n"


def test_without_pidfd_exit_timeout_and_cancel_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Platforms without pidfd (not Linux): the leader is polled for once the pipe closes.
    monkeypatch.setattr(supervision, "_HAS_PIDFD", False)
    result = run(request(tmp_path, ("sh", "-c", "sleep 0.1; echo done")))
    assert result.status is AttemptStatus.COMPLETED
    assert result.log_path is not None and result.log_path.read_text() == "done\n"
    result = run(request(tmp_path, ("sleep", "60"), timeout_seconds=0.3, kill_grace_seconds=0.5))
    assert (result.status, result.reason) == (AttemptStatus.TIMED_OUT, "timed out after 0.3 s")
    assert result.exit_code == -signal.SIGTERM
    with CancelToken() as token:
        timer = threading.Timer(0.2, token.cancel, args=("stop",))
        timer.start()
        result = ADAPTER.execute(request(tmp_path, ("sleep", "60")), token)
        timer.join()
    assert (result.status, result.reason) == (AttemptStatus.CANCELED, "canceled: stop")


def test_an_error_while_supervising_kills_and_reaps_the_child(tmp_path: Path) -> None:
    spawned: list[int] = []

    def broken_hook(pid: int) -> None:
        spawned.append(pid)
        raise RuntimeError("the engine failed")

    with pytest.raises(RuntimeError, match="the engine failed"):
        run(request(tmp_path, ("sleep", "60")), on_spawn=broken_hook)
    with pytest.raises(ChildProcessError):  # reaped already
        os.waitpid(spawned[0], os.WNOHANG)
    assert not process_alive(spawned[0])
