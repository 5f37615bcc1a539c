#!/usr/bin/env bash
# Installs schemathesis (PyPI, pinned) into its own virtualenv under the tool cache, once, and
# prints SCHEMATHESIS=<path of its CLI> for the caller to eval. Idempotent: a complete venv is
# marked by a stamp naming the version, so an interrupted install is redone, never half-used.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5

cache="${WEBHOOK_SERVICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/webhook-service}"
venv="$cache/schemathesis-$SCHEMATHESIS_VERSION"
stamp="$venv/.installed"

if [ ! -f "$stamp" ]; then
  command -v python3 >/dev/null || { echo "fuzz: python3 with venv and pip is needed to install schemathesis" >&2; exit 1; }
  echo "fuzz: installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
  echo "$SCHEMATHESIS_VERSION" >"$stamp"
fi
printf 'SCHEMATHESIS=%q\n' "$venv/bin/schemathesis"
