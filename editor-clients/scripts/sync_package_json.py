"""Keeps editor-clients/vscode/package.json in step with the server: its ``version`` is the
uet-lsp version, and ``contributes.configuration`` is generated from the server's settings
model (``uet.settings.configuration_contributions``) plus the settings only the extension
reads (``uet.server.path``, ``uet.trace.server``). One source, so the two cannot drift:

    python editor-clients/scripts/sync_package_json.py          # rewrite package.json
    python editor-clients/scripts/sync_package_json.py --check  # exit 1 and show the drift

Run it with the project's interpreter (the one that has ``uet`` installed); it falls back to
the source tree's ``server/`` folder when ``uet`` is not importable.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

CLIENTS = Path(__file__).resolve().parents[1]
REPO = CLIENTS.parent
PACKAGE_JSON = CLIENTS / "vscode" / "package.json"

# Settings that only the VS Code extension reads; the server never sees them (the
# extension's settings middleware removes `server` and `trace` from the `uet` section).
CLIENT_SETTINGS: dict[str, dict[str, Any]] = {
    "uet.server.path": {
        "type": "string",
        "default": "",
        "scope": "machine-overridable",
        "markdownDescription": (
            "The `uet` executable, or a Python interpreter that has uet-lsp installed (it is "
            "started as `python -m uet serve`). Empty: `uet` on `PATH`, else a workspace "
            "`.venv`, else the interpreter selected in the Python extension. "
            "`${workspaceFolder}` and `~` are expanded. Changing it restarts the server."
        ),
    },
    "uet.trace.server": {
        "type": "string",
        "enum": ["off", "messages", "verbose"],
        "default": "off",
        "scope": "window",
        "markdownDescription": (
            "Log the LSP messages between VS Code and the UET server to its output channel."
        ),
    },
}


def _import_settings() -> Any:
    try:
        import uet.settings as settings_module
    except ImportError:
        sys.path.insert(0, str(REPO / "server"))
        import uet.settings as settings_module
    return settings_module


def _version() -> str:
    try:
        from uet import __version__
    except ImportError:
        sys.path.insert(0, str(REPO / "server"))
        from uet import __version__
    return str(__version__)


def generated_configuration() -> dict[str, Any]:
    """The ``contributes.configuration`` block: server settings first, then client ones."""
    server = _import_settings().configuration_contributions()
    clash = set(server) & set(CLIENT_SETTINGS)
    if clash:
        raise SystemExit(f"server settings clash with client-only settings: {sorted(clash)}")
    properties: dict[str, Any] = {}
    for order, (name, source) in enumerate([*server.items(), *CLIENT_SETTINGS.items()]):
        entry = dict(source)
        # the model's descriptions are Markdown (`code`); VS Code renders only this key
        if "description" in entry:
            entry["markdownDescription"] = entry.pop("description")
        properties[name] = {**entry, "order": order}
    return {"title": "UET", "properties": properties}


def synced(package: dict[str, Any]) -> dict[str, Any]:
    """``package`` with the generated parts replaced."""
    result: dict[str, Any] = json.loads(json.dumps(package))
    result["version"] = _version()
    result.setdefault("contributes", {})["configuration"] = generated_configuration()
    return result


def _text(package: dict[str, Any]) -> str:
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift (exit 1)")
    args = parser.parse_args(argv)
    current_text = PACKAGE_JSON.read_text(encoding="utf-8")
    wanted_text = _text(synced(json.loads(current_text)))
    if current_text == wanted_text:
        print("package.json is in step with the server's settings model and version")
        return 0
    if args.check:
        diff = difflib.unified_diff(
            current_text.splitlines(),
            wanted_text.splitlines(),
            "package.json",
            "package.json (generated)",
            lineterm="",
        )
        print("package.json drifted from the server's settings model or version:")
        print("\n".join(diff))
        print("run: python editor-clients/scripts/sync_package_json.py")
        return 1
    PACKAGE_JSON.write_text(wanted_text, encoding="utf-8")
    print(f"updated {PACKAGE_JSON.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
