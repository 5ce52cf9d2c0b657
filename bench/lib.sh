# bench/lib.sh — what the bench scripts share; sourced by them, not run.
#
# Sourcing it starts the infrastructure (scripts/infra.sh up; a no-op when it runs), exports its
# SYNC_* variables and defines:
#   sql DB SQL              one statement through psql, unaligned, stops on the first error
#   now / secs A B / rate N S / ratio A B      timestamps, durations, rows/s, A/B
#   bench_build             the Release build (skipped with SYNC_NO_BUILD=1)
#   bench_databases DB…     drop (FORCE) and create each database
#   bench_orders_table DB…  the orders table of the pg benches in each database
#   bench_seed_orders DB N  N orders-like rows (about 150 bytes each), cursor index, VACUUM ANALYZE
#   bench_same DB1 DB2 TABLE [TABLE2]  whether two tables hold the same rows (count and md5 of each
#                           row's md5 in id order); a query that fails ends the bench, so an
#                           error never compares as equal
#   bench_connection NAME DB        Connections__NAME for the services
#   bench_services_start NAME       the four services under a state of their own (below)
#   cli ARGS…               the sync CLI against those services
# A bench named NAME runs its services on the RabbitMQ virtual host sync_NAME (deleted before and
# after), with control database sync_NAME_control, job files in .sync/NAME/jobs and pid files and
# logs in .sync/NAME/run and .sync/NAME/logs: developer services or tests running at the same time
# share no queue, pid file or database with it. Their API port is SYNC_API_PORT (default 5080).

BENCH="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
REPO="$(dirname "$BENCH")"
SCRIPTS="$REPO/scripts"

"$SCRIPTS/infra.sh" up
eval "$("$SCRIPTS/infra.sh" env)"

sql() { SYNC_PG_DATABASE="$1" "$SCRIPTS/pg.sh" psql -qtA -v ON_ERROR_STOP=1 -c "$2"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

bench_build() {
  echo "== Building" >&2
  [[ -n "${SYNC_NO_BUILD:-}" ]] || dotnet build "$REPO/Sync.sln" -c Release -v q -nologo >/dev/null || {
    echo "bench: the build failed; run dotnet build Sync.sln -c Release to see why" >&2
    exit 1
  }
}

bench_databases() {
  local db
  for db in "$@"; do
    sql postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    sql postgres "CREATE DATABASE $db" >/dev/null
  done
}

bench_orders_table() {
  local db
  for db in "$@"; do
    sql "$db" "CREATE TABLE orders (
      id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
      amount numeric(12,2) NOT NULL, note text, created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL)"
  done
}

bench_seed_orders() { # DB ROWS
  echo "== Seeding $2 rows" >&2
  sql "$1" "INSERT INTO orders
    SELECT g, (g % 50000)::int, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4],
           round((random() * 1000)::numeric, 2), 'order note ' || md5(g::text) || ' ' || (g % 97),
           now() - interval '30 days', now() - interval '1 day' + g * interval '10 microseconds'
    FROM generate_series(1, $2) g"
  # An incremental source has its cursor indexed: the limit and Sync read in cursor order.
  sql "$1" "CREATE INDEX orders_updated_at_id ON orders (updated_at, id)"
  sql "$1" "VACUUM ANALYZE orders"
}

bench_same() { # DB1 DB2 TABLE [TABLE2]
  local query="SELECT count(*) || ' ' || coalesce(md5(string_agg(md5(t::text), '' ORDER BY id)), '') FROM" a b
  a="$(sql "$1" "$query $3 t")" || { echo "bench: could not read $3 in $1" >&2; exit 1; }
  b="$(sql "$2" "$query ${4:-$3} t")" || { echo "bench: could not read ${4:-$3} in $2" >&2; exit 1; }
  [[ -n $a && $a == "$b" ]]
}

bench_connection() { # NAME DB
  export "Connections__$1=Host=$SYNC_PG_HOST;Port=$SYNC_PG_PORT;Username=$SYNC_PG_USER;Password=$SYNC_PG_PASSWORD;Database=$2"
}

bench_vhost_delete() {
  "$SCRIPTS/rabbitmqctl.sh" -q delete_vhost "$SYNC_VHOST" >/dev/null 2>&1 || true
}

# Stops the services and deletes their virtual host; the scripts' EXIT trap.
bench_services_stop() {
  "$SCRIPTS/services.sh" stop || true
  bench_vhost_delete
}

bench_services_start() { # NAME: the job files must be in $BENCH_STATE/jobs by now
  export SYNC_VHOST="sync_$1" SYNC_CONTROL_DB="sync_$1_control" SYNC_JOBS_DIR="$BENCH_STATE/jobs"
  export SYNC_RUN_DIR="$BENCH_STATE/run" SYNC_LOG_DIR="$BENCH_STATE/logs" SYNC_NO_BUILD=1
  export Logging__LogLevel__Default=Warning
  # Messages left by an interrupted run would reach the new services.
  bench_vhost_delete
  trap bench_services_stop EXIT
  "$SCRIPTS/services.sh" start
}

# bench_state NAME: an empty .sync/NAME with a jobs folder, in BENCH_STATE (services an
# interrupted run left there are stopped first).
bench_state() {
  BENCH_STATE="$REPO/.sync/$1"
  [[ ! -d $BENCH_STATE/run ]] || SYNC_RUN_DIR="$BENCH_STATE/run" "$SCRIPTS/services.sh" stop
  rm -rf "$BENCH_STATE" && mkdir -p "$BENCH_STATE/jobs"
}

cli() { dotnet "$REPO/tools/Sync.Cli/bin/Release/net10.0/syncctl.dll" --api "http://127.0.0.1:${SYNC_API_PORT:-5080}" "$@"; }
