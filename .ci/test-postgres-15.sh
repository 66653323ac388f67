#!/usr/bin/env bash
# Runs the test suite (the README's test command) against Debian's PostgreSQL 15 server through
# DATABASE_URL, so "any Postgres 14+" is checked on an older major than the embedded 18.
# Installs postgresql-15 with apt-get when missing; Debian's server refuses to run as root, so the
# cluster runs as the postgres user in a scratch directory on a loopback port, and is stopped after.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=/usr/lib/postgresql/15/bin
if [[ ! -x "$bin/postgres" ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi

data=$(mktemp -d)
chown postgres "$data"
port=55432
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
su postgres -c "$bin/initdb -D '$data/pg' -U postgres --auth=trust >/dev/null"
su postgres -c "$bin/pg_ctl -D '$data/pg' -o '-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off' -l '$data/log' -w start >/dev/null"
trap 'su postgres -c "$bin/pg_ctl -D \"$data/pg\" -m fast stop" >/dev/null; rm -rf "$data"' EXIT

DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres" npm test
