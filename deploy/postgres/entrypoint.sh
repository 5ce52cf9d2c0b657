#!/bin/sh
# Entry point of deploy/postgres/Dockerfile: initdb on an empty data folder (the superuser
# $POSTGRES_USER with $POSTGRES_PASSWORD, or the content of the file $POSTGRES_PASSWORD_FILE; every
# client but the local socket gives a password), the init scripts on a server that listens on the
# socket only (init.sql makes the services' role sync, its password from $SYNC_DB_PASSWORD_FILE),
# then the server in the foreground.
set -eu
: "${POSTGRES_USER:=postgres}"
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then POSTGRES_PASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"; fi
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE must be set}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ ! -s "${SYNC_DB_PASSWORD_FILE:-}" ]; then
    echo "postgres-entrypoint: SYNC_DB_PASSWORD_FILE must name a file with the password of the role sync" >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] || continue
    echo "postgres-entrypoint: running $f"
    psql -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -f "$f"
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
