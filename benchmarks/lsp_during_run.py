"""Responsiveness of ``uet serve`` while it runs a workstream (issue 8).

Drives the server over stdio with the plain JSON-RPC client of ``lsp_client.py`` (no pygls
on the client side) on a generated workspace and prints:

- median / p95 latency of ``textDocument/hover`` and of ``didChange`` → pulled
  ``textDocument/diagnostic`` (the document is re-validated) on an idle server (half the
  samples before the run, half after it), then the same requests while a 200-task
  workstream runs with 2 jobs, and their ratios (goal: median and p95 <= 1.5x);
- the CPU time the server process used during the run (the engine's threads and the
  server's bookkeeping; the tasks are not counted);
- ``$/progress`` notifications of that run per second, on average and in the busiest
  second (goal: <= 10);
- the time from ``uet.cancelRun`` to the canceled task's process being gone (goal: < 1 s).

Tasks run this interpreter (``-c "sleep"``), so the run costs little CPU besides process
start-up; on a 2-core machine the server still shares the CPU with the engine's threads
and the tasks. ``--program sleep`` runs ``sleep`` instead, which starts in a millisecond:
the difference between the two is what the tasks' own start-up costs the server.
``--failing N`` makes every N-th task fail (each failure becomes a diagnostic of the
workstream file while the run executes). ``--run-priority idle|low|normal`` sets
``uet.runPriority`` (the CPU priority of the run's task processes) instead of the server's
default. Usage: ``python benchmarks/lsp_during_run.py [--tasks N] [--task-seconds S]
[--samples N] [--program python|sleep] [--failing N] [--run-priority P]``. Figures vary with the
machine (run it more than once on a shared one); this script asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsp_client import Client

GOALS = {"latency_ratio": 1.5, "progress_per_second": 10.0, "cancel_ms": 1000.0}
TASK_CODE = (  # argv: SECONDS [PID_FILE [fail]]
    "import os, sys, time\n"
    "if len(sys.argv) > 2 and sys.argv[2]:\n"
    "    open(sys.argv[2] + '.tmp', 'w').write(str(os.getpid()))\n"
    "    os.replace(sys.argv[2] + '.tmp', sys.argv[2])\n"
    "time.sleep(float(sys.argv[1]))\n"
    "if len(sys.argv) > 3:\n"
    "    print('failing as told', file=sys.stderr)\n"
    "    sys.exit(3)\n"
)


def write_workspace(
    root: Path, tasks: int, task_seconds: float, program: str, failing: int = 0
) -> None:
    """A router whose apps sleep, a workstream of ``tasks`` independent tasks run two at a
    time (with ``failing``: every ``failing``-th fails), a one-task workstream to cancel,
    and a document to probe."""
    (root / "workstreams").mkdir(parents=True)
    python = [sys.executable, "-c", TASK_CODE]
    sleeper = python if program == "python" else [shutil.which("sleep") or "sleep"]
    capabilities = {"task_kinds": ["shell"]}
    router = {
        "version": "1.0.0",
        "apps": {
            "sleeper": {"kind": "tool", "command": sleeper, "capabilities": capabilities},
            "napper": {"kind": "tool", "command": python, "capabilities": capabilities},
        },
        "routing": {"rules": []},
    }
    (root / "router_config.json").write_text(json.dumps(router, indent=2))

    def workstream(
        ident: str, names: list[str], args: list[str], tool: str = "sleeper", fail: str = ""
    ) -> str:
        lines = [
            f"workstream_id: WS-{ident}", "project_id: PRJ-BENCH", "phase_id: PH-BENCH",
            f"name: Bench {ident}", "objective: Keep the server busy.",
            "concurrency:", "  max_parallel: 2", "error_handling:", "  strategy: continue",
            "tasks:",
        ]  # fmt: skip
        for number, name in enumerate(names, 1):
            failed = fail if failing and number % failing == 0 else ""
            task_args = [*args, "", failed] if failed and program == "python" else args
            if failed and program != "python":
                task_args = ["not-a-number"]  # sleep fails at once
            lines += [
                f"  - task_id: {name}", f"    name: Task {name}", "    kind: shell",
                f"    tool: {tool}", f"    args: {json.dumps(task_args)}",
            ]  # fmt: skip
        return "\n".join(lines) + "\n"

    names = [f"t{number:03d}" for number in range(tasks)]
    run = workstream("RUN", names, [str(task_seconds)], fail="fail")
    (root / "workstreams" / "run.yaml").write_text(run)
    pid_file = str(root / "nap.pid")
    nap = workstream("NAP", ["nap"], ["60", pid_file], tool="napper")
    (root / "workstreams" / "nap.yaml").write_text(nap)
    probe = [f"p{number:02d}" for number in range(40)]
    (root / "workstreams" / "probe.yaml").write_text(workstream("PROBE", probe, ["0"]))


class Probe:
    """Hover and re-validation requests on the probe document, timed."""

    def __init__(self, client: Client, root: Path) -> None:
        self.client = client
        self.path = root / "workstreams" / "probe.yaml"
        self.uri = self.path.as_uri()
        self.text = self.path.read_text()
        self.version = 1
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": self.uri, "languageId": "yaml", "version": 1,
                              "text": self.text}},
        )  # fmt: skip

    async def hover(self) -> float:
        started = time.perf_counter()
        answer = await self.client.request(
            "textDocument/hover",
            {"textDocument": {"uri": self.uri}, "position": {"line": 4, "character": 3}},
        )
        assert answer is not None, "no hover"
        return time.perf_counter() - started

    async def diagnostics(self) -> float:
        self.version += 1
        strategy = "continue" if self.version % 2 else "fail_fast"
        text = self.text.replace("strategy: continue", f"strategy: {strategy}")
        started = time.perf_counter()
        self.client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": self.uri, "version": self.version},
             "contentChanges": [{"text": text}]},
        )  # fmt: skip
        await self.client.request("textDocument/diagnostic", {"textDocument": {"uri": self.uri}})
        return time.perf_counter() - started


async def measure(probe: Probe, samples: int, keep_going: Any = None) -> dict[str, list[float]]:
    """``samples`` rounds of hover + re-validation (or, with ``keep_going``, as many as
    fit while it returns true), 20 ms apart."""
    found: dict[str, list[float]] = {"hover": [], "diagnostics": []}
    for round_number in itertools.count():
        if keep_going is None and round_number >= samples:
            break
        if keep_going is not None and not keep_going():
            break
        found["hover"].append(await probe.hover())
        found["diagnostics"].append(await probe.diagnostics())
        await asyncio.sleep(0.02)
    return found


def figures(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[0] not in ("Z", "X")


async def cancel_latency(client: Client, root: Path) -> tuple[float, float]:
    """(uet.cancelRun round trip, cancel → process gone), in milliseconds."""
    pid_file = root / "nap.pid"
    started = await client.request(
        "workspace/executeCommand",
        {"command": "uet.runWorkstream", "arguments": [(root / "workstreams/nap.yaml").as_uri()]},
    )
    while not pid_file.is_file():
        await asyncio.sleep(0.01)
    pid = int(pid_file.read_text())
    began = time.perf_counter()
    waiting = asyncio.ensure_future(
        client.request(
            "workspace/executeCommand",
            {"command": "uet.cancelRun", "arguments": [started["runId"]]},
        )
    )
    while alive(pid):
        await asyncio.sleep(0.002)
    gone = time.perf_counter() - began
    answer = await waiting
    answered = time.perf_counter() - began
    assert answer["runs"][0]["state"] == "canceled", answer
    return answered * 1000, gone * 1000


async def main(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="uet-bench-run-") as folder:
        root = Path(folder).resolve()
        write_workspace(
            root, arguments.tasks, arguments.task_seconds, arguments.program, arguments.failing
        )
        os.environ["XDG_STATE_HOME"] = str(root / "state")  # never touch the user's answers
        client, _ = await Client.start()
        options: dict[str, Any] = {"trustedWorkspace": True}
        if arguments.run_priority is not None:
            options["runPriority"] = arguments.run_priority
        await client.initialize(root, pull=True, initialization_options=options)
        await asyncio.wait_for(client.progress_done.wait(), 60)  # the initial index
        probe = Probe(client, root)
        await measure(probe, 10)  # warm-up
        # The idle figures are taken half before and half after the run, so that a moment
        # of load from elsewhere on the machine does not skew the baseline.
        idle = await measure(probe, arguments.samples // 2)

        cpu_before = client.cpu_seconds()
        started = await client.request(
            "workspace/executeCommand",
            {"command": "uet.runWorkstream",
             "arguments": [(root / "workstreams/run.yaml").as_uri(), {"jobs": 2}]},
        )  # fmt: skip
        token = started["token"]
        busy = await measure(probe, 0, keep_going=lambda: not client.ended(token))
        await client.until_ended(token)
        cpu_during = client.cpu_seconds() - cpu_before
        for name, samples in (await measure(probe, arguments.samples // 2)).items():
            idle[name] += samples
        moments = [moment for moment, seen, _ in client.progress if seen == token]
        end = next(value for _, seen, value in client.progress if seen == token and
                   value["kind"] == "end")  # fmt: skip
        answered_ms, gone_ms = await cancel_latency(client, root)
        await client.close()

    duration = moments[-1] - moments[0]
    per_second = len(moments) / duration if duration else float("inf")
    busiest = max(sum(1 for other in moments if start <= other < start + 1) for start in moments)
    priority = "default" if arguments.run_priority is None else arguments.run_priority
    failing = f", every {arguments.failing}th failing" if arguments.failing else ""
    print(
        f"run: {arguments.tasks} {arguments.program} tasks of {arguments.task_seconds} s"
        f"{failing}, 2 jobs, uet.runPriority {priority}: {end.get('message')}"
    )
    print(f"server CPU during the run: {cpu_during:.2f} s ({100 * cpu_during / duration:.0f}%)")
    print(
        f"{'request':<13}{'idle median':>12}{'p95':>9}{'run median':>12}{'p95':>9}"
        f"{'ratio median':>14}{'p95':>7}"
    )
    worst = 0.0
    for name in ("hover", "diagnostics"):
        idle_median, idle_p95 = figures(idle[name])
        busy_median, busy_p95 = figures(busy[name])
        ratios = (busy_median / idle_median, busy_p95 / idle_p95)
        worst = max(worst, *ratios)
        print(
            f"{name:<13}{idle_median:>10.2f}ms{idle_p95:>7.2f}ms{busy_median:>10.2f}ms"
            f"{busy_p95:>7.2f}ms{ratios[0]:>13.2f}x{ratios[1]:>6.2f}x"
            f"   (n={len(idle[name])}/{len(busy[name])})"
        )
    print(
        f"$/progress of the run: {len(moments)} in {duration:.1f} s = {per_second:.1f}/s"
        f" (busiest second: {busiest})"
    )
    print(f"cancel: uet.cancelRun answered in {answered_ms:.0f} ms, process gone {gone_ms:.0f} ms")
    print(
        f"goals: median and p95 ratio <= {GOALS['latency_ratio']}x: "
        f"{'met' if worst <= GOALS['latency_ratio'] else 'MISSED'}; "
        f"progress <= {GOALS['progress_per_second']:.0f}/s: "
        f"{'met' if busiest <= GOALS['progress_per_second'] else 'MISSED'}; "
        f"process gone < {GOALS['cancel_ms']:.0f} ms: "
        f"{'met' if gone_ms < GOALS['cancel_ms'] else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--task-seconds", type=float, default=0.1)
    parser.add_argument("--samples", type=int, default=200, help="idle rounds (half before, "
                        "half after the run)")  # fmt: skip
    parser.add_argument("--program", choices=("python", "sleep"), default="python")
    parser.add_argument("--failing", type=int, default=0, metavar="N",
                        help="every N-th task of the run fails (0: none)")  # fmt: skip
    parser.add_argument(
        "--run-priority", choices=("idle", "low", "normal"), default=None,
        help="uet.runPriority for the server (default: the server's default)",
    )  # fmt: skip
    asyncio.run(main(parser.parse_args()))
