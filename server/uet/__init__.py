"""uet-lsp: language server, CLI and execution engine for UET artifacts.

Kept import-light on purpose: ``uet.resources`` and the version must be usable from a bare
interpreter (the wheel test imports them without installing dependencies).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
