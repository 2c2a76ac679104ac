#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a loopback port, for the PostgreSQL store's tests, CI and
# local benchmarks. Uses Debian's `postgresql` package (initdb and pg_ctl under
# /usr/lib/postgresql/*/bin). PostgreSQL refuses to run as root: as root, the cluster runs as
# the `postgres` user the package creates.
#
#   scripts/pg-test-cluster.sh start     # prints the export line for SWITCHYARD_TEST_PG_URL
#   scripts/pg-test-cluster.sh restart   # stop + start on the same data (a PostgreSQL restart)
#   scripts/pg-test-cluster.sh stop      # stops it and deletes its directory
#   scripts/pg-test-cluster.sh url
#
# SWITCHYARD_PG_DIR (default /tmp/switchyard-pg) and SWITCHYARD_PG_PORT (default 55432) move it.
set -euo pipefail

dir="${SWITCHYARD_PG_DIR:-/tmp/switchyard-pg}"
port="${SWITCHYARD_PG_PORT:-55432}"
url="postgres://switchyard@127.0.0.1:${port}/switchyard"

bindir=""
for candidate in /usr/lib/postgresql/*/bin; do
  [[ -x "$candidate/initdb" ]] && bindir="$candidate"
done
if [[ -z "$bindir" ]]; then
  echo "pg-test-cluster: no initdb under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
  exit 1
fi

# Runs a PostgreSQL binary as an unprivileged user.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_ctl_do() {
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 "$@"
}

start_server() {
  pg_ctl_do -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
}

case "${1:-}" in
  start)
    if [[ ! -d "$dir/data" ]]; then
      mkdir -p "$dir"
      [[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
      # Trust on loopback only: a test cluster with no secrets in it.
      as_owner "$bindir/initdb" -D "$dir/data" -U switchyard --auth=trust -E UTF8 >"$dir/initdb.log"
      start_server
      as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U switchyard switchyard
    elif ! as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      start_server
    fi
    echo "export SWITCHYARD_TEST_PG_URL=$url"
    ;;
  restart)
    pg_ctl_do -m fast stop >/dev/null
    start_server
    ;;
  stop)
    if [[ -d "$dir/data" ]]; then
      pg_ctl_do -m fast stop >/dev/null 2>&1 || true
      rm -rf "$dir"
    fi
    ;;
  url)
    echo "$url"
    ;;
  *)
    echo "usage: $0 start|restart|stop|url" >&2
    exit 2
    ;;
esac
