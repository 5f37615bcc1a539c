#!/usr/bin/env bash
# npm run fuzz: installs what is missing (npm packages, the servers, schemathesis in its own
# virtualenv) and builds, then runs the fuzz run, which starts and stops its own stack. Arguments go to
# schemathesis (e.g. --seed 1 to repeat a run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
npm run --silent build >&2
tools="$(bash scripts/provision.sh)
$(bash fuzz/provision-schemathesis.sh)"
set -a
eval "$tools"
set +a
exec node_modules/.bin/tsx fuzz/run.ts "$@"
