#!/usr/bin/env bash
# npm run cluster: as npm start (scripts/start.sh), but Temporal is a real cluster of separate
# services built from the server's Go module (scripts/provision-cluster.sh: once, a few minutes)
# with two worker processes, until Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
npm run --silent build >&2
if [ -n "${TEMPORAL_ADDRESS:-}" ]; then
  tools="$(bash scripts/provision.sh)"
  cluster=""
else
  # The cluster's own PostgreSQL needs the server programs even beside a MONGODB_URI.
  tools="$(MONGODB_URI='' bash scripts/provision.sh)"
  cluster="$(bash scripts/provision-cluster.sh)"
fi
set -a
eval "$tools"
eval "$cluster"
set +a
# One process between npm and the servers, as in scripts/start.sh: a signal reaches the supervisor.
exec node --import tsx scripts/cluster.ts "$@"
