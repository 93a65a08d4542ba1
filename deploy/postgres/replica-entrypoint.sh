#!/usr/bin/env bash
# The entrypoint of the compose's `postgres-replica`: a streaming standby of `postgres`. Its first start
# (an empty data volume) copies the primary with pg_basebackup; -R writes standby.signal and
# primary_conninfo, so the server then starts as a hot standby streaming from the primary. Later starts
# find the copy and go straight on. The password comes from PGPASSWORD, which the standby's WAL receiver
# reads too.
set -euo pipefail

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -q -h "$PRIMARY_HOST" -U "$PRIMARY_USER"; do sleep 1; done
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U "$PRIMARY_USER" -D "$PGDATA" -R -X stream -c fast
fi
# The image's own entrypoint: it finds a data directory and starts the server as the postgres user.
exec docker-entrypoint.sh "$@"
