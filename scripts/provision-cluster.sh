#!/usr/bin/env bash
# Builds what a real Temporal cluster needs, from Go modules, into a cache outside the repo:
#   - the Temporal server (go.temporal.io/server/cmd/server) and its SQL schema tool
#     (cmd/tools/sql, installed as temporal-sql-tool), with the PostgreSQL schemas of the same
#     version (copied from the module's source);
#   - the Temporal Web UI server (github.com/temporalio/ui-server/v2).
# The cluster runs on the machine's PostgreSQL server programs (see scripts/provision.sh).
# Builds run under `nice -n 19`: they are background work beside whatever else the machine runs.
# Idempotent and safe to run concurrently: each version is built into a scratch directory renamed
# into place once complete. Prints KEY=VALUE lines (shell-quoted) on stdout for the caller to
# eval; progress and errors go to stderr. With --test, a failure prints TEMPORAL_CLUSTER_ERROR=<why>
# instead and exits 0: `npm test` runs every other suite, and the cluster's fails with that reason.
set -euo pipefail

# Worker Versioning needs server >= 1.29.1 and Web UI >= 2.38.0. The same server version belongs
# in docker-compose.yml.
TEMPORAL_SERVER_VERSION=v1.30.9
# The Web UI the bundled `temporal` CLI 1.9.1 serves (docs/operations.md describes it).
TEMPORAL_UI_VERSION=v2.54.1
# The server module needs Go >= 1.26.10: this toolchain comes from the Go module proxy when the
# machine's Go is older (Go >= 1.21 switches toolchains by itself).
GO_TOOLCHAIN=go1.27.3

cache="${WEBHOOK_SERVICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/webhook-service}"
test_mode=0
[ "${1:-}" = "--test" ] && test_mode=1

say() { echo "provision-cluster: $*" >&2; }
out() { printf '%s=%q\n' "$1" "$2"; }
die() {
  say "$1"
  if [ "$test_mode" = 1 ]; then
    out TEMPORAL_CLUSTER_ERROR "$1"
    exit 0
  fi
  say "Alternative: point TEMPORAL_ADDRESS at a Temporal cluster you run, or use 'docker compose up' (see README)."
  exit 1
}

# go_cmd ARGS...: the go command with the pinned toolchain, niced, its output on stderr.
go_cmd() {
  GOTOOLCHAIN="$GO_TOOLCHAIN" GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 nice -n 19 go "$@" >&2
}

# install_dir NAME VERSION BUILD: runs BUILD SCRATCH_DIR once per NAME-VERSION and sets
# `installed` to the directory it filled. Two concurrent runs both build; the first to finish
# wins, the other's scratch directory is dropped.
install_dir() {
  local name="$1" version="$2" build="$3"
  local dest="$cache/$name-$version"
  if [ ! -e "$dest/.complete" ]; then
    command -v go >/dev/null ||
      die "Go (1.21 or newer) is needed once to build $name $version: 'apt-get install golang' or https://go.dev/dl, then run this again."
    mkdir -p "$cache"
    local scratch="$dest.part.$$"
    rm -rf "$scratch"
    mkdir -p "$scratch"
    say "building $name $version into $dest (once; takes a few minutes)"
    local started=$SECONDS
    # Outside any Go module: `go install pkg@version` and `go mod download` must not see one.
    local log="$scratch.log"
    if ! (cd "$scratch" && "$build" "$scratch") 2>&1 | tee "$log" >&2; then
      local why
      why="$(grep -v '^go: downloading' "$log" | tail -n 3 | tr '\n' ' ')"
      rm -rf "$scratch" "$log"
      die "building $name $version failed (is it served by your Go module proxy, and is $GO_TOOLCHAIN?): $why"
    fi
    rm -f "$log"
    touch "$scratch/.complete"
    mv -T "$scratch" "$dest" 2>/dev/null || rm -rf "$scratch"
    say "built $name $version in $((SECONDS - started)) s"
  fi
  installed="$dest"
}

build_temporal_server() {
  local dir="$1" module="go.temporal.io/server@$TEMPORAL_SERVER_VERSION"
  # The build tag of the server's own Makefile: leaves out Google Cloud Storage's gRPC client
  # (archival uses its REST client), 16 MB of binary.
  GOBIN="$dir/bin" go_cmd install -trimpath -tags disable_grpc_modules \
    "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" || return 1
  mv "$dir/bin/server" "$dir/bin/temporal-server" && mv "$dir/bin/sql" "$dir/bin/temporal-sql-tool" || return 1
  # The schemas live in the module's source; a copy keeps them beside the binaries that apply them.
  local source
  source="$(GOTOOLCHAIN="$GO_TOOLCHAIN" go mod download -json "$module" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')" || return 1
  [ -d "$source/schema/postgresql/v12" ] || { say "no schema/postgresql/v12 in $module"; return 1; }
  mkdir -p "$dir/schema/postgresql" && cp -R "$source/schema/postgresql/v12" "$dir/schema/postgresql/" && chmod -R u+w "$dir/schema"
}

build_temporal_ui_server() {
  local dir="$1"
  GOBIN="$dir/bin" go_cmd install -trimpath "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_VERSION" &&
    mv "$dir/bin/server" "$dir/bin/temporal-ui-server"
}

# Both before any output: with --test, a failure prints its reason alone.
install_dir temporal-server "$TEMPORAL_SERVER_VERSION" build_temporal_server
server_dir="$installed"
install_dir temporal-ui-server "$TEMPORAL_UI_VERSION" build_temporal_ui_server
ui_dir="$installed"

out TEMPORAL_SERVER "$server_dir/bin/temporal-server"
out TEMPORAL_SQL_TOOL "$server_dir/bin/temporal-sql-tool"
out TEMPORAL_SCHEMA_DIR "$server_dir/schema/postgresql/v12"
out TEMPORAL_UI_SERVER "$ui_dir/bin/temporal-ui-server"
