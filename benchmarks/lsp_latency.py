"""Start-up and edit latency of ``uet serve`` against yaml-language-server, in one run.

Both servers are driven over stdio by the plain JSON-RPC client of ``lsp_client.py``, as an
editor would; yaml-language-server (the anchor, see ``yaml_ls.py``) is given the workstream
schema, so both report the same broken value. Printed side by side, with the goals of
issue 18 as ratios to the anchor (PASS / MISSED):

- spawn → first diagnostics of a broken 220-line workstream opened right after
  ``initialized``, every import and the server's start included (goal: ≤ 1.0×), and spawn
  → ``initialize`` answered; the two servers take turns, run after run, and the ratio is the
  median of the runs' own ratios, so a drift of the machine's speed hits both alike;
- median / p95 of ``didChange`` → fresh ``publishDiagnostics`` on 224-line and 2,200-line
  workstreams (goal: 224-line median ≤ 0.05×, uet's pulled ``textDocument/diagnostic``
  included). yaml-language-server validates 200 ms after the last change (its fixed
  debounce), so its figure is mostly that wait: the goal says uet needs none;
- idle memory of both; and without an anchor, uet's time to diagnose a generated
  1,000-artifact workspace (initialize response → indexing done, and from the spawn).

Usage: ``python benchmarks/lsp_latency.py [--runs N] [--edits N] [--parts startup,edits,
workspace] [--default-collector]`` (``UET_BENCH_LOG=FILE UET_BENCH_LOG_LEVEL=debug`` keep
uet's log with per-validation timings). ``--default-collector`` leaves CPython's garbage
collector as it is in uet (no freezing, no raised threshold, no pause for big documents):
what ``uet.lsp.runtime``'s tuning saves is the difference. yaml-language-server comes
from npm into a cache through ``editor-clients/scripts/ensure-deps.sh`` (once; offline
afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml_ls
from lsp_client import Client

SERVERS = ("uet", "yaml")
LABELS = {"uet": "uet", "yaml": "yaml-language-server"}
STARTUP_LINES = 220
EDIT_LINES = (224, 2200)
GOALS = {"first_diagnostics": 1.0, "edit_224": 0.05}  # uet / yaml-language-server, at most
# uet serve with the collector untouched: uet.lsp.runtime's tuning replaced by no-ops.
DEFAULT_COLLECTOR = (
    "import sys\n"
    "from uet.lsp import runtime\n"
    "runtime.settle = runtime.freeze_long_lived = lambda: None\n"
    "from uet.cli.main import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


@dataclass
class Servers:
    """How to start each server, and what was measured of it (name → samples in seconds)."""

    yaml_command: list[str]
    yaml_settings: dict[str, Any]
    uet_command: list[str] | None = None  # None: uet serve as it is
    samples: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: {server: {} for server in SERVERS}
    )

    async def start(self, server: str) -> tuple[Client, float]:
        if server == "uet":
            return await Client.start(self.uet_command)
        return await Client.start(self.yaml_command, {"yaml": self.yaml_settings})

    def add(self, server: str, figure: str, value: float) -> None:
        self.samples[server].setdefault(figure, []).append(value)


def workstream(lines: int, name: str, broken: bool = False) -> str:
    """A workstream of about ``lines`` lines, valid or with one bad enum value."""
    head = [
        f"workstream_id: WS-{name}", "project_id: PRJ-BENCH", "phase_id: PH-BENCH",
        f"name: Benchmark {name}", "objective: Measure the language server.",
        "error_handling:", f"  strategy: {'fail_fst' if broken else 'fail_fast'}", "tasks:",
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


def open_document(client: Client, uri: str, text: str) -> None:
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
    )


async def startup(root: Path, servers: Servers, runs: int) -> None:
    """Spawn → ``initialize`` answered and spawn → first diagnostics, in turns; the idle
    memory after the last run."""
    text = workstream(STARTUP_LINES, "first", broken=True)
    for run in range(runs):
        order = SERVERS if run % 2 == 0 else SERVERS[::-1]  # neither always goes first
        for server in order:
            client, spawned = await servers.start(server)
            await client.initialize(root, pull=False)
            servers.add(server, "initialize", time.perf_counter() - spawned)
            uri = (root / "workstreams" / f"first-{server}-{run}.yaml").as_uri()
            waiting = client.expect_diagnostics(uri, None, where=bool)
            open_document(client, uri, text)
            await asyncio.wait_for(waiting, 60)
            servers.add(server, "first_diagnostics", time.perf_counter() - spawned)
            servers.add(server, "first_cpu", client.cpu_seconds())  # all its threads
            if run == runs - 1:
                if server == "uet":
                    await asyncio.wait_for(client.progress_done.wait(), 60)
                await asyncio.sleep(1.0)
                servers.add(server, "idle_rss_mb", client.rss_mb())
            await client.close()


async def edit_latency(root: Path, servers: Servers, server: str, lines: int, pull: bool,
                       edits: int) -> None:  # fmt: skip
    """``didChange`` → fresh diagnostics (pushed, or pulled after each change) of one
    document, alternating a valid and an invalid value."""
    client, _ = await servers.start(server)
    await client.initialize(root, pull)
    if server == "uet":
        await asyncio.wait_for(client.progress_done.wait(), 60)
    text = workstream(lines, f"L{lines}")
    uri = (root / "workstreams" / f"bench-{server}-{lines}-{pull}.yaml").as_uri()
    line = text.split("\n").index("  strategy: fail_fast")
    waiting = None if pull else client.expect_diagnostics(uri, None)
    open_document(client, uri, text)
    if waiting is not None:
        await asyncio.wait_for(waiting, 60)
    await asyncio.sleep(0.5)  # let whatever the open started settle
    current = "fail_fast"
    figure = f"edit_{lines}" + ("_pull" if pull else "")
    for version in range(2, edits + 2):
        value = "fail_fst" if current == "fail_fast" else "fail_fast"
        change = {
            "range": {"start": {"line": line, "character": 12},
                      "end": {"line": line, "character": 12 + len(current)}},
            "text": value,
        }  # fmt: skip
        current = value
        started = time.perf_counter()
        # yaml-language-server publishes without a version; it answers changes in order
        waiting = (
            None if pull else client.expect_diagnostics(uri, version if server == "uet" else None)
        )
        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        if pull:
            result = await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
            items = result["items"]
        else:
            items = await asyncio.wait_for(waiting, 10)  # type: ignore[arg-type]
        servers.add(server, figure, time.perf_counter() - started)
        assert (len(items) == 1) == (value == "fail_fst"), items
    await client.close()


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
    return {"from_initialize_s": done - started, "from_spawn_s": done - spawned, "rss_mb": rss}


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(servers: Servers, runs: int, edits: int) -> None:
    """One table: each figure of both servers, their ratio and, where the issue sets one,
    the goal and the verdict."""
    uet, yaml = servers.samples["uet"], servers.samples["yaml"]
    head = (
        f"{'figure':<40}{'uet':>16}{'yaml-language-server':>22}{'uet/yaml':>10}{'goal':>8}  verdict"
    )
    print(f"\n{head}\n{'-' * len(head)}")

    def row(label: str, ours: float, theirs: float | None, ratio: float | None, goal: str = "",
            unit: str = "ms", digits: int = 0) -> None:  # fmt: skip
        def shown(value: float | None) -> str:
            return "—" if value is None else f"{value:.{digits}f} {unit}"

        verdict = ""
        if goal and ratio is not None:
            verdict = "PASS" if ratio <= GOALS[goal] else "MISSED"
        print(
            f"{label:<40}{shown(ours):>16}{shown(theirs):>22}"
            f"{'' if ratio is None else f'{ratio:.3f}':>10}"
            f"{f'≤ {GOALS[goal]:g}' if goal else '':>8}  {verdict}"
        )

    if "first_diagnostics" in uet:
        print(f"start-up: medians of {runs} runs each, the servers in turn; ratio: of each run")
        first = f"spawn → first diagnostics, {STARTUP_LINES} lines"
        for figure, label in (
            ("initialize", "spawn → initialize answered"),
            ("first_diagnostics", first),
            ("first_cpu", "CPU time until then"),
        ):
            paired = statistics.median(
                ours / theirs for ours, theirs in zip(uet[figure], yaml[figure], strict=True)
            )
            ours, theirs = statistics.median(uet[figure]), statistics.median(yaml[figure])
            row(label, ours * 1000, theirs * 1000, paired, figure if figure in GOALS else "")
        ours_mb, theirs_mb = uet["idle_rss_mb"][-1], yaml["idle_rss_mb"][-1]
        row("idle memory (RSS)", ours_mb, theirs_mb, ours_mb / theirs_mb, unit="MB")
    for lines in EDIT_LINES:
        figure = f"edit_{lines}"
        if figure not in uet:
            continue
        print(f"edit → fresh diagnostics, {lines:,} lines: {edits} edits each")
        theirs = statistics.median(yaml[figure])
        pushed, pulled = statistics.median(uet[figure]), statistics.median(uet[f"{figure}_pull"])
        goal = figure if figure in GOALS else ""
        row("median, pushed", pushed * 1000, theirs * 1000, pushed / theirs, digits=1)
        row("median, pulled (uet only)", pulled * 1000, None, pulled / theirs, digits=1)
        row("median, the slower of the two", max(pushed, pulled) * 1000, theirs * 1000,
            max(pushed, pulled) / theirs, goal, digits=1)  # fmt: skip
        ours_p95 = max(p95(uet[figure]), p95(uet[f"{figure}_pull"]))
        row("p95, the slower of pushed and pulled", ours_p95 * 1000, p95(yaml[figure]) * 1000,
            ours_p95 / p95(yaml[figure]), digits=1)  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="start-up runs per server")
    parser.add_argument("--edits", type=int, default=100, help="edits per measurement")
    parser.add_argument("--parts", default="startup,edits,workspace", help="what to measure")
    parser.add_argument(
        "--default-collector", action="store_true", help="uet without its collector tuning"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    deps = yaml_ls.ensure_deps(["yaml-language-server"])
    with tempfile.TemporaryDirectory(prefix="uet-bench-lsp-") as temporary:
        root = Path(temporary)
        (root / "workstreams").mkdir()
        schema = yaml_ls.bundled_schema(root / "workstream_spec.bundled.schema.json")
        servers = Servers([deps["UET_YAML_LS"], "--stdio"], yaml_ls.settings(schema))
        if args.default_collector:
            log = os.environ.get("UET_BENCH_LOG", os.devnull)
            servers.uet_command = [sys.executable, "-c", DEFAULT_COLLECTOR, "serve",
                                   "--log-level", "error", "--log-file", log]  # fmt: skip
        if "startup" in parts:
            await startup(root, servers, args.runs)
        if "edits" in parts:
            for lines in EDIT_LINES:
                await edit_latency(root, servers, "uet", lines, False, args.edits)
                await edit_latency(root, servers, "uet", lines, True, args.edits)
                await edit_latency(root, servers, "yaml", lines, False, args.edits)
        workspace = await big_workspace(root) if "workspace" in parts else None
    print(f"yaml-language-server {yaml_ls.version(deps['UET_YAML_LS'])} (npm), "
          "given the workstream schema")  # fmt: skip
    report(servers, args.runs, args.edits)
    if workspace is not None:
        print(
            "1,000-artifact workspace (uet only): diagnosed "
            f"{workspace['from_initialize_s']:.2f} s after the initialize response "
            f"({workspace['from_spawn_s']:.2f} s after the spawn); RSS {workspace['rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    asyncio.run(main())
