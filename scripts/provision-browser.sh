#!/usr/bin/env bash
# Finds, or installs from Debian's packages, the Chromium the portal's browser tests drive
# (playwright-core never downloads a browser of its own). Idempotent: apt-get runs only when no
# chromium is found. Prints CHROMIUM_PATH=<path> on stdout for the caller to eval; progress and
# errors go to stderr. Without root or apt, it names what to install and prints nothing: the
# browser tests then fail with that message.
set -euo pipefail
say() { echo "provision-browser: $*" >&2; }

find_chromium() {
  for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || return 1
}

if ! path="$(find_chromium)"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium (once)"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine has no package lists yet; an old list may name versions that are gone.
    apt-get install -y -q --no-install-recommends chromium >&2 ||
      { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends chromium >&2; } ||
      { say "apt-get could not install chromium"; exit 0; }
    path="$(find_chromium)" || { say "chromium was installed but not found"; exit 0; }
  else
    say "chromium is missing: install it ('apt-get install chromium' as root) or set CHROMIUM_PATH"
    exit 0
  fi
fi
printf 'CHROMIUM_PATH=%q\n' "$path"
