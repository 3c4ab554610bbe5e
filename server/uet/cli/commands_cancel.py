"""``uet cancel``: cancel a run from any process. The request goes through the run store to
the engine running it; a run whose engine is gone is canceled by the command itself."""

from __future__ import annotations

import argparse
import json
from typing import Any

from uet.cli.engine_arguments import (
    RUN_ID_HELP,
    add_workspace_option,
    reporting_errors,
    workspace,
)
from uet.cli.main import EXIT_CLEAN, EXIT_PROBLEMS

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``cancel`` to the ``uet`` parser."""
    cancel = subparsers.add_parser(
        "cancel",
        help="cancel a run (from any process)",
        description=(
            "Ask the engine running RUN_ID (in this or any other process) to cancel it: its "
            "tasks get SIGTERM, then SIGKILL. Prints the run's state. Exit status 0 when the "
            "run is canceled, 1 when it is still running after --wait or had already ended."
        ),
    )
    cancel.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    cancel.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the run to stop (default: 30)",
    )
    cancel.add_argument("--json", action="store_true", help="print {run_id, state} as JSON")
    add_workspace_option(cancel)
    cancel.set_defaults(handler=reporting_errors(cancel_command))


def cancel_command(args: argparse.Namespace) -> int:
    """Cancel RUN_ID, waiting for its engine to stop it."""
    from uet.engine import cancel_run

    state = cancel_run(workspace(args).db_path, args.run_id, wait_seconds=args.wait)
    if args.json:
        print(json.dumps({"run_id": args.run_id, "state": state}))
    else:
        print(f"run {args.run_id}: {state}")
    return EXIT_CLEAN if state == "canceled" else EXIT_PROBLEMS
