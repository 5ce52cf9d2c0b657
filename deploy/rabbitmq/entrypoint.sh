#!/bin/sh
# Entry point of deploy/rabbitmq/Dockerfile: the default user from the environment, then the
# node in the foreground as PID 1 (so stop's SIGTERM reaches it), logging to standard output.
# Not Debian's /usr/sbin/rabbitmq-server: that wrapper sends the output to /var/log/rabbitmq
# and does not exec.
set -eu
cat >/etc/rabbitmq/rabbitmq.conf <<CONF
default_user = ${RABBITMQ_DEFAULT_USER:-sync}
default_pass = ${RABBITMQ_DEFAULT_PASS:-sync}
CONF
cd /var/lib/rabbitmq
exec /usr/lib/rabbitmq/bin/rabbitmq-server
