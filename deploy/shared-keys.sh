#!/bin/sh
# shared-keys: one SSH host key and one instructor token for every server of
# a class.
#
#   shared-keys KEYDIR DATADIR...
#
# Several Expedition servers behind one load balancer must answer with the
# same host key, or a student sent to another server than last time reads
# "REMOTE HOST IDENTIFICATION HAS CHANGED", and must accept the same
# instructor token. Each server reads both from its data directory
# (host_ed25519, instructor_token) and makes its own only when they are
# missing. This makes them once in KEYDIR (kept there, reused on every later
# run) and copies them into each DATADIR, owned by EXPEDITION_UID (65532,
# the container's user, unless set; group EXPEDITION_GID, the same
# number unless set) with mode 0600.
#
# compose.yaml runs it in its keys service before the servers start.
set -eu

if [ "$#" -lt 2 ]; then
  echo "usage: shared-keys KEYDIR DATADIR..." >&2
  exit 2
fi
keys=$1
shift
owner=${EXPEDITION_UID:-65532}
group=${EXPEDITION_GID:-$owner}

umask 077
mkdir -p "$keys"

if [ ! -s "$keys/host_ed25519" ]; then
  ssh-keygen -q -t ed25519 -N '' -C expedition -f "$keys/host_ed25519"
fi
if [ ! -s "$keys/host_ed25519.pub" ]; then
  ssh-keygen -y -f "$keys/host_ed25519" >"$keys/host_ed25519.pub"
fi

if [ ! -s "$keys/instructor_token" ]; then
  # The server's own shape: 16 base32 letters, lower case, in fours.
  head -c 10 /dev/urandom | base32 | tr 'A-Z' 'a-z' |
    sed 's/^\(....\)\(....\)\(....\)\(....\)$/\1-\2-\3-\4/' >"$keys/instructor_token"
fi
token=$(tr -d ' \n' <"$keys/instructor_token")
# A token of another shape is not an error to the server: it silently makes
# a new one, different on every server. Refuse it here instead.
if ! printf '%s\n' "$token" | grep -Eqx '[a-z2-7]{4}(-[a-z2-7]{4}){3}'; then
  echo "shared-keys: $keys/instructor_token is not of the form abcd-efgh-ijkl-mnop (letters a-z, digits 2-7)" >&2
  exit 1
fi

for data in "$@"; do
  install -d -m 0700 -o "$owner" -g "$group" "$data"
  install -m 0600 -o "$owner" -g "$group" "$keys/host_ed25519" "$data/host_ed25519"
  install -m 0600 -o "$owner" -g "$group" "$keys/host_ed25519.pub" "$data/host_ed25519.pub"
  install -m 0600 -o "$owner" -g "$group" "$keys/instructor_token" "$data/instructor_token"
done

echo "host key for the projector: $(ssh-keygen -lf "$keys/host_ed25519.pub")"
echo "instructor token: $token"
echo "copied into: $*"
