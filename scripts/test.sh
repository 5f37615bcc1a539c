#!/usr/bin/env bash
# npm test: installs what is missing, provisions the servers, runs every jest suite against a
# throw-away stack it starts and stops, and ends with the line `tests: N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
tools="$(bash scripts/provision.sh --test)"
set -a
eval "$tools"
set +a
exec node_modules/.bin/tsx scripts/run-tests.ts "$@"
