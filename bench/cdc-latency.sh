#!/usr/bin/env bash
# bench/cdc-latency.sh [RATES…] — a cdc job's source-commit → destination-commit latency at steady write rates.
#
# A continuous cdc job follows table ticks. pgbench inserts rows at each rate (row changes/s, default
# 1000 2000 4000 8000) for SYNC_BENCH_SECONDS (default 20 s); each row carries the time it was written
# (src_at, clock_timestamp() in its single-statement transaction, so ≈ its commit), and the destination
# stamps loaded_at with clock_timestamp() in the Loader's merge (≈ its commit). Per rate it prints the
# rate reached, latency p50/p95/p99 and whether lag grew (p50 over the last fifth of the rows more than
# twice that of the first fifth, plus 250 ms); the max sustained rate is the highest rate without growth.
# Cdc__FlushInterval and batch_size (SYNC_BENCH_BATCH, default 1000) set the batching. A warm-up at
# 500/s (SYNC_BENCH_WARMUP seconds, default 10; 0 = none) goes first and is not measured. Not a test.
set -euo pipefail

RATES=("${@:-1000 2000 4000 8000}")
read -r -a RATES <<<"${RATES[*]}"
SECONDS_PER_RATE="${SYNC_BENCH_SECONDS:-20}"
BATCH="${SYNC_BENCH_BATCH:-1000}"
WARMUP="${SYNC_BENCH_WARMUP:-10}"
# shellcheck source=bench/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
pgbench="$(ls /usr/lib/postgresql/*/bin/pgbench | tail -1)"

bench_build
bench_state cdcbench
# The job's slot (and an interrupted run's) is on the source database, which cannot be dropped while it has one.
drop_slots() {
  sql postgres "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = 'sync_cdcbench_source' AND NOT active" >/dev/null
}
drop_slots
bench_databases sync_cdcbench_source sync_cdcbench_destination sync_cdcbench_control
sql sync_cdcbench_source "CREATE TABLE ticks (id bigserial PRIMARY KEY, payload text NOT NULL, src_at timestamptz NOT NULL)"
sql sync_cdcbench_destination "CREATE TABLE ticks (id bigint PRIMARY KEY, payload text NOT NULL, src_at timestamptz NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT clock_timestamp())"

cat >"$BENCH_STATE/jobs/cdc-bench.yml" <<YAML
name: cdc-bench
schedule: continuous
batch_size: $BATCH
source: { type: postgres, connection: bench_source, table: public.ticks, mode: cdc, primary_key: [id] }
destination: { type: postgres, connection: bench_destination, table: public.ticks }
YAML
bench_connection bench_source sync_cdcbench_source
bench_connection bench_destination sync_cdcbench_destination
bench_services_start cdcbench
trap 'bench_services_stop; drop_slots || true' EXIT

wait_for() { # wait_for DESCRIPTION SECONDS COMMAND…
  local what="$1" deadline=$((SECONDS + $2)); shift 2
  until "$@"; do
    (( SECONDS < deadline )) || { echo "bench: $what did not happen in time" >&2; exit 1; }
    sleep 0.2
  done
}
streaming() { [[ "$(sql sync_cdcbench_control "SELECT count(*) FROM sync_watermarks WHERE key = 'cdc-bench'" 2>/dev/null)" == 1 ]]; }
echo "== Waiting for the job's first run (slot, snapshot)" >&2
wait_for "the first cdc run" 120 streaming

script="$(mktemp)"
echo "INSERT INTO ticks (payload, src_at) VALUES (md5(random()::text), clock_timestamp());" >"$script"
export PGPASSWORD="$SYNC_PG_PASSWORD"
# The writers commit as PostgreSQL does by default (synchronous_commit = on), not as the dev/test server
# is set up (off, scripts/infra.sh): with asynchronous commit a committed change reaches the WAL on disk,
# and so the logical decoding that Sync reads, only at the WAL writer's next round (wal_writer_delay,
# 200 ms by default), 0-200 ms after its commit that no reader of the slot can take back (issue 16).
export PGOPTIONS="-c synchronous_commit=on"
# Freshly started services compile their hot paths on the first changes; those are not measured.
if (( WARMUP > 0 )); then
  echo "== Warm-up: 500 row changes/s for $WARMUP s (not measured)" >&2
  "$pgbench" -h "$SYNC_PG_HOST" -p "$SYNC_PG_PORT" -U "$SYNC_PG_USER" -n -c 2 -j 2 -R 500 -T "$WARMUP" \
    -f "$script" sync_cdcbench_source >/dev/null 2>&1
  warm="$(sql sync_cdcbench_source "SELECT coalesce(max(id), 0) FROM ticks")"
  warmed() { [[ "$(sql sync_cdcbench_destination "SELECT count(*) FROM ticks")" == "$warm" ]]; }
  wait_for "the warm-up to be loaded" 120 warmed
fi
results=()
sustained=0
for rate in "${RATES[@]}"; do
  from="$(sql sync_cdcbench_source "SELECT coalesce(max(id), 0) FROM ticks")"
  echo "== $rate row changes/s for ${SECONDS_PER_RATE} s" >&2
  "$pgbench" -h "$SYNC_PG_HOST" -p "$SYNC_PG_PORT" -U "$SYNC_PG_USER" -n -c 4 -j 2 -R "$rate" -T "$SECONDS_PER_RATE" \
    -f "$script" sync_cdcbench_source >/dev/null 2>&1
  to="$(sql sync_cdcbench_source "SELECT max(id) FROM ticks")"
  rows=$((to - from))
  caught_up() { [[ "$(sql sync_cdcbench_destination "SELECT count(*) FROM ticks WHERE id > $from AND id <= $to")" == "$rows" ]]; }
  wait_for "catch-up after $rate/s" 300 caught_up
  read -r p50 p95 p99 first last <<<"$(sql sync_cdcbench_destination "
    WITH l AS (SELECT id, extract(epoch FROM loaded_at - src_at) * 1000 AS ms FROM ticks WHERE id > $from AND id <= $to)
    SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::int, round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms))::int,
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::int,
           round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM l WHERE id <= $from + $rows / 5))::int,
           round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM l WHERE id > $to - $rows / 5))::int
    FROM l" | tr '|' ' ')"
  reached=$((rows / SECONDS_PER_RATE))
  grows=no
  (( last > 2 * first + 250 )) && grows=yes
  (( reached * 100 < rate * 95 )) && grows="yes (writer reached only $reached/s)"
  [[ "$grows" == no ]] && sustained="$reached"
  results+=("$(printf '  %6s/s  %7s/s  %8s  %8s  %8s  %s' "$rate" "$reached" "$p50" "$p95" "$p99" "$grows")")
done

digest="SELECT count(*) || ' ' || coalesce(md5(string_agg(id || payload || src_at, '|' ORDER BY id)), '') FROM ticks"
# Read first: a query that fails ends the bench (set -e), instead of comparing two empty strings as equal.
source_digest="$(sql sync_cdcbench_source "$digest")"
destination_digest="$(sql sync_cdcbench_destination "$digest")"
[[ $source_digest == "$destination_digest" ]] || {
  echo "bench: the destination differs from the source" >&2
  exit 1
}

cat <<REPORT

cdc, source commit → destination commit latency (ms), batch size $BATCH, $(nproc) cores, ${SECONDS_PER_RATE} s per rate
   target   reached       p50       p95       p99  lag grows
$(printf '%s\n' "${results[@]}")
  max sustained change rate without growing lag: ${sustained} row changes/s
REPORT
