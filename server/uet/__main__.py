"""``python -m uet`` runs the command-line interface."""

from uet.cli.main import main

raise SystemExit(main())
