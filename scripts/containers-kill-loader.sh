#!/usr/bin/env bash
# scripts/containers-kill-loader.sh — issue 21, item 3: the compose stack with two Loaders and two
# Transformers runs the job `orders` over SYNC_DEMO_ROWS rows (default 500,000, 500 batches); once
# both Loaders have applied batches, one Loader container is killed (SIGKILL) mid-run. Checks, each
# printed: the kill came mid-run, the run completes, every batch is applied once, the destination
# equals the source (syncctl verify and md5 of both tables), both Loaders applied batches, and the
# run is one trace that spans all four services (a collector, scripts/otlp-collector.py, receives
# the containers' OTLP on the stack network's gateway address). Exit 0 when all hold. Starts from
# `down -v` (the stack's database volume too) and leaves the new stack up, its services still
# pointed at the collector, which stops with the script (`./run containers down` removes it all).
# `./run test` runs it after the .NET tests (see run), so CI does.
set -euo pipefail
export SYNC_CT_LOADERS=2 SYNC_CT_TRANSFORMERS=2
# shellcheck source=scripts/containers.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/containers.sh"

ROWS="${SYNC_DEMO_ROWS:-500000}"
BATCHES=$(((ROWS + 999) / 1000))
FAILED=0
check() { # DESCRIPTION COMMAND…
  local what=$1
  shift
  if "$@"; then echo "CHECK ok:     $what"; else echo "CHECK FAILED: $what"; FAILED=1; fi
}
# Reads need the key too (issue 20); it goes in a header read from a file descriptor, so it is on no
# command line. Exit code 22 is an HTTP error, whose answer goes to standard error.
api() { # PATH
  local body rc=0
  body="$(curl -sS -m 10 --fail-with-body -H @<(printf 'X-Api-Key: %s\n' "$SYNC_API_KEY") \
    "http://127.0.0.1:$SYNC_CT_API_PORT$1")" || rc=$?
  if ((rc == 0)); then printf '%s\n' "$body"; else printf '%s\n' "$body" >&2; fi
  return "$rc"
}
# The host's psql when there is one: polling through `exec` into the container is too slow to
# catch the run in its middle.
dest_sql() { # SQL
  if command -v psql >/dev/null; then
    PGPASSWORD="$(cat "$SECRETS/postgres-sync")" PGOPTIONS='-c client_min_messages=warning' psql -qtA -v ON_ERROR_STOP=1 \
      -h 127.0.0.1 -p "$SYNC_CT_PG_PORT" -U sync -d sync_demo_destination -c "$1"
  else
    psql_in sync_demo_destination "$1"
  fi
}
loaded_by() { # RUN-ID — "host/pid count" per Loader
  dest_sql "SELECT loaded_by || ' ' || count(*) FROM sync.applied_batches
    WHERE run_id = '$1' GROUP BY loaded_by ORDER BY loaded_by" 2>/dev/null || true
}
consumers() { # QUEUE — its consumer count, from RabbitMQ's management API
  curl -sf -m 5 -u "sync:$(cat "$SECRETS/rabbitmq-admin")" "http://127.0.0.1:$SYNC_CT_RABBIT_MGMT_PORT/api/queues/%2F/$1" | jq -r .consumers
}

OTLP_PORT="${SYNC_CT_OTLP_PORT:-56318}"
SPANS="$STATE/spans.jsonl"
COLLECTOR_PID=""
trap '[[ -z $COLLECTOR_PID ]] || kill "$COLLECTOR_PID" 2>/dev/null || true' EXIT

# Traces (issue 21, item 4): a collector on the host, on the stack network's gateway address (the
# bridge's own address inside this machine: the containers cannot reach the host's loopback), and
# the services export to it.
before_services() {
  local gateway format='{{range .Subnets}}{{.Gateway}}{{end}}'
  [[ $ENGINE == docker ]] && format='{{range .IPAM.Config}}{{.Gateway}}{{end}}'
  gateway="$("$ENGINE" network inspect "${PROJECT}_default" -f "$format")"
  : >"$SPANS"
  python3 "$SCRIPTS/otlp-collector.py" "$gateway" "$OTLP_PORT" "$SPANS" &
  COLLECTOR_PID=$!
  export SYNC_OTLP_ENDPOINT="http://$gateway:$OTLP_PORT"
  say "Trace collector on $SYNC_OTLP_ENDPOINT (spans in $SPANS)"
}

apt_install jq:jq python3:python3
# A new stack: service containers that get the collector's address and two of each, and a control
# database with no run of an earlier, interrupted try still active.
cmd_down -v
cmd_up
# The stack may have been up with other counts: recreate the services with two of each.
[[ $(container_ids loader | wc -l) == 2 && $(container_ids transformer | wc -l) == 2 ]] ||
  die "expected 2 loaders and 2 transformers; run ./run containers down first"
dotnet build tools/Sync.Cli/Sync.Cli.csproj -c Release -v q -nologo >/dev/null
say "Waiting until both Loaders and both Transformers consume"
for ((i = 0; i < 120; i++)); do
  [[ $(consumers load-batch) == 2 && $(consumers transform-batch) == 2 ]] && break
  sleep 1
done
check "2 consumers on load-batch and on transform-batch" test "$(consumers load-batch)/$(consumers transform-batch)" == 2/2
say "Creating the orders tables (source: $ROWS rows)"
seed_orders "$ROWS"
cli reset orders --yes >/dev/null

run="$(cli run orders)"
say "Run $run started; waiting until both Loaders have applied batches"
for ((i = 0; i < 600; i++)); do
  [[ $(loaded_by "$run" | wc -l) -ge 2 ]] && break
  sleep 0.1
done
victim="$(container_ids loader | sed -n 1p)"
victim_host="$("$ENGINE" inspect -f '{{.Config.Hostname}}' "$victim")"
"$ENGINE" kill -s KILL "$victim" >/dev/null
before="$(loaded_by "$run")"
applied="$(awk '{ s += $2 } END { print s + 0 }' <<<"$before")"
say "Killed Loader container $victim_host ($("$ENGINE" inspect -f '{{.Name}}' "$victim")); batches applied by then: $(tr '\n' ' ' <<<"$before")"
check "the kill came mid-run ($applied of $BATCHES batches applied)" test "$applied" -lt "$BATCHES"

state=""
for ((i = 0; i < 900; i++)); do
  rc=0
  json="$(api "/api/runs/$run")" || rc=$?
  ((rc != 22)) || die "the Coordinator refused GET /api/runs/$run (above)"
  state=""
  [[ -z $json ]] || state="$(jq -r .state <<<"$json")"
  [[ $state == Completed || $state == Failed || $state == Rejected ]] && break
  sleep 1
done
api "/api/runs/$run/metrics" | jq -c '{batches, batchRows, rowsPerSecond}' || true
check "the run completes (state: ${state:-unknown})" test "$state" == Completed
say "Batches per Loader in run $run"
per_loader="$(loaded_by "$run")"
echo "$per_loader"
total="$(awk '{ s += $2 } END { print s + 0 }' <<<"$per_loader")"
check "every batch applied once ($total of $BATCHES)" test "$total" == "$BATCHES"
check "both Loaders applied batches" test "$(wc -l <<<"$per_loader")" -ge 2
check "the killed Loader ($victim_host) applied batches before it died" grep -q "^$victim_host/" <<<"$per_loader"
say "syncctl verify orders"
check "syncctl verify: destination equals source" cli verify orders
src="$(orders_md5 sync_demo_source)"
dst="$(orders_md5 sync_demo_destination)"
echo "source:      $src"
echo "destination: $dst"
check "md5 of every row equal" test "$src" == "$dst"

say "Traces of run $run"
sleep 8 # the services export spans every 5 s (OTEL_BSP_SCHEDULE_DELAY)
traces="$(jq -r --arg r "$run" 'select(.run == $r) | .trace' "$SPANS" | sort -u)"
check "the run's spans are one trace ($(wc -w <<<"$traces") trace ids)" test "$(wc -w <<<"$traces")" == 1
trace="$(head -n 1 <<<"$traces")"
jq -r --arg t "$trace" 'select(.trace == $t) | .service + " " + .instance' "$SPANS" | sort | uniq -c
services="$(jq -r --arg t "$trace" 'select(.trace == $t) | .service' "$SPANS" | sort -u | tr '\n' ' ')"
check "the trace spans all four services ($services)" test "$services" == "sync-coordinator sync-extractor sync-loader sync-transformer "
exit "$FAILED"
