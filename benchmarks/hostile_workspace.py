"""Cross-file checks on hostile workspaces: time and peak memory, CLI and server side by side.

Generates one workstream of N tasks (10,000 by default) in each of these shapes:

- ``valid``: each task depends on the one before;
- ``cycle``: each task depends on the next and the last on the first (one N-task cycle);
- ``unknown``: each task depends on a task that does not exist (N did-you-mean lookups);
- ``duplicate``: every task has the same id (N - 1 duplicates);

and validates each through a real ``uet validate`` process (wall time, CPU time and peak
RSS from ``os.wait4``'s resource usage of that very child, bytes printed) and through a
real ``uet serve`` process driven over stdio (didOpen → publishDiagnostics; peak RSS from
``/proc/PID/status`` VmHWM; size of the published diagnostics). Goal (issue "Hostile and
broken input"): ≤ 1 s and ≤ 200 MB each.

    .venv/bin/python benchmarks/hostile_workspace.py [--tasks N] [--format yaml|json]

Wall time counts waiting for a shared CPU, CPU time does not: on a busy machine compare
CPU times. Figures vary with the machine; this script asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lsp_client import Client

GOAL_SECONDS = 1.0
GOAL_MB = 200.0
SHAPES = ("valid", "cycle", "unknown", "duplicate")


def workstream(tasks: int, shape: str) -> dict[str, Any]:
    """A workstream of ``tasks`` tasks whose dependencies have the given shape."""
    items: list[dict[str, Any]] = []
    for number in range(tasks):
        task: dict[str, Any] = {
            "task_id": "task-same" if shape == "duplicate" else f"task-{number:05d}",
            "name": f"Task number {number}",
            "kind": "test",
        }
        if shape == "valid" and number:
            task["depends_on"] = [f"task-{number - 1:05d}"]
        elif shape == "cycle":
            task["depends_on"] = [f"task-{(number + 1) % tasks:05d}"]
        elif shape == "unknown":
            task["depends_on"] = [f"missing-{number:05d}"]
        items.append(task)
    return {
        "workstream_id": f"WS-{shape.upper()}",
        "project_id": "PRJ-BENCH",
        "phase_id": "PH-BENCH",
        "name": f"A {shape} workstream",
        "objective": "Exercise the cross-file checks.",
        "tasks": items,
    }


def render(value: dict[str, Any], form: str) -> str:
    if form == "json":
        return json.dumps(value, indent=2) + "\n"
    return yaml.safe_dump(value, sort_keys=False)


@dataclass
class Figures:
    """One validation: wall and CPU seconds, peak RSS, what it reported."""

    seconds: float
    cpu: float
    peak_mb: float
    diagnostics: int
    output_bytes: int


def run_cli(folder: Path) -> Figures:
    """``uet validate FOLDER`` in its own process; its resource usage through ``wait4``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "uet", "validate", "--format", "json", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, _, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = 0  # reaped above
    records = json.loads(output)
    return Figures(
        elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, len(records), len(output)
    )


def peak_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(item for item in status.splitlines() if item.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


async def run_server(root: Path, relative: str, text: str, language: str) -> Figures:
    """didOpen of ``text`` in a fresh ``uet serve`` → its published diagnostics."""
    client, _ = await Client.start()
    try:
        await client.initialize(root, pull=False)
        await asyncio.wait_for(client.progress_done.wait(), 120)
        uri = (root / relative).as_uri()
        cpu_before = client.cpu_seconds()
        waiting = client.expect_diagnostics(uri, 1)
        started = time.perf_counter()
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}},
        )
        published = await asyncio.wait_for(waiting, 600)
        elapsed = time.perf_counter() - started
        cpu = client.cpu_seconds() - cpu_before
        peak = peak_mb(client.process.pid)
    finally:
        await client.close()
    return Figures(elapsed, cpu, peak, len(published), len(json.dumps(published)))


def verdict(figures: Figures) -> str:
    ok = figures.seconds <= GOAL_SECONDS and figures.peak_mb <= GOAL_MB
    cpu_ok = figures.cpu <= GOAL_SECONDS and figures.peak_mb <= GOAL_MB
    return "ok" if ok else ("ok (CPU)" if cpu_ok else "MISSED")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    args = parser.parse_args()
    suffix = "json" if args.format == "json" else "yaml"
    print(
        f"{args.tasks:,} tasks, {args.format}; goal ≤ {GOAL_SECONDS:.0f} s and ≤ {GOAL_MB:.0f} MB"
    )
    header = (
        f"{'shape':<10}{'face':<7}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}"
        f"{'diags':>7}{'bytes':>11}  verdict"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="uet-hostile-") as temp:
        for shape in SHAPES:
            folder = Path(temp) / shape
            relative = f"workstreams/{shape}.{suffix}"
            text = render(workstream(args.tasks, shape), args.format)
            (folder / "workstreams").mkdir(parents=True)
            (folder / relative).write_text(text, encoding="utf-8")
            cli = run_cli(folder)
            empty = Path(temp) / f"{shape}-server"  # the document reaches it only by didOpen
            empty.mkdir()
            server = await run_server(empty, relative, text, args.format)
            for face, figures in (("cli", cli), ("server", server)):
                print(
                    f"{shape:<10}{face:<7}{figures.seconds:>8.2f}{figures.cpu:>8.2f}"
                    f"{figures.peak_mb:>9.0f}{figures.diagnostics:>7}"
                    f"{figures.output_bytes:>11,}  {verdict(figures)}"
                )


if __name__ == "__main__":
    asyncio.run(main())
