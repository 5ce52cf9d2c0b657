#!/usr/bin/env bash
# bench/memory.sh [ROWS] [ROW_KB] — is each stage's memory bounded by bytes, not by rows (issue 16)?
#
# Seeds ROWS rows (default 3,000) of about ROW_KB kilobytes each (default 200, incompressible
# text) in a source table, then loads it through the four services, once for each batch_bytes in
# SYNC_BENCH_BATCH_BYTES (default "8388608 67108864": the default and the largest allowed), each
# time into an empty destination and with every service started afresh, and prints each service's
# peak RSS (VmHWM) beside issue 16's target (≤ 250 MB each). Every batch is as large as batch_bytes
# allows, so this is the worst a stage meets: prefetched messages, batches in flight and their
# serialised copies all at their largest. Checks that the destination equals the source. Not a
# test: figures depend on the machine and on what else it runs.
set -euo pipefail

ROWS="${1:-3000}"
ROW_KB="${2:-200}"
SIZES="${SYNC_BENCH_BATCH_BYTES:-8388608 67108864}"
# shellcheck source=bench/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

bench_build
bench_state memory
# The source is kept from an earlier run with the same rows and size: seeding takes minutes.
seeded="$ROWS rows of $ROW_KB KB"
if [[ "$(sql postgres "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'sync_memory_source'" 2>/dev/null)" != "$seeded" ]]; then
  bench_databases sync_memory_source
  # md5 of a random number per 32 bytes: text TOAST cannot compress, so the bytes are real.
  sql sync_memory_source "CREATE TABLE public.wide (id bigint PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL)"
  echo "== Seeding $ROWS rows of about $ROW_KB KB" >&2
  sql sync_memory_source "INSERT INTO public.wide
    SELECT g, (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, $ROW_KB * 32) WHERE g > 0),
           now() - interval '1 day' + g * interval '1 millisecond'
    FROM generate_series(1, $ROWS) g"
  sql sync_memory_source "VACUUM ANALYZE public.wide"
  sql postgres "COMMENT ON DATABASE sync_memory_source IS '$seeded'"
fi
bench_databases sync_memory_destination sync_memory_control
mb="$(sql sync_memory_source "SELECT round(sum(octet_length(payload)) / 1048576.0) FROM public.wide")"
bench_connection memory_source sync_memory_source
bench_connection memory_destination sync_memory_destination

peak_rss() { # "    name  MB" lines: VmHWM, the most resident memory since the process started
  local f name
  for f in "$SYNC_RUN_DIR"/*.pid; do
    name="$(basename "$f" .pid)"
    [[ $name =~ ^(coordinator|extractor|transformer|loader)$ ]] || continue
    printf '    %-12s %7s MB\n' "$name" "$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$(cat "$f")/status" 2>/dev/null || echo "?")"
  done
}

echo
echo "memory: $ROWS rows of ~$ROW_KB KB ($mb MB), $(nproc) cores"
for bytes in $SIZES; do
  # Qualified: once the Loader has made its schema sync, the role sync's search_path ("$user", public) finds it first.
  sql sync_memory_destination "DROP TABLE IF EXISTS public.wide"
  sql sync_memory_destination "CREATE TABLE public.wide (id bigint PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL)"
  cat >"$BENCH_STATE/jobs/memory-wide.yml" <<YAML
name: memory-wide
batch_size: 10000
batch_bytes: $bytes
source: { type: postgres, connection: memory_source, table: public.wide, cursor: updated_at, primary_key: [id] }
destination: { type: postgres, connection: memory_destination, table: public.wide, key: [id] }
YAML
  # A fresh start for each size: VmHWM only ever grows.
  [[ ! -d $BENCH_STATE/run ]] || "$SCRIPTS/services.sh" stop >/dev/null 2>&1 || true
  sql postgres "DROP DATABASE IF EXISTS sync_memory_control WITH (FORCE)" >/dev/null
  sql postgres "CREATE DATABASE sync_memory_control" >/dev/null
  bench_services_start memory >/dev/null
  echo "== batch_bytes $bytes: $ROWS rows, $mb MB" >&2
  start="$(now)"
  cli run memory-wide --follow --json >"$BENCH_STATE/run-$bytes.json" 2>/dev/null
  s="$(secs "$start" "$(now)")"
  equal="equal"
  bench_same sync_memory_source sync_memory_destination public.wide || equal="DIFFERS"
  echo "  batch_bytes $bytes ($((bytes / 1048576)) MiB): $s s ($(awk -v m="$mb" -v s="$s" 'BEGIN { printf "%.0f", m / s }') MB/s), destination $equal; peak RSS (target ≤ 250 MB each):"
  peak_rss
  bench_services_stop >/dev/null 2>&1
done
