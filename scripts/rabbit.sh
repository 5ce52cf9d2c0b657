#!/usr/bin/env bash
# scripts/rabbit.sh start|stop|restart — our private RabbitMQ node (see infra.sh).
#   stop     rabbitmqctl stop_app: every connection drops and the AMQP port closes, the Erlang
#            node (and all durable data) stays
#   start    start_app again (or boot the whole node if it is not running); waits for AMQP
#   restart  stop, then start
# Works from any folder; used by the failure tests through SYNC_RABBIT_STOP / SYNC_RABBIT_START.
set -euo pipefail
here="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
case "${1:-}" in
  start | stop | restart) exec "$here/infra.sh" "rabbit-$1" ;;
  *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
