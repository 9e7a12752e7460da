#!/usr/bin/env bash
# Partner consent check benchmark: POST /partner/v1/consents/check against our own floor (GET /health/live) and the
# client_credentials token rate, on the same server, in the same run. See README.md beside this file.
#
#   benchmarks/consent.sh                   # SQLite and PostgreSQL, about 2 minutes
#   STORES=sqlite benchmarks/consent.sh     # the embedded default only
#   SKIP_PUBLISH=1 benchmarks/consent.sh    # reuse the last Release publish (PUBLISH_DIR, shared with run.sh)
#
# Settings (environment): DURATION (s, each measured run, 10), WARMUP (s, 5), CONNECTIONS (32), STORES, PUBLISH_DIR.
# The check asks about the Development demo account at the demo client, for `research`, which the demo client records
# as given first (partner-recorded consent): an allowed answer, read from the store like every answer.
# Writes results/consent-latest.md and prints it.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
STORES="${STORES:-sqlite postgresql}"
PUBLISH_DIR="${PUBLISH_DIR:-${TMPDIR:-/tmp}/compliance-bench-server}"
NOTICE_VERSION="2025-09"
WORK="$(mktemp -d -t compliance-consent-bench.XXXXXX)"
BASIC="Basic $(printf '%s:%s' demo-client demo-client-secret-for-local-tries-only | base64 -w0)"
SERVER_PID=""
PG_DATA=""
PGBIN=""
log() { printf '[consent-bench] %s\n' "$*" >&2; }
as_pg_user() { if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
cleanup() {
  stop_server
  if [ -n "$PG_DATA" ]; then as_pg_user "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  log "no free port from $1"; exit 1
}

# Runs autocannon; prints "req/s p50 p99" (2xx only) on stdout.
cannon() { # duration, url, [extra autocannon args...]
  local duration="$1" url="$2"; shift 2
  node "$HERE/node_modules/autocannon/autocannon.js" --json -c "$CONNECTIONS" -d "$duration" "$@" "$url" 2>/dev/null \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);
        if (r.non2xx) { console.error(`[consent-bench] ${r.non2xx} non-2xx answers`); process.exit(1); }
        console.log(`${(r["2xx"]/r.duration).toFixed(0)} ${r.latency.p50} ${r.latency.p99}`);})'
}

command -v node >/dev/null || { log "node is required"; exit 1; }
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
if [ "${SKIP_PUBLISH:-0}" != "1" ] || [ ! -f "$PUBLISH_DIR/Compliance.Server.dll" ]; then
  log "publishing the server in Release to $PUBLISH_DIR"
  (cd "$ROOT" && dotnet publish src/Compliance.Server -c Release -o "$PUBLISH_DIR" -nologo -v quiet >"$WORK/publish.log" 2>&1) \
    || { log "publish failed"; cat "$WORK/publish.log" >&2; exit 1; }
fi

if [[ " $STORES " == *" postgresql "* ]]; then
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$PGBIN" ] || { log "PostgreSQL is not installed"; exit 1; }
  PG_PORT="$(free_port 56532)"
  mkdir -p "$WORK/pg/socket"; chmod 755 "$WORK"
  if [ "$(id -u)" = "0" ]; then chown -R postgres "$WORK/pg"; fi
  PG_DATA="$WORK/pg/data"
  as_pg_user "$PGBIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_pg_user "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $WORK/pg/socket -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  for db in bench_compliance bench_vault; do as_pg_user "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db" >/dev/null; done
fi

NOTICE_SHA="$(sha256sum "$ROOT/policies/notices/research/$NOTICE_VERSION.fr.md" | cut -d' ' -f1)"
LOAD_START="$(cut -d' ' -f1 /proc/loadavg)"
ROWS=""
for store in $STORES; do
  env_args=()
  DATA_DIR="$(mktemp -d -p "$WORK")"
  if [ "$store" = "postgresql" ]; then
    env_args=(Storage__Provider=PostgreSQL Storage__MigrateOnStart=true
      "Storage__ComplianceConnectionString=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=bench_compliance"
      "Storage__VaultConnectionString=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=bench_vault")
  fi
  port="$(free_port 5681)"; url="http://127.0.0.1:$port"
  log "ours ($store) on $url"
  env -C "$PUBLISH_DIR" ASPNETCORE_ENVIRONMENT=Development Urls="$url" Oidc__Issuer="$url" Storage__DataDirectory="$DATA_DIR" \
    Oidc__TokenRequestsPerSecond=1000000 Oidc__InteractiveRequestsPerMinute=10000 Logging__LogLevel__Default=Warning \
    "${env_args[@]}" dotnet Compliance.Server.dll >"$WORK/server-$store.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 "$WORK/server-$store.log" >&2; exit 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready" || true)" = "200" ] && break
    sleep 0.5
  done

  SUB="$(node "$HERE/lib/authcode.mjs" --target ours --base "$url" --phase sub | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).sub))')"
  # To the millisecond: a decision collected before the one that stands (the sign-in's, just above) is refused.
  COLLECTED="$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)"
  status="$(curl -s -o "$WORK/record.json" -w '%{http_code}' -X POST "$url/partner/v1/consents" -H "Authorization: $BASIC" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: bench-$store" \
    -d "{\"sub\":\"$SUB\",\"purpose\":\"research\",\"decision\":\"given\",\"notice_version\":\"$NOTICE_VERSION\",\"notice_sha256\":\"$NOTICE_SHA\",\"language\":\"fr\",\"collected_at\":\"$COLLECTED\",\"reference\":\"bench\",\"collection_method\":\"app-checkbox\"}")"
  [ "$status" = "201" ] || { log "recording the consent answered $status: $(cat "$WORK/record.json")"; exit 1; }
  CHECK_BODY="{\"sub\":\"$SUB\",\"purpose\":\"research\"}"
  curl -s -X POST "$url/partner/v1/consents/check" -H "Authorization: $BASIC" -H 'Content-Type: application/json' -d "$CHECK_BODY" \
    | grep -q '"allowed":true' || { log "the check does not allow the recorded consent"; exit 1; }

  check=(-m POST -H "Authorization=$BASIC" -H "Content-Type=application/json" -b "$CHECK_BODY")
  token=(-m POST -H "Authorization=$BASIC" -H "Content-Type=application/x-www-form-urlencoded" -b "grant_type=client_credentials")
  cannon "$WARMUP" "$url/partner/v1/consents/check" "${check[@]}" >/dev/null
  cannon "$WARMUP" "$url/connect/token" "${token[@]}" >/dev/null
  cannon "$WARMUP" "$url/health/live" >/dev/null
  read -r live_rps live_p50 live_p99 <<<"$(cannon "$DURATION" "$url/health/live")"
  read -r check_rps check_p50 check_p99 <<<"$(cannon "$DURATION" "$url/partner/v1/consents/check" "${check[@]}")"
  read -r token_rps token_p50 token_p99 <<<"$(cannon "$DURATION" "$url/connect/token" "${token[@]}")"
  ratio="$(node -e "console.log(($check_rps/$live_rps).toFixed(2))")"
  verdict="$(node -e "console.log($check_rps/$live_rps >= 0.3 ? 'met' : 'NOT met')")"
  log "$store: live $live_rps/s, check $check_rps/s (p99 $check_p99 ms), token $token_rps/s, ratio $ratio"
  ROWS+="| $store | $live_rps | $live_p99 | $check_rps | $check_p50 | $check_p99 | $token_rps | $token_p99 | ${ratio}x ($verdict) |"$'\n'
  stop_server
done

mkdir -p "$HERE/results"
{
  echo "# Partner consent check ($(date -u +'%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $LOAD_START at the start, commit $(git -C "$ROOT" rev-parse --short HEAD))"
  echo
  echo "autocannon, $CONNECTIONS connections, $DURATION s per figure after $WARMUP s of warm-up; our server in Release, Development settings"
  echo "(demo client, HTTP Basic), durable stores. The check is allowed (a consent recorded by the partner) and read from the"
  echo "store on every request (PostgreSQL: group reads). Target: check ≥ 0.3× the /health/live floor."
  echo
  echo "| store | /health/live req/s | live p99 ms | check req/s | check p50 ms | check p99 ms | client_credentials req/s | token p99 ms | check / live |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s' "$ROWS"
} | tee "$HERE/results/consent-latest.md"
