#!/usr/bin/env bash
# scripts/services.sh start|stop|restart|status — the four Sync services in the background.
#
#   start    infra up, dotnet build (Release; skipped with SYNC_NO_BUILD=1), create the control
#            database (SYNC_CONTROL_DB, default sync_control), start Coordinator, Extractor, Transformer and Loader
#            (SYNC_LOADER_COUNT=N starts N loaders, SYNC_EXTRACTOR_COUNT=N N extractors), wait for the Coordinator's /health
#   stop     TERM, then KILL after 10 s
#   status   which run
#
# Logs: ${SYNC_LOG_DIR:-.sync/logs}/<service>.log   pids: ${SYNC_RUN_DIR:-.sync/run}/<service>.pid
# (a second set of services, a bench say, gets folders of its own, so that its start and stop
# leave the first set alone).
# Environment given to the services (plus everything already exported, e.g. Connections__*, which
# the Coordinator does not get):
#   ConnectionStrings__Control, RabbitMq__Host/Port/VirtualHost (${SYNC_VHOST:-/}; another one is
#   created, with all permissions for the sync user, when missing), RabbitMq__Username and
#   RabbitMq__Password_FILE: each service logs in as its own user, sync-<service>, with only the
#   permissions deploy/rabbitmq/permissions.tsv gives it (`infra.sh broker-users` makes them and
#   their passwords in .sync/broker-users/), Jobs__Directory (${SYNC_JOBS_DIR:-$REPO/jobs}); the Coordinator listens on
#   http://127.0.0.1:${SYNC_API_PORT:-5080} (the others get the next ports, in case they serve
#   HTTP too); Messaging__JobSigningKey_FILE=.sync/job-signing-key (made at the first start)
#   unless Messaging__JobSigningKey(_FILE) is set.
set -euo pipefail

SCRIPTS="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
REPO="$(dirname "$SCRIPTS")"
STATE="$REPO/.sync"
LOGS="${SYNC_LOG_DIR:-$STATE/logs}"
RUN="${SYNC_RUN_DIR:-$STATE/run}"
VHOST="${SYNC_VHOST:-/}"
API_PORT="${SYNC_API_PORT:-5080}"
HEALTH_URL="http://127.0.0.1:$API_PORT/health"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# shellcheck source=scripts/die.sh
source "$SCRIPTS/die.sh"
die() { die_with_logs services "$@"; }

# name → project folder under services/ and assembly name
instances() {
  local n=${SYNC_LOADER_COUNT:-1} e=${SYNC_EXTRACTOR_COUNT:-1} i
  echo coordinator Coordinator
  echo extractor Extractor
  for ((i = 2; i <= e; i++)); do echo "extractor-$i Extractor"; done
  echo transformer Transformer
  echo loader Loader
  for ((i = 2; i <= n; i++)); do echo "loader-$i Loader"; done
}

pid_of() { # NAME → pid if it runs
  local f="$RUN/$1.pid" pid
  [[ -f $f ]] || return 1
  pid="$(cat "$f")"
  [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '\.dll$' || return 1
  echo "$pid"
}

solution() {
  local s
  for s in "${SYNC_SOLUTION:-}" Sync.sln Sync.slnx; do
    if [[ -n $s && -f $REPO/$s ]]; then
      echo "$REPO/$s"
      return 0
    fi
  done
  die "no Sync.sln / Sync.slnx in $REPO"
}

CONTROL_DB="${SYNC_CONTROL_DB:-sync_control}"
[[ $CONTROL_DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "SYNC_CONTROL_DB must be a plain lower-case name (got '$CONTROL_DB')"

ensure_control_db() {
  local exists
  exists="$("$SCRIPTS/pg.sh" psql -qtA -c "SELECT 1 FROM pg_database WHERE datname = '$CONTROL_DB'")" ||
    die "cannot query PostgreSQL on port $SYNC_PG_PORT"
  if [[ $exists != 1 ]]; then
    "$SCRIPTS/pg.sh" psql -q -c "CREATE DATABASE $CONTROL_DB OWNER sync" >/dev/null ||
      die "cannot create the database $CONTROL_DB"
  fi
}

# Services on a virtual host of their own share no queue with others on the same broker.
ensure_vhost() {
  [[ $VHOST == / ]] && return 0
  local vhosts
  vhosts="$("$SCRIPTS/rabbitmqctl.sh" -q list_vhosts --no-table-headers name)" || die "cannot list the RabbitMQ virtual hosts"
  grep -Fxq -- "$VHOST" <<<"$vhosts" && return 0
  # rabbitmqctl.sh grants the sync user all permissions on the vhost it adds.
  "$SCRIPTS/rabbitmqctl.sh" -q add_vhost "$VHOST" >/dev/null || die "cannot create the RabbitMQ virtual host $VHOST"
}

cmd_start() {
  command -v curl >/dev/null 2>&1 || die "curl is missing (apt-get install curl)"
  "$SCRIPTS/infra.sh" up
  eval "$("$SCRIPTS/infra.sh" env)"
  mkdir -p "$LOGS" "$RUN"

  if [[ ${SYNC_NO_BUILD:-0} != 1 ]]; then
    dotnet build "$(solution)" -c Release -v q -nologo
  fi
  ensure_control_db
  ensure_vhost
  "$SCRIPTS/infra.sh" broker-users "$VHOST" || die "cannot create the services' RabbitMQ users on $VHOST"
  local broker_users="${SYNC_BROKER_USERS_DIR:-$STATE/broker-users}"

  export ConnectionStrings__Control="Host=$SYNC_PG_HOST;Port=$SYNC_PG_PORT;Username=$SYNC_PG_USER;Password=$SYNC_PG_PASSWORD;Database=$CONTROL_DB"
  export RabbitMq__Host="$SYNC_RABBIT_HOST" RabbitMq__Port="$SYNC_RABBIT_PORT"
  export RabbitMq__VirtualHost="$VHOST"
  export Jobs__Directory="${SYNC_JOBS_DIR:-$REPO/jobs}"
  # The services sign and verify the jobs in stage messages with one shared key, and none starts
  # without it (issue 20): unless one is given, it is made once and kept in .sync, readable by this user only.
  if [[ -z ${Messaging__JobSigningKey:-} && -z ${Messaging__JobSigningKey_FILE:-} ]]; then
    mkdir -p "$STATE"
    [[ -s $STATE/job-signing-key ]] || (umask 077 && head -c 32 /dev/urandom | base64 >"$STATE/job-signing-key")
    export Messaging__JobSigningKey_FILE="$STATE/job-signing-key"
  fi

  local name project dll pid log port=$API_PORT started=()
  while read -r name project; do
    log="$LOGS/$name.log"
    if pid="$(pid_of "$name")"; then
      echo "services: $name already runs (pid $pid)" >&2
      port=$((port + 1))
      continue
    fi
    dll="$REPO/services/$project/bin/Release/net10.0/Sync.$project.dll"
    [[ -f $dll ]] || die "$dll is missing (build failed, or SYNC_NO_BUILD=1 without a build?)"
    local args=()
    [[ $name == coordinator ]] && args=(--urls "http://127.0.0.1:$port")
    local instance=() variable
    # The Coordinator gets no source or destination connection: the Extractor answers its
    # requests that need one (issue 17).
    if [[ $name == coordinator ]]; then
      for variable in $(compgen -e); do
        [[ $variable == *Connections__* ]] && instance+=(-u "$variable")
      done
    fi
    # Loaders name themselves in sync.applied_batches.loaded_by: loader, loader-2, …
    [[ $project == Loader ]] && instance=(Loader__InstanceName="$name")
    instance+=(RabbitMq__Username="${SYNC_BROKER_USER_PREFIX:-sync-}${project,,}" RabbitMq__Password_FILE="$broker_users/${project,,}")
    printf '\n===== %s start %s =====\n' "$(date -u +%FT%TZ)" "$name" >>"$log"
    # setsid: own session, so a Ctrl-C in this terminal does not reach the services.
    (cd "$(dirname "$dll")" &&
      exec env "${instance[@]}" ASPNETCORE_URLS="http://127.0.0.1:$port" setsid dotnet "$dll" "${args[@]}") >>"$log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
    started+=("$name")
    port=$((port + 1))
  done < <(instances)

  # Wait for the Coordinator's health endpoint; fail early when a service dies, and then
  # stop the ones this call started.
  local deadline=$((SECONDS + ${SYNC_START_TIMEOUT:-60}))
  until curl -fsS -o /dev/null --max-time 2 "$HEALTH_URL" 2>/dev/null; do
    for name in "${started[@]}"; do
      if ! pid_of "$name" >/dev/null; then
        stop_names "${started[@]}"
        die "$name exited during startup" "$LOGS/$name.log"
      fi
    done
    if ((SECONDS > deadline)); then
      stop_names "${started[@]}"
      die "no answer from $HEALTH_URL after ${SYNC_START_TIMEOUT:-60} s" "$LOGS/coordinator.log"
    fi
    sleep 0.5
  done
  echo "services: running; API on http://127.0.0.1:$API_PORT, logs in $LOGS" >&2
}

# stop_names NAME…: TERM, then KILL after 10 s.
stop_names() {
  local name pid pids=() names=()
  for name in "$@"; do
    if pid="$(pid_of "$name")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$name")
    else
      rm -f "$RUN/$name.pid"
    fi
  done
  local i deadline=$((SECONDS + 10))
  for i in "${!pids[@]}"; do
    while [[ -d /proc/${pids[$i]} ]] && ((SECONDS < deadline)); do sleep 0.2; done
    if [[ -d /proc/${pids[$i]} ]]; then
      echo "services: ${names[$i]} (pid ${pids[$i]}) ignored TERM, killing it" >&2
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    rm -f "$RUN/${names[$i]}.pid"
  done
}

# The services' pid files in $RUN (extractors and loaders of an earlier count included), by name;
# the infrastructure keeps its own there too (s3rver.pid), which are not ours to stop.
service_names() {
  local f name
  for f in "$RUN"/*.pid; do
    [[ -e $f ]] || continue
    name="$(basename "$f" .pid)"
    [[ $name =~ ^(coordinator|transformer|(extractor|loader)(-[0-9]+)?)$ ]] && echo "$name"
  done
  return 0
}

cmd_stop() {
  local names=()
  [[ -d $RUN ]] || return 0
  mapfile -t names < <(service_names)
  ((${#names[@]} == 0)) || stop_names "${names[@]}"
}

cmd_status() {
  local name project pid rc=0
  local -A seen=()
  while read -r name project; do
    seen[$name]=1
    if pid="$(pid_of "$name")"; then
      echo "$name: running (pid $pid)"
    else
      echo "$name: stopped"
      rc=3
    fi
  done < <(instances)
  while read -r name; do # extra loaders of an earlier SYNC_LOADER_COUNT
    [[ -z ${seen[$name]:-} ]] || continue
    if pid="$(pid_of "$name")"; then echo "$name: running (pid $pid)"; fi
  done < <(service_names)
  if curl -fsS -o /dev/null --max-time 2 "$HEALTH_URL" 2>/dev/null; then
    echo "health: $HEALTH_URL OK"
  fi
  return "$rc"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart)
    cmd_stop
    cmd_start
    ;;
  status) cmd_status ;;
  *)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
