#!/usr/bin/env bash
# scripts/rabbit-cluster.sh — a throw-away 3-node RabbitMQ cluster on loopback (issue 19), for tests.
#   up DIR PORT         start nodes 1..3 with their state in DIR (made, owned by rabbitmq) and join
#                       2 and 3 to 1; AMQP on 127.0.0.1:PORT+1..PORT+3, distribution PORT+11..13,
#                       a private epmd on PORT+20, CLI distribution PORT+30..39. Prints the
#                       cluster's AMQP addresses, comma-separated (RabbitMq__ClusterMembers).
#   stop-app DIR N      rabbitmqctl stop_app on node N: its connections drop, the others go on
#   kill DIR N          kill -9 of node N's Erlang VM: as a crashed machine, at once
#   start-app DIR N     start_app on node N again
#   ctl DIR N ARGS…     rabbitmqctl ARGS… against node N
#   down DIR            stop the three nodes and their epmd, delete DIR
# The nodes log in guest/guest from loopback only, have vhost "/" and nothing else. Nothing here
# touches the shared node of scripts/infra.sh (its own names, ports, epmd and cookie).
set -euo pipefail

_usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
_as_rabbitmq() { if ((EUID == 0)); then runuser -u rabbitmq -- "$@"; else "$@"; fi; }
_rmq_bin=/usr/lib/rabbitmq/bin

# _env DIR N: the environment of node N's server and of a CLI talking to it.
_env() {
  local dir=$1 n=$2 port
  port="$(cat "$dir/port")"
  echo HOME="$dir"
  echo RABBITMQ_NODENAME="$(_node "$dir" "$n")"
  echo RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  echo RABBITMQ_NODE_PORT=$((port + n))
  echo RABBITMQ_DIST_PORT=$((port + 10 + n))
  echo ERL_EPMD_ADDRESS=127.0.0.1
  echo ERL_EPMD_PORT=$((port + 20))
  echo RABBITMQ_MNESIA_BASE="$dir/node$n/mnesia"
  echo RABBITMQ_LOG_BASE="$dir/node$n/log"
  echo RABBITMQ_PID_FILE="$dir/node$n/pid"
  echo RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  echo RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
  echo RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
  echo RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
  echo RABBITMQ_USE_LONGNAME=false
  echo RABBITMQ_CTL_DIST_PORT_MIN=$((port + 30))
  echo RABBITMQ_CTL_DIST_PORT_MAX=$((port + 39))
  echo "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
}

_node() { echo "c$2-$(cat "$1/port")@localhost"; }

_ctl() {
  local dir=$1 n=$2
  shift 2
  local -a env
  mapfile -t env < <(_env "$dir" "$n")
  (cd "$dir" && _as_rabbitmq env "${env[@]}" timeout 120 "$_rmq_bin/rabbitmqctl" -n "$(_node "$dir" "$n")" "$@")
}

_start() {
  local dir=$1 n=$2
  local -a env
  mapfile -t env < <(_env "$dir" "$n")
  mkdir -p "$dir/node$n/mnesia" "$dir/node$n/log"
  chown -R rabbitmq:rabbitmq "$dir/node$n" 2>/dev/null || true
  (cd "$dir" && _as_rabbitmq env "${env[@]}" "$_rmq_bin/rabbitmq-server" -detached) >"$dir/node$n/log/startup.log" 2>&1 </dev/null
}

_up() {
  local dir=$1 port=$2 n
  mkdir -p "$dir"
  echo "$port" >"$dir/port"
  echo '[].' >"$dir/enabled_plugins"
  : >"$dir/rabbitmq.conf"
  echo '[].' >"$dir/advanced.config"
  : >"$dir/rabbitmq-env.conf"
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '+/=\n' >"$dir/.erlang.cookie")
  if ((EUID == 0)); then chown -R rabbitmq:rabbitmq "$dir"; fi
  for n in 1 2 3; do _start "$dir" "$n"; done
  # await_startup fails at once while a node has not yet registered with epmd (as node 1 often has
  # not, a second after it was started); wait waits for its pid file first, then for the app.
  for n in 1 2 3; do _ctl "$dir" "$n" -q wait "$dir/node$n/pid" --timeout 120; done
  for n in 2 3; do
    _ctl "$dir" "$n" -q stop_app
    _ctl "$dir" "$n" -q join_cluster "$(_node "$dir" 1)"
    _ctl "$dir" "$n" -q start_app
  done
  for n in 1 2 3; do _ctl "$dir" "$n" -q await_startup --timeout 120; done
  echo "127.0.0.1:$((port + 1)),127.0.0.1:$((port + 2)),127.0.0.1:$((port + 3))"
}

_down() {
  local dir=$1 n pid port
  [[ -f $dir/port ]] || { rm -rf "$dir"; return 0; }
  port="$(cat "$dir/port")"
  for n in 1 2 3; do
    if [[ -f $dir/node$n/pid ]]; then
      pid="$(cat "$dir/node$n/pid")"
      _ctl "$dir" "$n" -q stop >/dev/null 2>&1 || true
      for _ in $(seq 1 50); do [[ -d /proc/$pid ]] || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  # A node that failed before writing its pid file: find its VM by its home folder.
  pkill -KILL -f -- "-home $dir -" 2>/dev/null || true
  # The nodes' own epmd (started by the first node on PORT+20), not the shared one.
  ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$((port + 20)) timeout 10 epmd -kill >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  up) (($# == 3)) || _usage; _up "$2" "$3" ;;
  down) (($# == 2)) || _usage; _down "$2" ;;
  stop-app) (($# == 3)) || _usage; _ctl "$2" "$3" -q stop_app ;;
  start-app) (($# == 3)) || _usage; _ctl "$2" "$3" -q start_app ;;
  kill) (($# == 3)) || _usage; kill -KILL "$(cat "$2/node$3/pid")" ;;
  ctl) (($# >= 3)) || _usage; d=$2 n=$3; shift 3; _ctl "$d" "$n" "$@" ;;
  *) _usage ;;
esac
