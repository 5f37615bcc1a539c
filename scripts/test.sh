#!/usr/bin/env bash
# npm test: installs what is missing, builds (npm run build), provisions the servers (the Temporal
# cluster's are built once: minutes on a fresh machine) and the browser (Debian's chromium), runs
# every jest suite against a throw-away stack it starts and stops, and ends with the line
# `tests: N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
npm run --silent build >&2
tools="$(bash scripts/provision.sh --test)"
cluster="$(bash scripts/provision-cluster.sh --test)"
browser="$(bash scripts/provision-browser.sh)"
set -a
eval "$tools"
eval "$cluster"
eval "$browser"
set +a
exec node_modules/.bin/tsx scripts/run-tests.ts "$@"
