#!/usr/bin/env bash
# scripts/pg.sh start|stop|restart|status|psql [ARGS…] — our private PostgreSQL (see infra.sh).
#   start    start it (initialising it if needed); no-op when running
#   stop     pg_ctl stop -m fast (open connections are cut)
#   restart  stop, then start
#   status   exit 0 when it runs
#   psql     psql as sync/sync over TCP (database: $SYNC_PG_DATABASE, default postgres)
# Works from any folder; used by the failure tests through SYNC_PG_CTL_STOP / SYNC_PG_CTL_START.
set -euo pipefail
here="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
case "${1:-}" in
  start | stop | restart | status) cmd=$1; shift; exec "$here/infra.sh" "pg-$cmd" "$@" ;;
  psql) shift; exec "$here/infra.sh" psql "$@" ;;
  *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
