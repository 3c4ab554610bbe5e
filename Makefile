# Two set-up-free entry points: `make demo` and `make test`.
# Each creates .venv on first use and re-installs only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit bench fuzz clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
		|| { echo "uet-lsp needs Python >= 3.11 (set PYTHON=/path/to/python3.11)"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/python -m uet.cli.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# One worker per core (pytest-xdist); each test module runs whole on one worker, so its
# fixtures (the README's demo clone, a module's server) are set up once.
unit: $(STAMP)
	$(BIN)/pytest -n auto --dist loadscope

test: lint typecheck unit

# The fuzz tests of `make test` at scale: 25,000 examples per test (over 100,000 inputs),
# then hypothesis' statistics (inputs run, time per input) for each test.
fuzz: $(STAMP)
	UET_FUZZ_EXAMPLES=25000 $(BIN)/pytest -q -p no:cacheprovider tests/test_fuzz.py \
		--hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python benchmarks/validate.py

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache

# Editor clients (editor-clients/README.md): the VS Code .vsix, and both editors' real-editor tests.
.PHONY: vsix test-editors

vsix: $(STAMP)
	@bash editor-clients/scripts/build-vsix.sh

test-editors: $(STAMP)
	@bash editor-clients/scripts/test-editors.sh
