#!/usr/bin/env bash
# Environment glue: the Python virtualenv the example suites run in.
#   ci/python-env.sh            # creates/updates <repo>/target/python
#   PYTHON=python3.12 ci/python-env.sh
# Creates the virtualenv with `python3 -m venv` (if it is missing or broken)
# and installs the pinned requirements of examples/django_library and
# examples/pytest_inventory from PyPI. Idempotent: when the requirements
# have not changed since the last install, it does nothing. Prints the
# virtualenv's directory on success and nothing else; on failure it prints
# what failed with pip's output and exits non-zero.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/target/python"
python=${PYTHON:-python3}
requirements=(
  "$repo/examples/django_library/requirements.txt"
  "$repo/examples/pytest_inventory/requirements.txt"
)
stamp="$venv/.paraclone-requirements"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail() {
  echo "ci/python-env.sh: $1" >&2
  if [ -s "$log" ]; then
    echo "---- output ----" >&2
    cat "$log" >&2
  fi
  exit 1
}

command -v "$python" >/dev/null 2>&1 || fail "no $python on PATH (set PYTHON to a Python 3.10+ interpreter)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  fail "$("$python" --version 2>&1) is too old: Django 5.2 needs Python 3.10 or newer"

# What the installed environment must match: the interpreter and every
# requirements file.
wanted=$({
  "$python" -c 'import sys; print(sys.version)'
  cat "${requirements[@]}"
} | sha256sum | cut -d' ' -f1)

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c '' >/dev/null 2>&1 &&
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  echo "$venv"
  exit 0
fi

version() { "$1" -c 'import sys; print(sys.version)' 2>/dev/null; }
if ! [ -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pip' >/dev/null 2>&1 ||
  [ "$(version "$venv/bin/python")" != "$(version "$python")" ]; then
  rm -rf "$venv"
  mkdir -p "$repo/target"
  "$python" -m venv "$venv" >"$log" 2>&1 ||
    fail "could not create the virtualenv $venv with $python -m venv (on Debian: apt-get install python3-venv)"
fi

args=()
for r in "${requirements[@]}"; do args+=(-r "$r"); done
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-input "${args[@]}" >"$log" 2>&1 ||
  fail "pip could not install ${requirements[*]#"$repo/"} into $venv"

# Every package the examples import must be importable.
"$venv/bin/python" -c 'import django, dj_database_url, pytest, xdist, psycopg, pymysql' >"$log" 2>&1 ||
  fail "the virtualenv $venv is missing a package after pip install"

echo "$wanted" >"$stamp"
echo "$venv"
