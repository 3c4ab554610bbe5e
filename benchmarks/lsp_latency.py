"""Latency, start-up and memory of ``uet serve``, measured with a plain JSON-RPC client.

Drives the server over stdio exactly as an editor would (no pygls on the client side) and
prints, against the goals of issue 5:

- median / p95 of didOpen → diagnostics and didChange → fresh diagnostics, pushed
  (``publishDiagnostics`` with the new version) and pulled (``textDocument/diagnostic``),
  for generated 224-line and 2,200-line workstreams;
- server start-up: process spawn → ``initialize`` response, spawn → first diagnostics of
  a file opened at once, and the initialize round trip of a process that is ready;
- time to diagnose a generated 1,000-artifact workspace (initialize response → indexing
  done, which includes the imports the server defers until after ``initialized``; and
  from the spawn);
- server RSS when idle.

Usage: ``python benchmarks/lsp_latency.py [--edits N]`` (``UET_BENCH_LOG=FILE
UET_BENCH_LOG_LEVEL=debug`` log per-validation timings). Figures vary with the machine;
this script asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lsp_client import Client

GOALS = {
    "edit_median_224_ms": 10.0,
    "edit_p95_2200_ms": 30.0,
    "initialize_ms": 300.0,
    "workspace_1000_s": 2.0,
    "idle_rss_mb": 80.0,
}


def workstream(lines: int, name: str) -> str:
    """A valid workstream of about ``lines`` lines."""
    head = [
        f"workstream_id: WS-{name}", "project_id: PRJ-BENCH", "phase_id: PH-BENCH",
        f"name: Benchmark {name}", "objective: Measure the language server.",
        "error_handling:", "  strategy: fail_fast", "tasks:",
    ]  # fmt: skip
    body: list[str] = []
    number = 0
    while len(head) + len(body) < lines:
        task = [
            f"  - task_id: task-{number}", f"    name: Task number {number}", "    kind: lint",
        ]  # fmt: skip
        if number:
            task.append(f"    depends_on: [task-{number - 1}]")
        body += task
        number += 1
    return "\n".join(head + body) + "\n"


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


async def edit_latency(root: Path, lines: int, pull: bool, edits: int) -> dict[str, Any]:
    """didOpen → diagnostics and didChange → fresh diagnostics for one document."""
    client, _ = await Client.start()
    await client.initialize(root, pull)
    await asyncio.wait_for(client.progress_done.wait(), 60)
    text = workstream(lines, f"L{lines}")
    uri = (root / "workstreams" / f"bench-{lines}.yaml").as_uri()
    line = text.split("\n").index("  strategy: fail_fast")
    opened = time.perf_counter()
    waiting = None if pull else client.expect_diagnostics(uri, 1)
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
    )
    if pull:
        await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
    else:
        await waiting  # type: ignore[misc]
    open_seconds = time.perf_counter() - opened
    samples: list[float] = []
    current = "fail_fast"
    for version in range(2, edits + 2):
        value = "fail_fst" if current == "fail_fast" else "fail_fast"
        change = {
            "range": {"start": {"line": line, "character": 12},
                      "end": {"line": line, "character": 12 + len(current)}},
            "text": value,
        }  # fmt: skip
        current = value
        started = time.perf_counter()
        waiting = None if pull else client.expect_diagnostics(uri, version)
        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        if pull:
            result = await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
            items = result["items"]
        else:
            items = await asyncio.wait_for(waiting, 10)  # type: ignore[arg-type]
        samples.append(time.perf_counter() - started)
        assert (len(items) == 1) == (value == "fail_fst"), items
    await asyncio.sleep(0.5)
    rss = client.rss_mb()
    await client.close()
    median, p95 = summary(samples)
    return {"open_ms": open_seconds * 1000, "median_ms": median, "p95_ms": p95, "rss_mb": rss}


async def startup(root: Path) -> dict[str, float]:
    """Spawn → initialize response (what an editor waits for before it shows the server
    as ready), spawn → first diagnostics of a file opened right after ``initialized``
    (what a user waits for: every import included), and the initialize round trip of a
    process that has finished importing."""
    spawn_samples, first_samples, ready_samples, rss = [], [], [], 0.0
    text = workstream(40, "first")
    for attempt in range(6):
        client, spawned = await Client.start()
        if attempt % 2:
            await asyncio.sleep(2.0)  # let the imports finish first
            ready_samples.append(await client.initialize(root, pull=False))
        else:
            await client.initialize(root, pull=False)
            spawn_samples.append(time.perf_counter() - spawned)
            uri = (root / "workstreams" / f"first-{attempt}.yaml").as_uri()
            waiting = client.expect_diagnostics(uri, 1)
            client.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
            )
            await asyncio.wait_for(waiting, 30)
            first_samples.append(time.perf_counter() - spawned)
        await asyncio.wait_for(client.progress_done.wait(), 60)
        await asyncio.sleep(1.0)
        rss = client.rss_mb()
        await client.close()
    return {
        "spawn_to_initialize_response_ms": statistics.median(spawn_samples) * 1000,
        "spawn_to_first_diagnostics_ms": statistics.median(first_samples) * 1000,
        "initialize_round_trip_when_ready_ms": statistics.median(ready_samples) * 1000,
        "idle_rss_mb": rss,
    }


async def big_workspace(root: Path) -> dict[str, float]:
    """Time from the ``initialize`` response (and from the spawn) until the 1,000
    artifacts are indexed and published."""
    folder = root / "big"
    (folder / "workstreams").mkdir(parents=True)
    (folder / "phases").mkdir()
    for number in range(100):
        (folder / "phases" / f"ph-{number}.yaml").write_text(
            f"phase_id: PH-{number}\nname: Phase {number}\ncategory: core_dev\n"
            "resource_scope: {type: files}\nconstraints: {}\nacceptance: {mode: all, checks: []}\n"
        )
    for number in range(900):
        text = workstream(40, str(number)).replace("PH-BENCH", f"PH-{number % 100}")
        if number % 10 == 0:
            text = text.replace("fail_fast", "fail_fst")  # some files with problems
        (folder / "workstreams" / f"ws-{number}.yaml").write_text(text)
    client, spawned = await Client.start()
    await client.initialize(folder, pull=False)
    started = time.perf_counter()
    await asyncio.wait_for(client.progress_done.wait(), 120)
    done = time.perf_counter()
    rss = client.rss_mb()
    await client.close()
    return {
        "workspace_1000_s": done - started,  # from the initialize response
        "spawn_to_indexed_s": done - spawned,  # the server's own start-up included
        "rss_after_1000_mb": rss,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=100, help="edits per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        (root / "workstreams").mkdir()
        results: dict[str, Any] = {"startup": await startup(root)}
        for lines in (224, 2200):
            for pull in (False, True):
                key = f"{lines}-lines-{'pull' if pull else 'push'}"
                results[key] = await edit_latency(root, lines, pull, args.edits)
        results["workspace"] = await big_workspace(root)
    print(json.dumps(results, indent=2))
    checks = {
        "edit_median_224_ms": max(results["224-lines-push"]["median_ms"],
                                  results["224-lines-pull"]["median_ms"]),
        "edit_p95_2200_ms": max(results["2200-lines-push"]["p95_ms"],
                                results["2200-lines-pull"]["p95_ms"]),
        "initialize_ms": results["startup"]["spawn_to_initialize_response_ms"],
        "workspace_1000_s": results["workspace"]["workspace_1000_s"],
        "idle_rss_mb": results["startup"]["idle_rss_mb"],
    }  # fmt: skip
    print(f"\n{'figure':<22}{'measured':>12}{'goal':>10}  verdict")
    for name, value in checks.items():
        verdict = "ok" if value <= GOALS[name] else "MISSED"
        print(f"{name:<22}{value:>12.1f}{GOALS[name]:>10.1f}  {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
