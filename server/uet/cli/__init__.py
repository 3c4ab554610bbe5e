"""The ``uet`` command line: one module per command group, all wired in ``uet.cli.main``."""
