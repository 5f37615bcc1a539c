#!/usr/bin/env bash
# Installs the npm packages when node_modules is missing or older than package-lock.json.
# `npm install` rather than `npm ci`: registries that serve only this platform's optional
# binaries (@swc/core-*, ...) leave the others out of the lock file, which `npm ci` refuses;
# `npm install` follows the lock file just the same and leaves it unchanged.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "installing npm packages" >&2
  npm install --no-audit --no-fund --loglevel=error >&2
fi
