"""Workspace trust: whether the user allowed uet to run commands in a workspace.

The editor never runs anything in a workspace the user has not trusted. The answer given
once (through the editor) is remembered per workspace folder in the user's state folder
(``$XDG_STATE_HOME/uet-lsp/trust.json``, default ``~/.local/state``), never inside the
workspace itself, so a cloned repository cannot mark itself as trusted.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["remember_trust", "trust_file", "trusted"]


def trust_file() -> Path:
    """Where the answers are kept."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "uet-lsp" / "trust.json"


def _load() -> dict[str, bool]:
    try:
        data = json.loads(trust_file().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): value for key, value in data.items() if isinstance(value, bool)}


def trusted(root: Path) -> bool | None:
    """The remembered answer for ``root``: True, False, or None when never asked."""
    return _load().get(str(root.resolve()))


def remember_trust(root: Path, answer: bool) -> None:
    """Remember ``answer`` for ``root`` (atomic write; concurrent writers: last one wins)."""
    answers = _load()
    answers[str(root.resolve())] = answer
    target = trust_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".trust-", dir=target.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(answers, handle, indent=2, sort_keys=True)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
