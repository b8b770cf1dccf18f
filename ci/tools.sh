#!/usr/bin/env bash
# Environment glue: command-line tools the tests use besides the toolchain.
#   ci/tools.sh
# xmllint (Debian's libxml2-utils) validates paraclone's JUnit reports
# against the JUnit schema in runner/tests/it/ci.rs. Installed with apt-get
# when missing (as root, as on our machines); otherwise says what to do.
set -euo pipefail

if command -v xmllint >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ci: installing xmllint (libxml2-utils)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q libxml2-utils >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libxml2-utils >/dev/null; }
fi
command -v xmllint >/dev/null 2>&1 || {
  echo "ci: xmllint is missing: install libxml2-utils (Debian/Ubuntu) or libxml2 (Homebrew)" >&2
  exit 1
}
