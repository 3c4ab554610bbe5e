#!/usr/bin/env bash
# Runs the Neovim plugin's end-to-end test in headless Neovim against the real `uet serve`,
# on a fresh copy of editor-clients/fixtures/workspace. Environment:
#   UET_SERVER  the `uet` executable (default: <repo>/.venv/bin/uet)
#   NVIM        the Neovim binary (default: nvim)
# Prints the test's lines and its closing `N passed, N failed` line; exit status 0 = passed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CLIENTS="$(cd "$HERE/../.." && pwd)"
REPO="$(cd "$CLIENTS/.." && pwd)"
export UET_SERVER="${UET_SERVER:-$REPO/.venv/bin/uet}"
NVIM="${NVIM:-nvim}"
[ -x "$UET_SERVER" ] || { echo "no uet executable at $UET_SERVER (run make test first, or set UET_SERVER)"; exit 2; }
command -v "$NVIM" >/dev/null || { echo "nvim not found (editor-clients/scripts/ensure-deps.sh apt)"; exit 2; }

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/uet-nvim-test.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
cp -r "$CLIENTS/fixtures/workspace" "$SCRATCH/workspace"
export UET_WORKSPACE="$SCRATCH/workspace" UET_EXPECTED="$CLIENTS/fixtures/expected.json"
# keep Neovim's state, shada and LSP log out of the user's home
export XDG_CONFIG_HOME="$SCRATCH/config" XDG_DATA_HOME="$SCRATCH/data" \
  XDG_STATE_HOME="$SCRATCH/state" XDG_CACHE_HOME="$SCRATCH/cache"
echo "neovim: $("$NVIM" --version | head -1), server: $UET_SERVER"
cd "$SCRATCH/workspace"
# headless Neovim writes the echo area to stderr: keep it aside, show it when the test fails
status=0
"$NVIM" --headless -u NONE -i NONE -n --cmd "set rtp^=$CLIENTS/neovim" \
  -c "luafile $HERE/test_uet.lua" </dev/null 2>"$SCRATCH/echo-area.log" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- Neovim's echo area (stderr):"
  cat "$SCRATCH/echo-area.log"
fi
exit "$status"
