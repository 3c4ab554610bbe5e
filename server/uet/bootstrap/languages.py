"""Which language a file is written in, from its name alone, and how many lines it has.

Names only (no content sniffing) keeps the scan at one read per file. The table is data:
add a row to recognise a new language. Data files (CSV, Parquet, lock files) are left out
on purpose: they would dominate line counts without saying anything about the project.
"""

from __future__ import annotations

__all__ = ["BINARY_SNIFF_BYTES", "NO_LINE_COUNT", "count_lines", "language_of"]

BINARY_SNIFF_BYTES = 8192

_BY_EXTENSION: dict[str, str] = {
    ".py": "Python",
    ".pyi": "Python",
    ".pyx": "Cython",
    ".ipynb": "Jupyter Notebook",
    ".sql": "SQL",
    ".tf": "HCL",
    ".tfvars": "HCL",
    ".hcl": "HCL",
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".mdx": "Markdown",
    ".rst": "reStructuredText",
    ".adoc": "AsciiDoc",
    ".txt": "Text",
    ".yml": "YAML",
    ".yaml": "YAML",
    ".json": "JSON",
    ".toml": "TOML",
    ".ini": "INI",
    ".cfg": "INI",
    ".sh": "Shell",
    ".bash": "Shell",
    ".zsh": "Shell",
    ".ps1": "PowerShell",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    ".kt": "Kotlin",
    ".scala": "Scala",
    ".c": "C",
    ".h": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".cxx": "C++",
    ".hpp": "C++",
    ".cs": "C#",
    ".rb": "Ruby",
    ".php": "PHP",
    ".swift": "Swift",
    ".lua": "Lua",
    ".r": "R",
    ".jl": "Julia",
    ".html": "HTML",
    ".htm": "HTML",
    ".css": "CSS",
    ".scss": "SCSS",
    ".xml": "XML",
    ".j2": "Jinja",
    ".jinja": "Jinja",
    ".jinja2": "Jinja",
    ".proto": "Protocol Buffers",
    ".graphql": "GraphQL",
    ".mk": "Makefile",
}

_BY_NAME: dict[str, str] = {
    "Makefile": "Makefile",
    "GNUmakefile": "Makefile",
    "makefile": "Makefile",
    "Dockerfile": "Dockerfile",
    "Jenkinsfile": "Groovy",
    "Vagrantfile": "Ruby",
}

# Languages whose "lines" mean nothing (notebooks are JSON with embedded outputs).
NO_LINE_COUNT = frozenset({"Jupyter Notebook"})


def language_of(path: str) -> str | None:
    """The language of the file at workspace-relative ``path``, or ``None``."""
    name = path.rpartition("/")[2]
    found = _BY_NAME.get(name)
    if found is not None:
        return found
    if name.startswith("Dockerfile.") or name.endswith((".Dockerfile", ".dockerfile")):
        return "Dockerfile"
    dot = name.rfind(".")
    if dot <= 0:
        return None
    return _BY_EXTENSION.get(name[dot:].lower())


def count_lines(data: bytes) -> int:
    """Lines in ``data`` (a last line without a newline counts)."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
