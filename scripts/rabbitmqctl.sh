#!/usr/bin/env bash
# scripts/rabbitmqctl.sh ARGS… — rabbitmqctl against our private node (sync@localhost by
# default), with the right cookie, epmd port and node name. Works from any folder.
# Examples: scripts/rabbitmqctl.sh list_vhosts
#           scripts/rabbitmqctl.sh add_vhost test1
#           scripts/rabbitmqctl.sh set_permissions -p test1 sync '.*' '.*' '.*'
set -euo pipefail
here="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
exec "$here/infra.sh" rabbitmqctl "$@"
