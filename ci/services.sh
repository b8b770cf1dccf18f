#!/usr/bin/env bash
# Environment glue: make sure the database servers the tests need are up.
#   ci/services.sh postgres mysql
# Starts each one that is not answering (Debian packaging assumed, as on our
# machines) and waits until it accepts connections, at most 60 s each.
set -euo pipefail

wait_for() { # name, probe command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "ci: $name is up"; return 0; fi
    sleep 1
  done
  echo "ci: $name did not come up within 60 s" >&2
  return 1
}

for service in "$@"; do
  case $service in
    postgres)
      probe=(pg_isready -h 127.0.0.1 -p 5432)
      if ! "${probe[@]}" >/dev/null 2>&1; then
        echo "ci: starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
      fi
      wait_for PostgreSQL "${probe[@]}"
      ;;
    mysql)
      probe=(mariadb-admin -h 127.0.0.1 -P 3306 -u root ping)
      if ! "${probe[@]}" >/dev/null 2>&1; then
        echo "ci: starting MariaDB"
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
      fi
      wait_for MariaDB "${probe[@]}"
      ;;
    *) echo "ci: unknown service $service" >&2; exit 2 ;;
  esac
done
