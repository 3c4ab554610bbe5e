"""What the server loads when, and the collector tuning of ``uet serve``
(``uet.lsp.runtime``): features register without importing what they use lazily, the
deferred modules exist and are imported after ``initialized``, and the collector is frozen
(after the start-up imports and after a full index) and re-tuned only in the server
process.

Each check of process-wide state (``sys.modules``, ``gc``) runs in a fresh interpreter.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

from .test_serve import TIMEOUT, RawClient, _finish, _serve, initialize, profile_params

LAZY = (
    "uet.bootstrap",
    "uet.engine",
    "uet.lsp.features.bootstrap.flow",
    "uet.artifacts.editing",
    "uet.artifacts.quickfix",
    "uet.artifacts.outline",
    "uet.artifacts.navigation",
)


def python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=TIMEOUT
    )
    return done.stdout.strip()


def test_registering_the_features_imports_no_deferred_module() -> None:
    loaded = python(
        "import sys, json\n"
        "from uet.lsp.server import create_server\n"
        "server = create_server()\n"
        f"lazy = {LAZY!r}\n"
        "print(json.dumps({'loaded': sorted(n for n in sys.modules if n.startswith(lazy)),"
        " 'deferred': server.state.hooks.deferred_imports}))\n"
    )
    found = json.loads(loaded)
    assert found["loaded"] == []
    assert set(found["deferred"]) >= {
        "uet.bootstrap",
        "uet.artifacts.editing",
        "uet.artifacts.quickfix",
        "uet.artifacts.outline",
        "uet.artifacts.navigation",
    }


def test_the_deferred_modules_import() -> None:
    output = python(
        "from uet.lsp import runtime\n"
        "from uet.lsp.server import create_server\n"
        "names = create_server().state.hooks.deferred_imports\n"
        "runtime.import_modules(names)\n"
        "print(all(runtime.imported(name) for name in names), runtime.imported('no.such'))\n"
    )
    assert output == "True False"


def test_a_module_another_thread_still_imports_is_not_imported(tmp_path: Path) -> None:
    """``runtime.imported`` says no while a worker's ``import_modules`` is still running
    the module (it is in ``sys.modules`` already), yes once that import finished."""
    (tmp_path / "slow_module.py").write_text(
        "import builtins\nbuiltins.slow_started.set()\nbuiltins.slow_release.wait(60)\n",
        "utf-8",
    )
    output = python(
        "import builtins, sys, threading\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from uet.lsp import runtime\n"
        "builtins.slow_started, builtins.slow_release = threading.Event(), threading.Event()\n"
        "worker = threading.Thread(target=runtime.import_modules, args=(['slow_module'],))\n"
        "worker.start()\n"
        "builtins.slow_started.wait(60)\n"
        "during = ('slow_module' in sys.modules, runtime.imported('slow_module'))\n"
        "builtins.slow_release.set()\n"
        "worker.join(60)\n"
        "print(*during, runtime.imported('slow_module'))\n"
    )
    assert output == "True False True"


def test_settle_freezes_and_raises_the_gen0_threshold() -> None:
    output = python(
        "import gc\n"
        "from uet.lsp import runtime\n"
        "from uet.lsp.server import create_server\n"
        "create_server()\n"
        "runtime.settle()\n"
        "frozen = gc.get_freeze_count()\n"
        "kept = [[] for _ in range(1000)]  # tracked by the collector\n"
        "runtime.freeze_long_lived()\n"
        "print(gc.isenabled(), gc.get_threshold()[0], frozen > 10000,"
        " gc.get_freeze_count() >= frozen + 1000)\n"
    )
    assert output == "True 50000 True True"


def test_an_in_process_server_leaves_the_collector_alone() -> None:
    output = python(
        "import gc\n"
        "before = gc.get_threshold()\n"
        "from uet.lsp.server import create_server\n"
        "server = create_server()\n"
        "print(server.manage_gc, gc.get_threshold() == before, gc.get_freeze_count())\n"
    )
    assert output == "False True 0"


async def test_serve_freezes_after_start_up_and_index_and_warms_up(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "workstreams").mkdir(parents=True)
    (workspace / "workstreams" / "w.yaml").write_text("workstream_id: WS-1\n", "utf-8")
    log = tmp_path / "server.log"
    process = await _serve(log)
    assert process.stdout is not None
    client = RawClient(process.stdout, process.stdin)
    params = profile_params("neovim", workspace)
    params["capabilities"]["window"]["workDoneProgress"] = False  # no server requests to answer
    async with asyncio.timeout(TIMEOUT):
        client.send(initialize(params))
        await client.response(1)
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        while "deferred module(s)" not in log.read_text("utf-8") or len(freezes(log)) < 2:
            await asyncio.sleep(0.05)
        await _finish(client, process)
    text = log.read_text("utf-8")
    start_up, index = freezes(log)[:2]
    assert start_up < text.index("indexed 1 file(s)") < index  # the index is frozen with it


def freezes(log: Path) -> list[int]:
    """Where the server logged a freeze (``uet.lsp.runtime``), in order."""
    text = log.read_text("utf-8")
    return [match.start() for match in re.finditer(r"gc: \d+ object\(s\) frozen", text)]
