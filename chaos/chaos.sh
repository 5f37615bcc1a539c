#!/usr/bin/env bash
# npm run chaos: installs what is missing, builds and provisions (as npm start does), then runs
# the chaos run, which starts and stops its own stack. --small runs the version npm test runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
npm run --silent build >&2
tools="$(bash scripts/provision.sh)"
set -a
eval "$tools"
set +a
exec node_modules/.bin/tsx chaos/run.ts "$@"
