#!/usr/bin/env bash
# npm run bench: installs what is missing, builds and provisions (as npm start does), then
# runs the benchmark, which starts and stops its own stack. --quick (or BENCH_QUICK=1) runs a
# tiny version of each phase in about 1-2 minutes, to check the harness works.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
npm run --silent build >&2
tools="$(bash scripts/provision.sh)"
tools="$tools
$(bash scripts/provision-browser.sh)"
set -a
eval "$tools"
set +a
exec node_modules/.bin/tsx bench/run.ts "$@"
