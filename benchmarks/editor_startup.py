"""Editor start-up: time from opening a broken workstream to its first diagnostics.

Measures, in the real editors and with the server's start included, uet against
yaml-language-server (the usual YAML server, given a JSON schema for the same file so that it
reports a diagnostic too):

- Neovim, headless (Debian's 0.7.2 and a current release): ``:edit`` of
  ``workstreams/ws-invalid.yaml`` until ``vim.diagnostic.get()`` returns its diagnostics;
  uet through this repository's plugin, yaml-language-server through ``vim.lsp.start``
  (``start_client`` on 0.7). Driver: ``editor_startup.lua``.
- VS Code (code-server + headless Chromium, as the editor suite drives it): the workbench
  loads with the file opened as the window loads (a restored editor) until the first error
  squiggle and the status bar's error count; uet through the packaged extension,
  yaml-language-server through a minimal client extension built here
  (``editor_startup_yaml_ext/``), since Red Hat's YAML extension is on the Marketplace only.
  Driver: ``editor_startup_vscode.mjs``; code-server is started anew for every run.

Every run gets a fresh copy of ``editor-clients/fixtures/workspace``; the two servers take
turns, run after run. Prints min and median per editor and server, the ratio
uet / yaml-language-server and, for the first diagnostics (Neovim) and the first squiggle
(VS Code), the verdict against issue 18's goal: no slower than yaml-language-server (the
ratio of the medians at most 1.0: PASS / MISSED). Installs what it needs through
``editor-clients/scripts/ensure-deps.sh`` (Debian packages, code-server and the extension's
npm packages, Neovim from PyPI, yaml-language-server from npm, all cached outside the
repository); nothing else from the network.

    .venv/bin/python benchmarks/editor_startup.py [--runs N] [--editors neovim,neovim-latest,vscode]

Figures vary with the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from yaml_ls import REPO, bundled_schema, ensure_deps
from yaml_ls import version as yaml_ls_version

HERE = REPO / "benchmarks"
CLIENTS = REPO / "editor-clients"
SCRIPTS = CLIENTS / "scripts"
FIXTURE = CLIENTS / "fixtures" / "workspace"
FILE = "workstreams/ws-invalid.yaml"
UET = REPO / ".venv" / "bin" / "uet"
SERVERS = ("uet", "yaml")
SERVER_LABELS = {"uet": "uet", "yaml": "yaml-language-server"}
GOALS = {"diagnostics_ms": 1.0, "squiggle_ms": 1.0}  # uet / yaml-language-server, at most
Result = dict[str, Any]


def fresh_workspace(scratch: Path, label: str) -> Path:
    """A new copy of the editor tests' fixture workspace."""
    workspace = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=scratch))
    shutil.copytree(FIXTURE, workspace, dirs_exist_ok=True)
    return workspace


# --- Neovim -------------------------------------------------------------------------------


def neovim_run(nvim: str, server: str, scratch: Path, deps: dict[str, str], schema: Path) -> Result:
    """One headless Neovim: ``:edit`` the file, wait for its diagnostics (editor_startup.lua)."""
    workspace = fresh_workspace(scratch, f"nvim-{server}")
    env = {
        **os.environ,
        "PATH": f"{UET.parent}:{os.environ['PATH']}",
        "BENCH_SERVER": server,
        "BENCH_FILE": str(workspace / FILE),
        "BENCH_ROOT": str(workspace),
        "BENCH_YAML_LS": deps["UET_YAML_LS"],
        "BENCH_SCHEMA": str(schema),
        # Neovim's state, shada and LSP log stay in the scratch folder
        **xdg_dirs(workspace.parent / "nvim"),
    }
    command = [
        nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n",
        "--cmd", f"set rtp^={CLIENTS / 'neovim'}", "-c", f"luafile {HERE / 'editor_startup.lua'}",
    ]  # fmt: skip
    done = subprocess.run(
        command,
        check=False,
        cwd=workspace,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return parse_result(done.stdout, done.stderr)


def parse_result(stdout: str, stderr: str) -> Result:
    """The JSON line a driver printed last, or an error naming what it said instead."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            result: Result = json.loads(line)
            return result
    return {"error": (stdout + stderr).strip()[-300:] or "no output"}


# --- VS Code (code-server + Chromium) -----------------------------------------------------


def build_yaml_probe(scratch: Path, deps: dict[str, str]) -> Path:
    """Bundles and packages editor_startup_yaml_ext/ as a .vsix (esbuild + vsce from the cache)."""
    source = HERE / "editor_startup_yaml_ext"
    build = scratch / "yaml-probe"
    build.mkdir()
    # esbuild resolves imports beside the source: copy it next to the cached node_modules
    for name in ("package.json", "extension.src.js"):
        shutil.copy(source / name, build / name)
    (build / "node_modules").symlink_to(deps["UET_NODE_MODULES"])
    tools = Path(deps["UET_NODE_MODULES"]) / ".bin"
    subprocess.run(
        [tools / "esbuild", "extension.src.js", "--bundle", "--platform=node",
         "--format=cjs", "--external:vscode", "--outfile=extension.js", "--log-level=warning"],
        cwd=build, check=True,
    )  # fmt: skip
    (build / "node_modules").unlink()
    (build / "extension.src.js").unlink()
    vsix = scratch / "yaml-ls-probe.vsix"
    subprocess.run(
        [tools / "vsce", "package", "--no-dependencies", "--skip-license",
         "--allow-missing-repository", "--out", str(vsix)],
        cwd=build, check=True, stdin=subprocess.DEVNULL, capture_output=True,
    )  # fmt: skip
    return vsix


def build_uet_vsix() -> Path:
    """The packaged uet extension, built as the editor suite builds it."""
    out = subprocess.run(
        ["bash", str(SCRIPTS / "build-vsix.sh")], check=True, capture_output=True, text=True
    ).stdout
    return Path(out.strip().splitlines()[-1])


def code_server_profile(
    scratch: Path, server: str, vsix: Path, deps: dict[str, str], schema: Path
) -> Path:
    """A user-data folder with only ``vsix`` installed and settings for its server."""
    profile = scratch / f"code-server-{server}"
    (profile / "user" / "User").mkdir(parents=True)
    settings: dict[str, Any] = {
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.enableExperiments": False,
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "extensions.autoUpdate": False,
        "extensions.autoCheckUpdates": False,
        "update.mode": "none",
    }
    if server == "uet":
        settings |= {"uet.server.path": str(UET), "uet.trustedWorkspace": True}
    else:
        settings |= {
            "yamlProbe.serverPath": deps["UET_YAML_LS"],
            "yaml.validate": True,
            "yaml.schemaStore.enable": False,
            "yaml.schemas": {schema.as_uri(): "*.yaml"},
        }
    (profile / "user" / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
    subprocess.run(
        [deps["UET_CODE_SERVER"], "--user-data-dir", str(profile / "user"),
         "--extensions-dir", str(profile / "extensions"), "--install-extension", str(vsix)],
        check=True, capture_output=True, env=code_server_env(profile),
    )  # fmt: skip
    return profile


def code_server_env(profile: Path) -> dict[str, str]:
    """code-server's own config and data stay in the profile folder."""
    return {**os.environ, **xdg_dirs(profile)}


def xdg_dirs(base: Path) -> dict[str, str]:
    """XDG_*_HOME under ``base``: an editor's config, data, state and cache out of the home."""
    kinds = ("CONFIG", "DATA", "STATE", "CACHE")
    return {f"XDG_{kind}_HOME": str(base / f"xdg-{kind.lower()}") for kind in kinds}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def code_server(deps: dict[str, str], profile: Path, workspace: Path) -> Iterator[str]:
    """A code-server on loopback for one run (a new extension host, so a new language server)."""
    port = free_port()
    log = (profile / "code-server.log").open("a")
    process = subprocess.Popen(
        [deps["UET_CODE_SERVER"], "--auth", "none", "--bind-addr", f"127.0.0.1:{port}",
         "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
         "--disable-getting-started-override", "--user-data-dir", str(profile / "user"),
         "--extensions-dir", str(profile / "extensions"), str(workspace)],
        stdout=log, stderr=subprocess.STDOUT, env=code_server_env(profile), start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        # code-server, its extension host and the language server it started: one group
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def vscode_run(server: str, profile: Path, scratch: Path, deps: dict[str, str]) -> Result:
    """One workbench load with the file opened as the window loads (editor_startup_vscode.mjs)."""
    workspace = fresh_workspace(scratch, f"vscode-{server}")
    with code_server(deps, profile, workspace) as base:
        driver = HERE / "editor_startup_vscode.mjs"
        done = subprocess.run(
            ["node", str(driver), base, str(workspace), str(workspace / FILE)],
            env={**os.environ, "UET_NODE_MODULES": deps["UET_NODE_MODULES"]},
            check=False, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    result = parse_result(done.stdout, done.stderr)
    if "squiggle_ms" in result:
        result["shown_to_squiggle_ms"] = result["squiggle_ms"] - result["editor_ms"]
    return result


# --- report -------------------------------------------------------------------------------


def summary(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{min(values):6.0f} / {statistics.median(values):6.0f}"


def ratio(uet: list[float], yaml: list[float], pick: Any) -> str:
    if not uet or not yaml:
        return "—"
    return f"{pick(uet) / pick(yaml):.2f}"


def report(rows: list[tuple[str, str, dict[str, list[Result]]]], runs: int) -> None:
    """One table: per editor and measure, min / median ms of each server and their ratios."""
    print()
    print(f"open file -> first diagnostics, server start included; min / median ms of {runs} runs")
    head = (
        f"{'editor':<20} {'measure':<28} {'uet':>15} {'yaml-language-server':>21} "
        f"{'ratio min':>10} {'ratio med':>10}  verdict"
    )
    print(head)
    print("-" * len(head))
    for editor, key, results in rows:
        uet = [r[key] for r in results["uet"] if key in r]
        yaml = [r[key] for r in results["yaml"] if key in r]
        measure = MEASURES[key]
        verdict = ""
        if key in GOALS and uet and yaml:
            met = statistics.median(uet) / statistics.median(yaml) <= GOALS[key]
            verdict = f"{'PASS' if met else 'MISSED'} (<= {GOALS[key]})"
        print(
            f"{editor:<20} {measure:<28} {summary(uet):>15} {summary(yaml):>21} "
            f"{ratio(uet, yaml, min):>10} {ratio(uet, yaml, statistics.median):>10}  {verdict}"
        )


MEASURES = {
    "initialized_ms": ":edit -> initialize answered",
    "diagnostics_ms": ":edit -> first diagnostics",
    "workbench_ms": "page load -> workbench",
    "editor_ms": "page load -> file shown",
    "squiggle_ms": "page load -> first squiggle",
    "problems_ms": "page load -> Problems count",
    "shown_to_squiggle_ms": "file shown -> first squiggle",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="runs per editor and server (default 5)"
    )
    parser.add_argument(
        "--editors",
        default="neovim,neovim-latest,vscode",
        help="comma-separated: neovim (0.7.2), neovim-latest (0.11.4), vscode (default: all)",
    )
    args = parser.parse_args()
    editors = args.editors.split(",")
    if not UET.exists():
        print(
            f"no uet executable at {UET}: run `make test` first (it creates .venv)", file=sys.stderr
        )
        return 2
    parts = ["apt", "neovim-latest", "yaml-language-server"]
    if "vscode" in editors:
        parts += ["node", "code-server"]
    deps = ensure_deps(parts)
    rows: list[tuple[str, str, dict[str, list[Result]]]] = []
    with tempfile.TemporaryDirectory(prefix="uet-editor-startup-") as tmp:
        scratch = Path(tmp)
        schema = bundled_schema(scratch / "workstream_spec.bundled.schema.json")
        nvims = {"neovim": "nvim", "neovim-latest": deps["UET_NVIM_LATEST"]}
        for editor in editors:
            results: dict[str, list[Result]] = {server: [] for server in SERVERS}
            if editor in nvims:
                version = subprocess.run(
                    [nvims[editor], "--version"], check=True, capture_output=True, text=True
                ).stdout
                label = version.splitlines()[0].replace("NVIM v", "Neovim ")
                for run in range(args.runs):
                    for server in SERVERS:
                        results[server].append(
                            neovim_run(nvims[editor], server, scratch, deps, schema)
                        )
                        show(label, server, run, results[server][-1])
                rows += [(label, key, results) for key in ("initialized_ms", "diagnostics_ms")]
            elif editor == "vscode":
                label = (
                    "code-server " + deps["UET_CODE_SERVER"].split("code-server-")[1].split("/")[0]
                )
                vsix = {"uet": build_uet_vsix(), "yaml": build_yaml_probe(scratch, deps)}
                profiles = {
                    s: code_server_profile(scratch, s, vsix[s], deps, schema) for s in SERVERS
                }
                for run in range(args.runs):
                    for server in SERVERS:
                        results[server].append(vscode_run(server, profiles[server], scratch, deps))
                        show(label, server, run, results[server][-1])
                rows += [
                    (label, key, results)
                    for key in (
                        "workbench_ms",
                        "editor_ms",
                        "squiggle_ms",
                        "problems_ms",
                        "shown_to_squiggle_ms",
                    )
                ]
            else:
                print(f"unknown editor: {editor}", file=sys.stderr)
                return 2
    report(rows, args.runs)
    print(
        f"yaml-language-server {yaml_ls_version(deps['UET_YAML_LS'])} (npm), given a JSON schema"
        " for the same file",
        end="",
    )
    if "vscode" in editors:
        print(
            "; in VS Code through a minimal client extension built here\n"
            "(benchmarks/editor_startup_yaml_ext: Red Hat's YAML extension is on the Marketplace"
            " only); VS Code times include loading the workbench and the extension host",
            end="",
        )
    print()
    return 0


def show(editor: str, server: str, run: int, result: Result) -> None:
    """One run's figures as they come in."""
    timings = sorted((value, key) for key, value in result.items() if key.endswith("_ms"))
    figures = ", ".join(f"{key.removesuffix('_ms')} {value:.0f}" for value, key in timings)
    if "error" in result:
        figures += f"  (error: {result['error']})"
    elif "diagnostics" in result:
        figures += f"  ({result['diagnostics']} diagnostics, first: {result['first'][:60]})"
    print(f"{editor} {SERVER_LABELS[server]:<21} run {run + 1}: {figures}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
