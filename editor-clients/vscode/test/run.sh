#!/usr/bin/env bash
# End-to-end test of the packaged VS Code extension in a real VS Code workbench: code-server
# (pinned, from the npm registry) serves the workbench on loopback, headless Chromium driven by
# playwright-core uses it like a person, against the real `uet serve`.
#   VSIX        a prebuilt .vsix (default: build one with scripts/build-vsix.sh)
#   UET_SERVER  the `uet` executable (default: <repo>/.venv/bin/uet)
#   CHROMIUM    the browser (default: /usr/bin/chromium)
#   UET_ARTIFACTS  where screenshots and logs go (default: <repo>/artifacts/editors, git-ignored)
# Prints `ok:`/`FAIL:`/`pending:` lines and a closing `N passed, N failed` line.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
EXT="$(cd "$HERE/.." && pwd)"
CLIENTS="$(cd "$EXT/.." && pwd)"
REPO="$(cd "$CLIENTS/.." && pwd)"
UET_SERVER="${UET_SERVER:-$REPO/.venv/bin/uet}"
ARTIFACTS="${UET_ARTIFACTS:-$REPO/artifacts/editors}"
[ -x "$UET_SERVER" ] || { echo "no uet executable at $UET_SERVER (run make test first, or set UET_SERVER)"; exit 2; }

eval "$(bash "$CLIENTS/scripts/ensure-deps.sh" node code-server)"
if [ ! -d "$EXT/node_modules" ] || [ -L "$EXT/node_modules" ]; then
  ln -sfn "$UET_NODE_MODULES" "$EXT/node_modules"
fi
if [ -z "${VSIX:-}" ]; then
  VSIX="$(bash "$CLIENTS/scripts/build-vsix.sh" 2>"${TMPDIR:-/tmp}/uet-build-vsix.log" | tail -1)" \
    || { cat "${TMPDIR:-/tmp}/uet-build-vsix.log"; exit 1; }
fi

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/uet-vscode-test.XXXXXX")"
CS_PID=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ -n "$CS_PID" ]; then kill "$CS_PID" 2>/dev/null || true; wait "$CS_PID" 2>/dev/null || true; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
mkdir -p "$ARTIFACTS" "$SCRATCH/user/User" "$SCRATCH/extensions"
cp -r "$CLIENTS/fixtures/workspace" "$SCRATCH/workspace"
# a folder without UET artifacts (the extension must stay inactive), one whose workspace
# settings leave uet.server.path empty, so `uet` is looked up and not found (the "server not
# found" message: code-server gets a PATH without any `uet`), and a small Python project
# without UET files (the extension activates there; bootstrap previews before it writes)
mkdir -p "$SCRATCH/plain" "$SCRATCH/no-server/workstreams" "$SCRATCH/no-server/.vscode" "$SCRATCH/project/src/app"
printf '# Not a UET project\n' >"$SCRATCH/plain/README.md"
printf '{"name": "not an artifact"}\n' >"$SCRATCH/plain/data.json"
cp "$CLIENTS/fixtures/workspace/workstreams/ws-quick.yaml" "$SCRATCH/no-server/workstreams/"
printf '{ "uet.server.path": "" }\n' >"$SCRATCH/no-server/.vscode/settings.json"
printf '[project]\nname = "app"\nversion = "0.1.0"\n' >"$SCRATCH/project/pyproject.toml"
printf 'def add(a, b):\n    return a + b\n' >"$SCRATCH/project/src/app/__init__.py"
printf '__pycache__/\n' >"$SCRATCH/project/.gitignore"
# keep code-server's own config and data, and the server's trust answers, out of the user's home
export XDG_CONFIG_HOME="$SCRATCH/xdg-config" XDG_DATA_HOME="$SCRATCH/xdg-data" XDG_CACHE_HOME="$SCRATCH/xdg-cache"
export XDG_STATE_HOME="$SCRATCH/xdg-state"
cat >"$SCRATCH/user/User/settings.json" <<JSON
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "update.mode": "none",
  "editor.hover.delay": 100,
  "window.commandCenter": false,
  "uet.trustedWorkspace": true,
  "uet.server.path": "$UET_SERVER"
}
JSON
"$UET_CODE_SERVER" --user-data-dir "$SCRATCH/user" --extensions-dir "$SCRATCH/extensions" \
  --install-extension "$VSIX" >"$SCRATCH/install.log" 2>&1 || { cat "$SCRATCH/install.log"; exit 1; }

PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
CS_PATH="$(tr ':' '\n' <<<"$PATH" | while read -r dir; do if [ -n "$dir" ] && [ ! -x "$dir/uet" ]; then printf '%s:' "$dir"; fi; done)"
PATH="${CS_PATH%:}" "$UET_CODE_SERVER" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry --disable-update-check \
  --disable-workspace-trust --disable-getting-started-override --user-data-dir "$SCRATCH/user" \
  --extensions-dir "$SCRATCH/extensions" "$SCRATCH/workspace" >"$SCRATCH/code-server.log" 2>&1 &
CS_PID=$!
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
echo "code-server $("$UET_CODE_SERVER" --version 2>/dev/null | head -1 | cut -d' ' -f1), $(basename "$VSIX"), server: $UET_SERVER"

status=0
UET_PLAIN_FOLDER="$SCRATCH/plain" UET_NO_SERVER_FOLDER="$SCRATCH/no-server" UET_PROJECT_FOLDER="$SCRATCH/project" \
  UET_USER_LOGS="$SCRATCH/user/logs" \
  node "$HERE/drive.mjs" "http://127.0.0.1:$PORT" "$SCRATCH/workspace" "$CLIENTS/fixtures/expected.json" \
  "$ARTIFACTS" || status=$?
# keep the extension's and code-server's logs next to the screenshots
find "$SCRATCH/user/logs" -name '*UET*' -exec cp {} "$ARTIFACTS/uet-output.log" \; 2>/dev/null || true
cp "$SCRATCH/code-server.log" "$ARTIFACTS/code-server.log" 2>/dev/null || true
exit "$status"
