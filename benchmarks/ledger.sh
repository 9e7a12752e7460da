#!/usr/bin/env bash
# Consent-ledger benchmark: this machine's SHA-256 throughput, then
#   memory:     full verification of synthetic events through LedgerVerifier (rows from memory);
#   postgresql: appends through the ledger on a throw-away PostgreSQL cluster (fsync on), then full verification
#               from its tables.
# Writes results/ledger-verify-latest.md (memory) or results/ledger-postgresql-latest.md. See README.md, "Consent ledger".
#   benchmarks/ledger.sh                                   # mode memory, 1,000,000 events, about a minute
#   LEDGER_MODE=postgresql benchmarks/ledger.sh            # 200,000 events, a few minutes
# In postgresql mode it also gives two ceilings measured in the same run (a binary COPY of the same rows, discarded; the
# verifier alone on the same rows from memory) and the client's and server's CPU per event.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
MODE="${LEDGER_MODE:-memory}"
if [ "$MODE" = "postgresql" ]; then
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$PGBIN" ] || { echo "PostgreSQL is not installed (Debian package postgresql)" >&2; exit 1; }
  WORK="$(mktemp -d)"; chmod 755 "$WORK"
  as_pg_user() { if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  if [ "$(id -u)" = "0" ] && ! id postgres >/dev/null 2>&1; then useradd --system --home-dir "$WORK" postgres; fi
  mkdir -p "$WORK/pg"; if [ "$(id -u)" = "0" ]; then chown -R postgres "$WORK/pg"; fi
  PORT=56532; while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
  as_pg_user "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  trap 'as_pg_user "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
  as_pg_user "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w -t 60 \
    -o "-p $PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  for db in bench_compliance bench_vault; do as_pg_user "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE $db" >/dev/null; done
  # LEDGER_PG_DATA lets the benchmark add up the cluster's CPU time from /proc (server CPU per event).
  export LEDGER_PG="Host=127.0.0.1;Port=$PORT;Username=postgres" LEDGER_PG_DATA="$WORK/pg/data"
  dotnet run -c Release --project "$HERE/ledger" -- --mode postgresql --events "${LEDGER_EVENTS:-200000}" \
    --report "$HERE/results/ledger-postgresql-latest.md"
else
  dotnet run -c Release --project "$HERE/ledger" -- --mode "$MODE" --events "${LEDGER_EVENTS:-1000000}" \
    --report "$HERE/results/ledger-verify-latest.md"
fi
