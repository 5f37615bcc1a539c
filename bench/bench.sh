#!/usr/bin/env bash
# npm run bench: installs what is missing, builds and provisions (as npm start and npm run cluster do), then
# runs the benchmark, which starts and stops its own stack. --quick (or BENCH_QUICK=1) runs a
# tiny version of each phase in about 1-2 minutes, to check the harness works.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
npm run --silent build >&2
tools="$(bash scripts/provision.sh)"
tools="$tools
$(bash scripts/provision-browser.sh)"
# The capacity phases run on the Temporal cluster too (built once into the cache: minutes the first time).
tools="$tools
$(bash scripts/provision-cluster.sh)"
set -a
eval "$tools"
set +a
exec node_modules/.bin/tsx bench/run.ts "$@"
