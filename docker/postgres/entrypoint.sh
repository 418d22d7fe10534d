#!/bin/sh
# Starts the team ledger's Postgres. On the first start (an empty volume) it
# creates the cluster: the superuser POSTGRES_USER with the password in
# POSTGRES_PASSWORD_FILE (a secret, never in the environment), the database
# POSTGRES_DB, C collation (the ledger compares text byte-wise, as SQLite
# does) and password logins (scram-sha-256) from the gateway's network.
# The socket, inside the container only, trusts its own processes (as the
# registry image does), so "docker exec ... psql" works for the operator.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pw="${POSTGRES_PASSWORD_FILE:-}"
  if [ -z "$pw" ] || [ ! -s "$pw" ]; then
    echo "cctl-postgres: POSTGRES_PASSWORD_FILE must name a file that holds the password (the gateway folder's secrets/postgres-password)." >&2
    exit 1
  fi
  echo "cctl-postgres: creating the ledger's cluster in $PGDATA (user $user, database $db)"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pw" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  printf '%s\n' "host all all 0.0.0.0/0 scram-sha-256" "host all all ::/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  printf '%s\n' "listen_addresses = '*'" "unix_socket_directories = '/run/postgresql'" >> "$PGDATA/postgresql.conf"
  if [ "$db" != postgres ]; then
    printf 'CREATE DATABASE "%s";\n' "$db" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
fi

exec postgres -D "$PGDATA"
