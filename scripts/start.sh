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
# node with the tsx loader, not the tsx command: one process between npm and the servers, so
# a signal to npm start (relayed by npm) or to this pid reaches the supervisor directly.
exec node --import tsx scripts/start.ts "$@"
