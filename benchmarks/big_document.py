"""Responsiveness and memory of ``uet serve`` while it checks one very big document (issue 15).

Drives the server over stdio with the plain JSON-RPC client of ``lsp_client.py`` (no pygls
on the client side), with ``uet.maxFileSize`` raised so that the big document is checked,
and prints:

- hover latency (median / p95) on a small document of the same workspace, first with no
  big document (the anchor), then while a generated YAML workstream of ``--megabytes`` MB
  is being checked (goal: p95 <= 100 ms);
- the time from opening the big document to its first diagnostics;
- the server's peak resident memory (``VmHWM``) against the size of the big document.

Usage: ``python benchmarks/big_document.py [--megabytes N] [--samples N]
[--invalid-every N]``. With ``--invalid-every`` validation finds problems (the server sends
at most 1,000 of them). ``UET_BENCH_LOG=FILE UET_BENCH_LOG_LEVEL=debug`` keep the server's
log. Figures vary with the machine; this script asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lsp_client import Client

GOALS = {"hover_p95_ms": 100.0}


def workstream(size: int, name: str, invalid_every: int = 0) -> str:
    """A YAML workstream of at least ``size`` bytes (a chain of tasks); with
    ``invalid_every``, every such task has a kind of the wrong type (UET201)."""
    parts = [
        f"workstream_id: WS-{name}\nproject_id: PRJ-BENCH\nphase_id: PH-BENCH\n"
        f"name: Bench {name}\nobjective: Keep the server busy.\n"
        "error_handling:\n  strategy: fail_fast\ntasks:\n"
    ]
    total = len(parts[0])
    number = 0
    while total < size:
        kind = "7" if invalid_every and number % invalid_every == 0 else "lint"
        task = (
            f"  - task_id: task-{number}\n    name: Task number {number} of {name}\n"
            f"    kind: {kind}\n"
        )
        if number:
            task += f"    depends_on: [task-{number - 1}]\n"
        parts.append(task)
        total += len(task)
        number += 1
    return "".join(parts)


def peak_rss_mb(client: Client) -> float:
    """The server's peak resident memory so far (``VmHWM``)."""
    status = Path(f"/proc/{client.process.pid}/status").read_text()
    line = next(item for item in status.splitlines() if item.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def figures(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def open_document(client: Client, uri: str, text: str, version: int = 1) -> None:
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}},
    )


async def hover(client: Client, uri: str) -> float:
    started = time.perf_counter()
    answer = await client.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": 4, "character": 3}},
    )
    assert answer is not None, "no hover"
    return time.perf_counter() - started


async def hovers(
    client: Client, uri: str, samples: int, until: asyncio.Future[Any] | None = None
) -> list[float]:
    """``samples`` hovers 20 ms apart, or with ``until``: as many as fit before it is done."""
    found: list[float] = []
    while not until.done() if until is not None else len(found) < samples:
        found.append(await hover(client, uri))
        await asyncio.sleep(0.02)
    return found


async def main(arguments: argparse.Namespace) -> None:
    size = int(arguments.megabytes * 1_000_000)
    with tempfile.TemporaryDirectory(prefix="uet-bench-big-") as folder:
        root = Path(folder).resolve()
        (root / "workstreams").mkdir()
        small = root / "workstreams" / "small.yaml"
        small.write_text(workstream(2_000, "SMALL"))
        client, _ = await Client.start()
        options = {"maxFileSize": 4 * size}
        await client.initialize(root, pull=False, initialization_options=options)
        await asyncio.wait_for(client.progress_done.wait(), 60)
        small_uri = small.as_uri()
        opened = client.expect_diagnostics(small_uri, 1)
        open_document(client, small_uri, small.read_text())
        await asyncio.wait_for(opened, 60)
        await hovers(client, small_uri, 10)  # warm-up
        anchor = await hovers(client, small_uri, arguments.samples)
        before_mb = peak_rss_mb(client)

        text = workstream(size, "BIG", arguments.invalid_every)
        big_uri = (root / "workstreams" / "big.yaml").as_uri()  # an editor buffer only
        diagnosed = client.expect_diagnostics(big_uri, 1)
        started = time.perf_counter()
        open_document(client, big_uri, text)
        del text
        busy = await hovers(client, small_uri, 0, until=diagnosed)
        found = await asyncio.wait_for(diagnosed, 600)
        first_diagnostics = time.perf_counter() - started
        peak_mb = peak_rss_mb(client)
        await client.close()

    anchor_median, anchor_p95 = figures(anchor)
    busy_median, busy_p95 = figures(busy)
    megabytes = size / 1_000_000
    invalid = f", every {arguments.invalid_every}th task invalid" if arguments.invalid_every else ""
    print(f"big document: {megabytes:.0f} MB YAML workstream{invalid}, opened as an editor buffer")
    print(f"{'hover':<30}{'median':>10}{'p95':>10}{'max':>10}{'n':>6}")
    print(
        f"{'no big document (anchor)':<30}{anchor_median:>8.1f}ms{anchor_p95:>8.1f}ms"
        f"{max(anchor) * 1000:>8.1f}ms{len(anchor):>6}"
    )
    print(
        f"{'while the big one is checked':<30}{busy_median:>8.1f}ms{busy_p95:>8.1f}ms"
        f"{max(busy) * 1000:>8.1f}ms{len(busy):>6}"
    )
    codes = sorted({str(item.get("code")) for item in found})
    print(
        f"big document: first diagnostics after {first_diagnostics:.1f} s "
        f"({len(found)} diagnostic(s){': ' + ', '.join(codes) if codes else ''})"
    )
    print(
        f"server peak RSS: {peak_mb:.0f} MB ({before_mb:.0f} MB before the big document; "
        f"{(peak_mb - before_mb) / megabytes:.1f}x the document's size above that)"
    )
    print(
        f"goal: hover p95 <= {GOALS['hover_p95_ms']:.0f} ms while it is checked: "
        f"{'met' if busy_p95 <= GOALS['hover_p95_ms'] else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--samples", type=int, default=100, help="anchor hovers")
    parser.add_argument(
        "--invalid-every", type=int, default=0, metavar="N",
        help="every N-th task of the big document is invalid (0: none)",
    )  # fmt: skip
    asyncio.run(main(parser.parse_args()))
