"""The executor seam: where the jobs of a run (one job = one task, all its attempts) run.

The scheduler hands :class:`Job`s to an :class:`Executor` and learns about outcomes from
the job handler; it never knows where a job ran. The default :class:`ThreadPoolExecutor`
runs jobs on a fixed set of threads created once per run (no thread per task), each job
spawning its subprocesses. A job is plain data (run id, task id): everything else is in the
run store, so a distributed executor can ship jobs to workers that open the same store.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import NamedTuple, Protocol

__all__ = ["Executor", "Job", "JobHandler", "ThreadPoolExecutor"]


class Job(NamedTuple):
    """Run every attempt of one task of one run."""

    run_id: str
    task_id: str


JobHandler = Callable[[Job], None]


class Executor(Protocol):
    """Runs jobs, at most :attr:`capacity` at a time."""

    @property
    def capacity(self) -> int:
        """How many jobs run at once."""
        ...

    def start(self, handler: JobHandler) -> None:
        """Begin accepting jobs; each is passed to ``handler`` (which never raises)."""
        ...

    def submit(self, job: Job) -> None:
        """Queue ``job``; it runs when capacity allows, in submission order."""
        ...

    def shutdown(self) -> None:
        """Run what is queued, then stop (blocks until every job has returned)."""
        ...


class ThreadPoolExecutor:
    """A fixed pool of worker threads fed by one queue."""

    def __init__(self, workers: int, name: str = "uet-worker") -> None:
        if workers < 1:
            raise ValueError("an executor needs at least one worker")
        self._workers = workers
        self._name = name
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    @property
    def capacity(self) -> int:
        """Number of worker threads."""
        return self._workers

    def start(self, handler: JobHandler) -> None:
        """Create the worker threads."""

        def work() -> None:
            while (job := self._queue.get()) is not None:
                handler(job)

        self._threads = [
            threading.Thread(target=work, name=f"{self._name}-{index}", daemon=True)
            for index in range(self._workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> None:
        """Queue ``job``."""
        self._queue.put(job)

    def shutdown(self) -> None:
        """Let the workers drain the queue, then join them."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []
