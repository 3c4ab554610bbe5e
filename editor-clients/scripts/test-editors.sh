#!/usr/bin/env bash
# `make test-editors`: installs what the editor tests need (ensure-deps.sh, cached outside the
# repository), then runs, against the real `uet serve`:
#   1. the drift check between vscode/package.json and the server's settings model, and
#      luacheck and shellcheck (the extension is type-checked when the .vsix is built),
#   2. the Neovim plugin in headless Neovim (neovim/tests/run.sh): Debian's 0.7.2 (the
#      start_client path) and a current release from PyPI (the vim.lsp.start path),
#   3. the packaged VS Code extension in code-server + headless Chromium (vscode/test/run.sh).
# Each suite prints its own `N passed, N failed` line; this script adds them up, prints the
# closing `N passed, N failed` line and exits 1 when anything failed.
#   UET_EDITORS  which suites to run (default: "settings lint neovim neovim-latest vscode")
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CLIENTS="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$CLIENTS/.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
SUITES="${UET_EDITORS:-settings lint neovim neovim-latest vscode}"

total_passed=0 total_failed=0 total_skipped=0
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Adds a suite's closing counts to the totals; a suite that printed none counts as one failure.
tally() {
  local name="$1" log="$2" rc="$3" line p f s
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)"
  if [ -z "$line" ]; then
    echo "== $name: no result line (exit $rc)"
    total_failed=$((total_failed + 1))
    return
  fi
  p="$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")"
  f="$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")"
  s="$(grep -oE '[0-9]+ skipped' <<<"$line" | cut -d' ' -f1)"
  total_passed=$((total_passed + p)) total_failed=$((total_failed + f)) total_skipped=$((total_skipped + ${s:-0}))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "== $name: exit $rc with no failed check"
    total_failed=$((total_failed + 1))
  fi
}

run_suite() {
  local name="$1"; shift
  local log start rc
  log="$(mktemp "${TMPDIR:-/tmp}/uet-editor-$name.XXXXXX")"
  start="$(now)"
  echo "== $name"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  echo "== $name: exit $rc in $(seconds "$start") s"
  tally "$name" "$log" "$rc"
  rm -f "$log"
}

settings_suite() {
  local passed=0 failed=0
  if "$PYTHON" "$HERE/sync_package_json.py" --check; then
    echo "ok: vscode/package.json matches the server's settings model and version"
    passed=$((passed + 1))
  else
    echo "FAIL: vscode/package.json drifted from the server's settings model"
    failed=$((failed + 1))
  fi
  local ruff="$REPO/.venv/bin/ruff" mypy="$REPO/.venv/bin/mypy" script="$HERE/sync_package_json.py"
  if [ -x "$ruff" ] && [ -x "$mypy" ]; then
    if "$ruff" check -q "$script" && "$ruff" format -q --check "$script" && "$mypy" --strict "$script" >/dev/null; then
      echo "ok: sync_package_json.py is clean under ruff and mypy --strict"
      passed=$((passed + 1))
    else
      "$mypy" --strict "$script"
      echo "FAIL: ruff or mypy --strict on sync_package_json.py"
      failed=$((failed + 1))
    fi
  fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

lint_suite() {
  local passed=0 failed=0
  if (cd "$CLIENTS/neovim" && luacheck --no-color -q lua plugin tests); then
    echo "ok: luacheck finds nothing in the Neovim plugin and its test"
    passed=$((passed + 1))
  else
    echo "FAIL: luacheck"
    failed=$((failed + 1))
  fi
  if shellcheck "$CLIENTS"/scripts/*.sh "$CLIENTS/neovim/tests/run.sh" "$CLIENTS/vscode/test/run.sh"; then
    echo "ok: shellcheck finds nothing in the editor scripts"
    passed=$((passed + 1))
  else
    echo "FAIL: shellcheck"
    failed=$((failed + 1))
  fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

start="$(now)"
echo "== installing editor test dependencies (cached in ${UET_EDITORS_CACHE:-~/.cache/uet-lsp-editors})"
if ! deps="$(bash "$HERE/ensure-deps.sh" apt node code-server neovim-latest)"; then
  echo "installing the editor test dependencies failed"
  echo "0 passed, 1 failed"
  exit 1
fi
eval "$deps"
echo "== dependencies ready in $(seconds "$start") s"

if [[ " $SUITES " == *" vscode "* ]]; then
  start="$(now)"
  if ! VSIX="$(bash "$HERE/build-vsix.sh" 2>"${TMPDIR:-/tmp}/uet-build-vsix.log" | tail -1)" || [ ! -f "$VSIX" ]; then
    cat "${TMPDIR:-/tmp}/uet-build-vsix.log"
    echo "building the .vsix failed"
    VSIX=""
    total_failed=$((total_failed + 1))
  else
    echo "== built $(basename "$VSIX") in $(seconds "$start") s"
  fi
  export VSIX
fi

for suite in $SUITES; do
  case "$suite" in
    settings) run_suite settings settings_suite ;;
    lint) run_suite lint lint_suite ;;
    neovim) run_suite neovim timeout 300 bash "$CLIENTS/neovim/tests/run.sh" ;;
    neovim-latest) run_suite neovim-latest env NVIM="$UET_NVIM_LATEST" timeout 300 bash "$CLIENTS/neovim/tests/run.sh" ;;
    vscode)
      if [ -n "${VSIX:-}" ]; then
        run_suite vscode timeout 900 bash "$CLIENTS/vscode/test/run.sh"
      fi
      ;;
    *) echo "unknown suite: $suite"; total_failed=$((total_failed + 1)) ;;
  esac
done

summary="$total_passed passed, $total_failed failed"
[ "$total_skipped" -gt 0 ] && summary="$summary, $total_skipped skipped"
echo "$summary"
[ "$total_failed" -eq 0 ]
