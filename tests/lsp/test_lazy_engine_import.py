"""The run feature loads the engine lazily, in worker threads, from several places at once
(a run starting, the history reader, trust, the warm-up): engine modules imported from
different ends by two threads at once raised "partially initialized module" ImportErrors
(seen as a failed `uet.runWorkstream`). Every such load goes through one lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys, threading
from pathlib import Path
from uet.lsp import runtime
from uet.lsp.features.runs import store as runs_store, trust as runs_trust
from uet.lsp.features.bootstrap import DEFERRED_IMPORTS

root = Path(sys.argv[1])
barrier = threading.Barrier(6)
errors = []

def run(step):
    barrier.wait()
    try:
        step()
    except ImportError as error:
        errors.append(repr(error))

steps = [
    runs_store.load_engine,  # a run starting
    lambda: runs_trust._remembered(root),  # its trust question
    lambda: runtime.import_modules(DEFERRED_IMPORTS),  # the warm-up after a (re)start
    lambda: runtime.import_modules(["uet.engine.running.session", "uet.engine.running.control"]),
    lambda: runs_store.load_engine(),
    lambda: runtime.import_modules(["uet.engine.adapters.spawn", "uet.engine.running.resume"]),
]
threads = [threading.Thread(target=run, args=(step,)) for step in steps]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
import uet.engine.adapters.registry as registry
assert hasattr(registry, "AdapterRegistry")
print("errors:", errors)
sys.exit(1 if errors else 0)
"""


def test_threads_loading_the_engine_at_once_all_succeed(tmp_path: Path) -> None:
    for _ in range(8):  # a fresh interpreter each time: nothing of the engine loaded yet
        completed = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
