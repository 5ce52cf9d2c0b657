#!/bin/bash
# Entry point of deploy/rabbitmq/Dockerfile: the users from the environment, then the node in the
# foreground as PID 1 (so stop's SIGTERM reaches it), logging to standard output. Not Debian's
# /usr/sbin/rabbitmq-server: that wrapper sends the output to /var/log/rabbitmq and does not exec.
#
# Users (issue 20), written at every start into a definitions file the node imports as it boots:
# - the administrator RABBITMQ_DEFAULT_USER (default sync), password RABBITMQ_DEFAULT_PASS or the
#   file RABBITMQ_DEFAULT_PASS_FILE (default /run/secrets/rabbitmq-admin), with all permissions on / (the management UI, the scripts);
# - one user per service of /etc/rabbitmq/permissions.tsv, sync-<service>, with only that file's
#   permissions on /; password RABBITMQ_<SERVICE>_PASS or the file RABBITMQ_<SERVICE>_PASS_FILE
#   (default /run/secrets/rabbitmq-<service>).
# A missing password stops the start naming it: there is no default credential.
set -euo pipefail

die() {
  echo "rabbitmq-entrypoint: $*" >&2
  exit 1
}

# password NAME DEFAULT-FILE: $NAME, else the content of the file $NAME_FILE (default DEFAULT-FILE).
password() {
  local name=$1 file_name="${1}_FILE" file value
  value="${!name:-}"
  if [[ -z $value ]]; then
    file="${!file_name:-$2}"
    [[ -n $file && -r $file ]] || die "no password: set $name or $file_name (a readable file; ${file:-none given})"
    value="$(cat "$file")"
  fi
  [[ -n $value ]] || die "$name is empty"
  printf '%s' "$value"
}

unhex() { printf "$(sed 's/../\\x&/g' <<<"$1")"; }

# RabbitMQ's rabbit_password_hashing_sha256: base64(salt ‖ sha256(salt ‖ password)), a 4-byte salt.
hash_password() {
  local salt digest
  salt="$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  digest="$({
    unhex "$salt"
    printf '%s' "$1"
  } | sha256sum | cut -c1-64)"
  {
    unhex "$salt"
    unhex "$digest"
  } | base64 -w0
}

json() { # a JSON string
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}

user_json() { # NAME PASSWORD TAGS
  printf '{"name":%s,"password_hash":%s,"hashing_algorithm":"rabbit_password_hashing_sha256","tags":%s}' \
    "$(json "$1")" "$(json "$(hash_password "$2")")" "$(json "$3")"
}

permission_json() { # USER CONFIGURE WRITE READ
  printf '{"user":%s,"vhost":"/","configure":%s,"write":%s,"read":%s}' "$(json "$1")" "$(json "$2")" "$(json "$3")" "$(json "$4")"
}

# Each password in a plain assignment first: a failure inside $(…) in a command's arguments would
# not stop the script.
admin="${RABBITMQ_DEFAULT_USER:-sync}"
secret="$(password RABBITMQ_DEFAULT_PASS /run/secrets/rabbitmq-admin)"
users=("$(user_json "$admin" "$secret" administrator)")
permissions=("$(permission_json "$admin" '.*' '.*' '.*')")
while IFS=$'\t' read -r service configure write read; do
  [[ -n $service && $service != \#* ]] || continue
  secret="$(password "RABBITMQ_${service^^}_PASS" "/run/secrets/rabbitmq-$service")"
  users+=("$(user_json "sync-$service" "$secret" "")")
  permissions+=("$(permission_json "sync-$service" "$configure" "$write" "$read")")
done </etc/rabbitmq/permissions.tsv

definitions=/var/lib/rabbitmq/definitions.json
(
  umask 077
  IFS=,
  printf '{"vhosts":[{"name":"/"}],"users":[%s],"permissions":[%s]}\n' "${users[*]}" "${permissions[*]}" >"$definitions"
)
# With definitions to import the node makes no default user or vhost of its own; it imports them
# at every boot, so a changed password takes effect at the next start.
cat >/etc/rabbitmq/rabbitmq.conf <<CONF
load_definitions = $definitions
CONF
cd /var/lib/rabbitmq
exec /usr/lib/rabbitmq/bin/rabbitmq-server
