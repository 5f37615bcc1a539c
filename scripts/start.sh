#!/usr/bin/env bash
# npm start: installs what is missing, builds (npm run build: the services, the portal's pages),
# provisions the servers, then runs the embedded default (Temporal dev server + Web UI,
# MongoDB-wire server, API, worker) until Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
npm run --silent build >&2
tools="$(bash scripts/provision.sh)"
set -a
eval "$tools"
set +a
exec node_modules/.bin/tsx scripts/start.ts "$@"
