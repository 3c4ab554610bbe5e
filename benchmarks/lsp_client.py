"""The plain JSON-RPC client the language-server benchmarks drive ``uet serve`` with.

No pygls on the client side: the benchmarks time the server exactly as an editor sees it,
so the client only frames messages (``Content-Length``), matches responses to requests,
answers the server's requests (``workspace/configuration`` from the sections it was given,
``null`` for the others; everything else with ``null``) and records what the benchmarks look
at: pushed diagnostics (awaited through :meth:`Client.expect_diagnostics`) and
``$/progress`` notifications (with their arrival time). It drives ``uet serve`` or, given
its command, another server (yaml-language-server, the anchor of ``lsp_latency.py``). Used
by ``lsp_latency.py`` and ``lsp_during_run.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Client", "ResponseError"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ResponseError(RuntimeError):
    """The server answered a request with an error."""


class Client:
    """A minimal LSP client over the server's stdin/stdout."""

    def __init__(
        self, process: asyncio.subprocess.Process, configuration: dict[str, Any] | None = None
    ) -> None:
        self.process = process
        self.configuration = configuration or {}  # workspace/configuration: section → value
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.waiters: list[tuple[str, Any, Callable[[list[Any]], bool], asyncio.Future[Any]]] = []
        self.progress: list[tuple[float, str, dict[str, Any]]] = []  # (time, token, value)
        self.progress_done: asyncio.Event = asyncio.Event()  # any progress has ended
        self.output_ended = False
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, command: list[str] | None = None, configuration: dict[str, Any] | None = None
    ) -> tuple[Client, float]:
        """Spawn ``uet serve`` (or ``command``); returns the client and the ``perf_counter``
        of the spawn. ``configuration``: what ``workspace/configuration`` answers, by section.

        ``UET_BENCH_LOG=FILE UET_BENCH_LOG_LEVEL=debug`` keep uet's log (per-request
        timings); by default it logs errors only, to nowhere.
        """
        if command is None:
            level = os.environ.get("UET_BENCH_LOG_LEVEL", "error")
            log = os.environ.get("UET_BENCH_LOG", os.devnull)
            command = [
                sys.executable,
                "-m",
                "uet",
                "serve",
                "--log-level",
                level,
                "--log-file",
                log,
            ]
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        return cls(process, configuration), started

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def request(self, method: str, params: Any) -> Any:
        """Send a request and return its result (:class:`ResponseError` for an error)."""
        number = next(self.ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.output_ended:
            raise ResponseError(f"{method}: the server's output ended")
        self.pending[number] = future
        self.send({"id": number, "method": method, "params": params})
        return await future

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    async def initialize(
        self, root: Path, pull: bool, *, initialization_options: Any = None
    ) -> float:
        """``initialize`` (+ ``initialized``) as an editor with work-done progress and
        markdown hovers; ``pull``: with pull diagnostics. Returns the round-trip seconds."""
        capabilities: dict[str, Any] = {
            "workspace": {"configuration": True},
            "window": {"workDoneProgress": True},
            "textDocument": {
                "synchronization": {"didSave": True},
                "hover": {"contentFormat": ["markdown", "plaintext"]},
            },
        }
        if pull:
            capabilities["textDocument"]["diagnostic"] = {"dynamicRegistration": False}
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "rootUri": root.as_uri(),
            "capabilities": capabilities,
        }
        if initialization_options is not None:
            params["initializationOptions"] = initialization_options
        started = time.perf_counter()
        await self.request("initialize", params)
        elapsed = time.perf_counter() - started
        self.notify("initialized", {})
        return elapsed

    def expect_diagnostics(
        self, uri: str, version: int | None, where: Callable[[list[Any]], bool] | None = None
    ) -> asyncio.Future[Any]:
        """A future of the next ``publishDiagnostics`` of ``uri`` (with ``version``, unless
        ``None``) whose diagnostics satisfy ``where`` (if given)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiters.append((uri, version, where, future))
        return future

    def ended(self, token: str) -> bool:
        """Whether the progress ``token`` has ended."""
        return any(seen == token and value["kind"] == "end" for _, seen, value in self.progress)

    async def until_ended(self, token: str, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ended(token):
            if time.monotonic() > deadline:
                raise TimeoutError(f"progress {token} did not end")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        """``shutdown`` and ``exit``; a server still running 30 s later is killed, and that
        is an error."""
        await asyncio.wait_for(self.request("shutdown", None), 30)
        self.notify("exit", None)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        finally:
            self.reader.cancel()

    def rss_mb(self) -> float:
        """The server's resident memory."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(item for item in status.splitlines() if item.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (all its threads, user + system;
        not its children)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    async def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = await stream.readline()
                if not line:
                    self._ended()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self._dispatch(json.loads(await stream.readexactly(length)))

    def _ended(self) -> None:
        """The server closed its output: whatever still waits for it fails instead of
        waiting forever (a server that crashed at start never answers ``initialize``)."""
        self.output_ended = True
        waiting = [*self.pending.values(), *(waiter[-1] for waiter in self.waiters)]
        for future in waiting:
            if not future.done():
                future.set_exception(ResponseError("the server's output ended"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message and "method" not in message:
            future = self.pending.pop(message["id"], None)
            if future is not None and not future.done():
                if "error" in message:
                    future.set_exception(ResponseError(message["error"].get("message")))
                else:
                    future.set_result(message.get("result"))
            return
        method = message.get("method")
        if "id" in message:  # a server→client request: configuration, registration, ...
            result: Any = None
            if method == "workspace/configuration":
                items = message["params"]["items"]
                result = [self.configuration.get(item.get("section")) for item in items]
            self.send({"id": message["id"], "result": result})
            return
        params = message.get("params") or {}
        if method == "$/progress":
            value = params.get("value", {})
            self.progress.append((time.monotonic(), str(params["token"]), value))
            if value.get("kind") == "end":
                self.progress_done.set()
        elif method == "textDocument/publishDiagnostics":
            for waiter in list(self.waiters):
                uri, version, where, future = waiter
                if uri != params["uri"] or (where and not where(params["diagnostics"])):
                    continue
                if version is None or params.get("version") == version:
                    self.waiters.remove(waiter)
                    if not future.done():
                        future.set_result(params["diagnostics"])
