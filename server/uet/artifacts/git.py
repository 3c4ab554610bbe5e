"""The one way uet-lsp runs git: every call executes nothing a repository configures.

Opening, validating, scanning or indexing a folder must never run code the folder brings
with it, and a folder copied from an archive or a shared drive carries its ``.git/config``.
Git runs commands named there: ``core.fsmonitor`` on every index read, hooks, pagers,
external diff and textconv programs, clean/smudge filters chosen by ``.gitattributes``,
credential helpers, ssh commands, editors. So each call made here:

* overrides every such setting in command-line scope, which wins over the system, global,
  repository and ``include.path`` configuration. Settings keyed by a driver name
  (``filter.<name>.clean``, ``diff.<name>.textconv``, ...) are first listed from the
  repository's effective configuration and each emptied. The overrides travel in
  ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_<n>``/``GIT_CONFIG_VALUE_<n>`` (git 2.31+), which
  keep a key and its value apart even when a driver name holds ``=``; an older git is
  treated as absent;
* forbids every transport (``protocol.allow=never``) and implicit bare repositories;
* never takes an optional lock, so reading never rewrites the index;
* drops every inherited ``GIT_*`` variable (``GIT_DIR``, ``GIT_CONFIG_*``, ``GIT_SSH``,
  ``GIT_EXTERNAL_DIFF``, ...) that could redirect or extend what git does;
* runs the ``git`` found on the absolute entries of ``PATH`` (never one in the workspace),
  with stdin closed, no terminal prompt and a timeout.

The system and global configuration are still read: they belong to the user, not to the
folder. Aliases are never consulted (only built-in subcommands are run).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["GitResult", "executing_overrides", "git_environment", "run_git"]

DEFAULT_TIMEOUT_SECONDS = 60.0
# GIT_CONFIG_COUNT (config in the environment, in command-line scope) appeared in 2.31.
MINIMUM_VERSION = (2, 31)

# Settings that make git run a program, each given a value that runs nothing. An empty
# pager, askpass, ssh command or credential helper means "none" (an empty helper also
# resets the list configured before it); ":" is git's "no editor".
_FIXED_OVERRIDES: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("core.pager", ""),
    ("core.editor", ":"),
    ("sequence.editor", ":"),
    ("core.askPass", ""),
    ("core.sshCommand", ""),
    ("core.gitProxy", ""),
    ("core.alternateRefsCommand", ""),
    ("credential.helper", ""),
    ("diff.external", ""),
    ("diff.tool", ""),
    ("merge.tool", ""),
    ("gpg.program", ""),
    ("log.showSignature", "false"),
    ("uploadpack.packObjectsHook", ""),
    ("submodule.recurse", "false"),
    ("protocol.allow", "never"),
    ("safe.bareRepository", "explicit"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
)
# The last part of ``section.<name>.key`` settings that name a program: filter drivers
# (clean, smudge, process), diff drivers (command, textconv), merge drivers (driver),
# diff/merge tools (cmd, path), gpg formats (program), per-URL credential helpers (helper),
# remotes (uploadpack, receivepack, vcs, proxy), submodules (``update = !command``).
_DRIVER_KEYS = frozenset(
    {
        "clean",
        "smudge",
        "process",
        "command",
        "textconv",
        "driver",
        "cmd",
        "path",
        "program",
        "helper",
        "uploadpack",
        "receivepack",
        "vcs",
        "proxy",
        "update",
    }
)
# ``includeIf.<condition>.path`` names a config file, not a program (it is read, never run).
_NOT_DRIVERS = frozenset({"includeif"})
_GLOBAL_OPTIONS = ("--no-pager", "--no-optional-locks", "--no-replace-objects")
_VERSION = re.compile(rb"git version (\d+)\.(\d+)")


@dataclass(frozen=True, slots=True)
class GitResult:
    """What a git call printed and its exit status."""

    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        """True when git exited with status 0."""
        return self.returncode == 0


def run_git(
    args: Sequence[str], cwd: Path, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> GitResult | None:
    """Run ``git <args>`` in ``cwd`` with every executing setting neutralised.

    ``None`` when git cannot be used: not installed, older than 2.31, timed out or not
    startable. A non-zero exit status (not a repository, bad arguments) is a result.
    """
    program = _git_program()
    if program is None:
        return None
    base = git_environment(executing_overrides(()))
    drivers = _run(program, ("config", "--null", "--name-only", "--list"), cwd, base, timeout)
    if drivers is None:
        return None
    names = [os.fsdecode(name) for name in drivers.stdout.split(b"\x00") if name]
    environment = git_environment(executing_overrides(names if drivers.ok else ()))
    return _run(program, args, cwd, environment, timeout)


def executing_overrides(config_names: Iterable[str]) -> list[tuple[str, str]]:
    """The fixed overrides, plus an empty value for each driver setting among
    ``config_names`` (names as ``git config --name-only`` prints them)."""
    overrides = list(_FIXED_OVERRIDES)
    seen: set[str] = set()
    for name in config_names:
        section, _, rest = name.partition(".")
        _, dot, key = rest.rpartition(".")
        driver = dot and key.lower() in _DRIVER_KEYS and section.lower() not in _NOT_DRIVERS
        if driver and name not in seen:
            seen.add(name)
            overrides.append((name, ""))
    return overrides


def git_environment(overrides: Sequence[tuple[str, str]]) -> dict[str, str]:
    """This process's environment without any ``GIT_*`` variable, plus ``overrides`` in
    command-line scope, no optional locks and no terminal prompt."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment["GIT_OPTIONAL_LOCKS"] = "0"
    environment["GIT_TERMINAL_PROMPT"] = "0"
    environment["GIT_PROTOCOL_FROM_USER"] = "0"
    environment["GIT_CONFIG_COUNT"] = str(len(overrides))
    for index, (key, value) in enumerate(overrides):
        environment[f"GIT_CONFIG_KEY_{index}"] = key
        environment[f"GIT_CONFIG_VALUE_{index}"] = value
    return environment


def _run(
    program: str,
    args: Sequence[str],
    cwd: Path,
    environment: Mapping[str, str],
    timeout: float,
) -> GitResult | None:
    try:
        completed = subprocess.run(
            [program, *_GLOBAL_OPTIONS, *args],
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return GitResult(completed.returncode, completed.stdout, completed.stderr)


def _git_program() -> str | None:
    """The absolute path of a git that supports command-line config in the environment."""
    search = os.pathsep.join(
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if Path(entry).is_absolute()
    )
    program = shutil.which("git", path=search)
    if program is None or not _recent_enough(program):
        return None
    return program


@lru_cache(maxsize=8)
def _recent_enough(program: str) -> bool:
    """Whether ``program`` is git 2.31 or newer (asked once per program path)."""
    result = _run(
        program, ("version",), Path(program).parent, git_environment(()), DEFAULT_TIMEOUT_SECONDS
    )
    if result is None or not result.ok:
        return False
    found = _VERSION.search(result.stdout)
    return found is not None and (int(found[1]), int(found[2])) >= MINIMUM_VERSION
