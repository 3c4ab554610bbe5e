"""End-to-end tests of the language server (pytest-lsp over stdio) and its domain helpers."""
