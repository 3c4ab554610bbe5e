"""Python runtime tuning of the long-running server: the cyclic garbage collector, and
importing in a worker thread the modules features load lazily.

Why: once pygls, lsprotocol and the domain packages are loaded the server holds tens of
thousands of objects (many more with a big workspace index), and CPython's default
collector re-scans all of them in every full collection. Each edit leaves a new parse tree
behind, so editing a 2,200-line workstream triggered a full collection every few edits,
and those edits waited for it: the slowest twentieth of them took about twice as long
without the tuning below (``benchmarks/lsp_latency.py --default-collector``; figures in
benchmarks/README.md). So:

- ``settle`` (once the start-up imports are done) and ``freeze_long_lived`` (after each
  full index sync): ``gc.freeze()`` moves everything alive to the permanent generation,
  which collections skip; ``settle`` also raises the gen-0 threshold to
  ``GEN0_THRESHOLD``, so that the short-lived objects of a check die by reference counting
  before a collection would promote them.
- Frozen objects are still freed by reference counting when dropped (artifact trees and
  reports hold no reference cycles). A garbage cycle frozen by mistake stays for good, so a
  young-generation collection (cheap) runs before each freeze; a full one (which scans
  everything) does not, and the few hundred old garbage objects it would free are kept
  instead.
- ``paused_collector`` (around the check of a big document, in its worker thread): parsing
  many megabytes of YAML allocates millions of objects, and the collections they trigger
  scan them all while holding the GIL, for seconds, during which every other request
  waited. Automatic collection is paused while such a check runs and what it built is
  frozen before collection resumes, so no later collection scans it either. The price: a
  garbage cycle created anywhere during that time is frozen too and stays (a few small
  asyncio cycles at most; trees and reports hold none).

Only ``uet serve`` tunes the collector (``uet.cli.commands_server`` sets
``UetLanguageServer.manage_gc``; the freezes happen only then): in-process tests leave it
alone.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = [
    "GEN0_THRESHOLD",
    "IMPORT_LOCK",
    "freeze_long_lived",
    "import_modules",
    "imported",
    "paused_collector",
    "settle",
]

log = logging.getLogger("uet.lsp")

# Held by every worker thread that imports modules lazily. Two threads importing one
# package's circular modules from different ends at once get a "partially initialized
# module" ImportError (Python's import locks break the deadlock that way); one at a time,
# the same imports always succeed.
IMPORT_LOCK = threading.RLock()
# The modules ``import_modules`` has imported: their import finished (in whichever thread).
_imported: set[str] = set()

# Net allocations of tracked objects between gen-0 collections. Checking a 2,200-line
# document allocates tens of thousands of objects that die by reference counting soon
# after; at CPython's 700 they are scanned and promoted while still in use, and the
# promotions drive the full collections. At 50,000 an edit of that size triggers about no
# collection, and a gen-0 pass (at most 50,000 young objects) stays short.
GEN0_THRESHOLD = 50_000


class _Pauses:
    """How many big checks run with automatic collection paused (any thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.managed = False  # set by ``settle``: only ``uet serve`` tunes the collector


_pauses = _Pauses()


def settle() -> None:
    """After the start-up imports: freeze what they left and run the collector with the
    server's gen-0 threshold."""
    freeze_long_lived()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
    _pauses.managed = True


def freeze_long_lived() -> None:
    """Freeze what is alive now (the start-up modules, the index after a full sync)."""
    started = time.perf_counter()
    gc.collect(1)  # young garbage cycles must not become permanent
    gc.freeze()
    log.debug(
        "gc: %d object(s) frozen in %.1f ms",
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )


@contextmanager
def paused_collector() -> Iterator[None]:
    """Pause automatic collection while a worker builds a big tree; freeze what is alive
    when the last such check ends, then collect as before. A no-op unless ``settle`` ran."""
    if not _pauses.managed:
        yield
        return
    with _pauses.lock:
        _pauses.running += 1
        gc.disable()
    try:
        yield
    finally:
        with _pauses.lock:
            _pauses.running -= 1
            if _pauses.running == 0:
                gc.freeze()  # no collection ever scans the tree; reference counts free it
                gc.enable()


def import_modules(names: Iterable[str]) -> float:
    """Import ``names`` (in a worker thread); returns the seconds it took."""
    started = time.perf_counter()
    with IMPORT_LOCK:
        for name in dict.fromkeys(names):
            importlib.import_module(name)
            _imported.add(name)
    return time.perf_counter() - started


def imported(name: str) -> bool:
    """Whether ``import_modules`` has imported ``name``, so that the event loop can use it
    without waiting: a module merely present in ``sys.modules`` may still be initializing
    in another thread, and importing it then would block on its import lock."""
    return name in _imported
