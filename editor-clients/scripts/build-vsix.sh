#!/usr/bin/env bash
# Builds the VS Code extension as dist/uet-lsp-<version>.vsix at the repository root:
# installs the npm packages into the cache (ensure-deps.sh), checks that package.json is in
# step with the server's settings model, type-checks, bundles with esbuild, packages with vsce.
#   PYTHON  interpreter with uet importable (default: <repo>/.venv/bin/python, else python3)
# Prints the path of the .vsix on the last line.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CLIENTS="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$CLIENTS/.." && pwd)"
EXT="$CLIENTS/vscode"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3

eval "$(bash "$HERE/ensure-deps.sh" node)"
# node_modules is a link into the cache (git-ignored); a real folder made by hand is kept.
if [ ! -d "$EXT/node_modules" ] || [ -L "$EXT/node_modules" ]; then
  ln -sfn "$UET_NODE_MODULES" "$EXT/node_modules"
fi
"$PYTHON" "$HERE/sync_package_json.py" --check >&2
VERSION="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$EXT/package.json")"
OUT="$REPO/dist/uet-lsp-$VERSION.vsix"
mkdir -p "$REPO/dist"
cd "$EXT"
./node_modules/.bin/tsc -p . --noEmit >&2
rm -rf dist && node esbuild.mjs >&2
./node_modules/.bin/vsce package --no-dependencies --skip-license --allow-missing-repository \
  --out "$OUT" >&2 </dev/null
echo "$OUT"
