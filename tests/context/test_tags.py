"""The tags tree-sitter finds in each file of the fixture repository, and bad input."""

from __future__ import annotations

import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.context import repo_fixture
from uet.context.languages import LANGUAGES, SUFFIXES, language_for, parser_for, tags_query
from uet.context.model import FileTags
from uet.context.tags import MAX_SIGNATURE_CHARS, file_tags

WELL_FORMED = sorted(path for path in repo_fixture.PARSED if path != repo_fixture.BROKEN)


def _tags(path: str) -> FileTags:
    source = repo_fixture.SOURCES[path].encode()
    return file_tags(path, source, repo_fixture.PARSED[path])


@pytest.mark.parametrize("path", sorted(repo_fixture.PARSED))
def test_the_definitions_of_each_fixture_file(path: str) -> None:
    tags = _tags(path)
    assert tags.path == path
    assert tags.language == repo_fixture.PARSED[path]
    found = {(definition.name, definition.kind) for definition in tags.definitions}
    assert found == repo_fixture.DEFINITIONS[path]


@pytest.mark.parametrize("path", WELL_FORMED)
def test_well_formed_files_have_no_parse_errors(path: str) -> None:
    assert not _tags(path).parse_errors


@pytest.mark.parametrize("path", sorted(repo_fixture.PARSED))
def test_each_signature_is_the_line_of_its_definition(path: str) -> None:
    lines = repo_fixture.SOURCES[path].splitlines()
    for definition in _tags(path).definitions:
        assert definition.signature == lines[definition.line].rstrip()
        assert definition.name in definition.signature


def test_the_cross_file_references_are_found() -> None:
    for referencing, identifier, defining in repo_fixture.CROSS_FILE_REFERENCES:
        assert identifier in _tags(referencing).references, (referencing, identifier)
        defined = {definition.name for definition in _tags(defining).definitions}
        assert identifier in defined, (defining, identifier)


def test_references_count_each_occurrence_and_exclude_definitions() -> None:
    service = _tags("app/service.py")
    # The import, the base class, a parameter's type and two return types.
    assert service.references.count("Inventory") == 5
    assert service.references.count("add_item") == 2
    assert "restock_all" not in service.references  # defined here, never used here
    assert _tags("app/models.py").references.count("DEFAULT_CAPACITY") == 1


def test_python_definition_lines_and_signatures() -> None:
    by_name = {definition.name: definition for definition in _tags("app/models.py").definitions}
    assert by_name["Inventory"].line == 5
    assert by_name["Inventory"].signature == "class Inventory:"
    # A decorated method's signature is its def line, not the decorator.
    assert by_name["total"].signature == "    def total(self) -> int:"
    assert by_name["total"].line == 16
    assert by_name["make_inventory"].signature == (
        "def make_inventory(names: list[str]) -> Inventory:"
    )


def test_an_annotated_java_method_is_shown_by_its_declaration_not_its_annotation() -> None:
    bill = [d for d in _tags("java/Shop.java").definitions if d.name == "bill"]
    assert [d.signature for d in bill] == ["    public void bill() {", "    void bill();"]


@pytest.mark.parametrize(
    ("language", "source", "name", "kind"),
    [
        ("javascript", b"const render = () => 1;\n", "render", "function"),
        ("javascript", b"const LIMIT = 3;\n", "LIMIT", "constant"),
        ("typescript", b"export const total = function () {};\n", "total", "function"),
        ("go", b"package p\n\ntype Celsius float64\n", "Celsius", "type"),
        (
            "python",
            b"class A:\n    @staticmethod\n    def make():\n        pass\n",
            "make",
            "method",
        ),
        ("rust", b"struct S;\nimpl S {\n    fn go(&self) {}\n}\n", "go", "method"),
        ("cpp", b"struct S {\n    void run() {}\n};\n", "run", "method"),
    ],
)
def test_the_specific_kind_wins(language: str, source: bytes, name: str, kind: str) -> None:
    found = {d.kind for d in file_tags("x", source, language).definitions if d.name == name}
    assert found == {kind}


def test_python_module_variables() -> None:
    source = b"__all__ = ['app']\napp = Flask(__name__)\nT = TypeVar('T')\n_cache = {}\n"
    definitions = file_tags("web.py", source, "python").definitions
    assert [(d.name, d.kind) for d in definitions] == [
        ("app", "variable"),
        ("T", "constant"),
        ("_cache", "variable"),
    ]


def test_python_class_fields_and_constants() -> None:
    source = b"""\
class Point(NamedTuple):
    x: int
    label: str = ""
    ORIGIN: Final = 0
    _cache = {}

    def norm(self) -> int:
        self.total: int = 0
        return self.x
"""
    definitions = file_tags("point.py", source, "python").definitions
    assert [(d.name, d.kind, d.line) for d in definitions] == [
        ("Point", "class", 0),
        ("x", "field", 1),
        ("label", "field", 2),
        ("ORIGIN", "constant", 3),
        ("norm", "method", 6),
    ]


def test_a_file_that_does_not_parse_keeps_the_tags_found() -> None:
    tags = _tags(repo_fixture.BROKEN)
    assert tags.parse_errors
    names = {definition.name for definition in tags.definitions}
    assert {"still_found", "AfterError"} <= names
    assert "Inventory" in tags.references


def test_a_long_signature_line_is_bounded() -> None:
    source = b"def f(" + b", ".join(b"a%d" % index for index in range(200)) + b"):\n    pass\n"
    (definition,) = file_tags("long.py", source, "python").definitions
    assert definition.signature.startswith("def f(a0, a1")
    assert len(definition.signature) == MAX_SIGNATURE_CHARS


def test_a_definition_far_into_a_long_line_shows_its_name() -> None:
    source = b"var a=1;" * 300 + b"function far(x){return x}\n"
    (definition,) = file_tags("long.js", source, "javascript").definitions
    assert definition.name == "far"
    assert definition.line == 0
    assert "function far(x){return x}" in definition.signature
    assert len(definition.signature) <= MAX_SIGNATURE_CHARS


@pytest.mark.parametrize("language", ["javascript", "typescript", "tsx"])
def test_names_required_by_commonjs_are_references(language: str) -> None:
    source = b'const { formatPrice, Cart: Basket } = require("./util");\nconst { x } = load();\n'
    references = file_tags("main.js", source, language).references
    assert references == ("formatPrice", "Cart", "require", "load")


def test_bytes_that_are_not_utf8_do_not_break_the_tags() -> None:
    source = b"def caf\xe9():\n    pass\n\ndef ok():\n    caf\xe9()\n"
    tags = file_tags("latin1.py", source, "python")
    assert "ok" in {definition.name for definition in tags.definitions}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_has_a_compiled_query_and_a_suffix(language: str) -> None:
    query = tags_query(language)
    assert query is tags_query(language)  # compiled once per process
    assert query.pattern_count > 0
    assert language in SUFFIXES.values()


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a/b.py", "python"),
        ("types.pyi", "python"),
        ("x.MJS", "javascript"),
        ("c.jsx", "javascript"),
        ("c.cts", "typescript"),
        ("c.tsx", "tsx"),
        ("m.go", "go"),
        ("lib.rs", "rust"),
        ("A.java", "java"),
        ("list.h", "c"),
        ("x.hh", "cpp"),
        ("x.cxx", "cpp"),
        ("g.rb", "ruby"),
        ("notes.txt", None),
        (".gitignore", None),
        ("Makefile", None),
        ("archive.tar.gz", None),
    ],
)
def test_language_for(path: str, language: str | None) -> None:
    assert language_for(path) == language


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_random_bytes_never_raise(language: str) -> None:
    generator = random.Random(language)
    for _ in range(20):
        size = generator.randrange(0, 2000)
        data = bytes(generator.randrange(256) for _ in range(size))
        tags = file_tags("random", data, language)
        assert tags.language == language


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    language=st.sampled_from(sorted(LANGUAGES)),
    path=st.sampled_from(sorted(repo_fixture.PARSED)),
    cut=st.integers(min_value=0, max_value=2000),
    noise=st.binary(max_size=40),
)
def test_fixture_sources_cut_and_spliced_never_raise(
    language: str, path: str, cut: int, noise: bytes
) -> None:
    source = repo_fixture.SOURCES[path].encode()
    spliced = source[:cut] + noise + source[cut:]
    tags = file_tags(path, spliced, language)
    for definition in tags.definitions:
        assert definition.name
        assert len(definition.signature) <= MAX_SIGNATURE_CHARS
        assert definition.line >= 0


def test_a_grammar_is_imported_only_when_its_language_is_parsed(tmp_path: Path) -> None:
    repo_fixture.build_fixture_repo(tmp_path)
    script = """
import sys
from pathlib import Path
from uet.context.sources import source_files
from uet.context.tags import file_tags
def grammars():
    packages = {name.split(".")[0] for name in sys.modules}
    return ",".join(sorted(name for name in packages if name.startswith("tree_sitter_")))
assert len(source_files(Path(".")).files) == PARSED
before = grammars()
file_tags("a.py", b"def f():\\n    pass\\n", "python")
print(before or "-", grammars())
""".replace("PARSED", str(len(repo_fixture.PARSED)))
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert completed.stdout.split() == ["-", "tree_sitter_python"]


def test_threads_parse_side_by_side() -> None:
    paths = sorted(repo_fixture.PARSED) * 8
    expected = {path: _tags(path) for path in repo_fixture.PARSED}
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(_tags, paths))
    assert found == [expected[path] for path in paths]
    assert parser_for("python") is parser_for("python")
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(parser_for, "python").result() is not parser_for("python")
