#!/usr/bin/env bash
# Token endpoint benchmark: the Compliance service against Node's oidc-provider, on the same machine, in turn, with the
# same load generator (autocannon) and the same settings. See README.md beside this file.
#
#   benchmarks/run.sh                       # everything, about 3 minutes
#   STORES=sqlite benchmarks/run.sh         # our embedded default only (no PostgreSQL, no tmpfs diagnostic)
#   SKIP_PUBLISH=1 benchmarks/run.sh        # reuse the last Release publish
#
# Settings (environment): DURATION (s, measured token run, 15), WARMUP (s, 10), SIDE_DURATION (s, side runs, 5),
# CONNECTIONS (32), CODES (codes exchanged, then refreshed, per server, 3000), CODE_WARMUP (codes per warm-up round, 2000),
# CODE_WARMUP_ROUNDS (3: both JITs reach their steady state first), ROUNDS (measured code-flow rounds, 3; the report
# takes each server's median), STORES ("sqlite sqlite-tmpfs postgresql"),
# PUBLISH_DIR (where our server is published, $TMPDIR/compliance-bench-server).
# Writes results/latest.md and results/latest.json, and prints the table. Stops everything it started.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-10}"
SIDE_DURATION="${SIDE_DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
CODES="${CODES:-3000}"
CODE_WARMUP="${CODE_WARMUP:-2000}"
CODE_WARMUP_ROUNDS="${CODE_WARMUP_ROUNDS:-3}"
ROUNDS="${ROUNDS:-3}"
STORES="${STORES:-sqlite sqlite-tmpfs postgresql}"
PUBLISH_DIR="${PUBLISH_DIR:-${TMPDIR:-/tmp}/compliance-bench-server}"
WORK="$(mktemp -d -t compliance-bench.XXXXXX)"
RAW="$WORK/raw"
mkdir -p "$RAW"

CLIENT_ID="demo-client"
CLIENT_SECRET="demo-client-secret-for-local-tries-only"
BASIC="Basic $(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)"
WRONG_BASIC="Basic $(printf '%s:%s' "$CLIENT_ID" "not-the-secret" | base64 -w0)"
FORM="Content-Type=application/x-www-form-urlencoded"

SERVER_PID=""
declare -A URLS=() PIDS=() TOKEN_PATHS=() TARGETS=() DB_PIDS=()
NAMES=()
PG_DATA=""
PGBIN=""
log() { printf '[bench] %s\n' "$*" >&2; }

as_pg_user() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

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
  for pid in "${PIDS[@]}"; do SERVER_PID="$pid"; stop_server; done
  stop_server
  if [ -n "$PG_DATA" ]; then as_pg_user "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ -L "$WORK/tmpfs-data" ]; then rm -rf "$(readlink "$WORK/tmpfs-data")"; fi
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

wait_ready() { # url, log file
  for _ in $(seq 1 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then log "the server exited; its log:"; tail -n 30 "$2" >&2; exit 1; fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = "200" ]; then return; fi
    sleep 0.5
  done
  log "not ready after 60 s: $1"; tail -n 30 "$2" >&2; exit 1
}

cpu_ticks() { # user + system CPU time of the server process (all its threads), in clock ticks
  awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"
}

cannon() { # name, duration, url, [extra autocannon args...]; connections: $CONNS if set, else $CONNECTIONS
  local name="$1" duration="$2" url="$3"; shift 3
  local before; before="$(cpu_ticks)"
  node "$HERE/node_modules/autocannon/autocannon.js" --json -c "${CONNS:-$CONNECTIONS}" -d "$duration" "$@" "$url" \
    >"$RAW/$name.json" 2>"$WORK/$name.err" || { log "autocannon failed for $name"; cat "$WORK/$name.err" >&2; exit 1; }
  echo "$(( $(cpu_ticks) - before )) $(getconf CLK_TCK)" >"$RAW/$name.cpu"
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
    console.error(`[bench]   ${process.argv[2]}: ${(r["2xx"]/r.duration).toFixed(0)} 2xx/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`)' \
    "$RAW/$name.json" "$name"
}

token_runs() { # prefix, token url, with side runs (1/0)
  local prefix="$1" url="$2" side="$3"
  cannon "$prefix-warmup" "$WARMUP" "$url" -m POST -H "Authorization=$BASIC" -H "$FORM" -b "grant_type=client_credentials" >/dev/null
  cannon "$prefix-token" "$DURATION" "$url" -m POST -H "Authorization=$BASIC" -H "$FORM" -b "grant_type=client_credentials"
  if [ "$side" = "1" ]; then
    # One connection: the cost of one request without contention between requests.
    CONNS=1 cannon "$prefix-token1" "$SIDE_DURATION" "$url" -m POST -H "Authorization=$BASIC" -H "$FORM" -b "grant_type=client_credentials"
    # Same endpoint and parsing, refused at client authentication (wrong secret, 401 invalid_client): the cost of
    # everything but signing and storing.
    cannon "$prefix-rejected" "$SIDE_DURATION" "$url" -m POST -H "Authorization=$WRONG_BASIC" -H "$FORM" -b "grant_type=client_credentials"
  fi
}

authcode_run() { # name, target, base url, warm-up codes, warm-up rounds, round (or "warmup": not recorded)
  local name="$1" out="$RAW/$1-authcode-$6.json"
  if [ "$6" = "warmup" ]; then
    node "$HERE/lib/authcode.mjs" --target "$2" --base "$3" --codes "$4" --concurrency "$CONNECTIONS" --warmup "$4" --warmup-rounds $(($5 - 1)) \
      >/dev/null 2>"$WORK/$name-warmup.err" || { log "warm-up failed for $name"; cat "$WORK/$name-warmup.err" >&2; exit 1; }
    return
  fi
  local db=()
  if [ -n "${DB_PIDS[$name]:-}" ]; then db=(--db-pid "${DB_PIDS[$name]}"); fi
  node "$HERE/lib/authcode.mjs" --target "$2" --base "$3" --codes "$CODES" --concurrency "$CONNECTIONS" --pid "$SERVER_PID" "${db[@]}" \
    >"$out" 2>"$WORK/$name-authcode.err" || { log "authorization-code run failed for $name"; cat "$WORK/$name-authcode.err" >&2; exit 1; }
  if [ -s "$WORK/$name-authcode.err" ]; then head -n 3 "$WORK/$name-authcode.err" | sed 's/^/[bench]   /' >&2; fi
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
    for (const [k, x] of Object.entries({ code: r.code, refresh: r.refresh }))
      console.error(`[bench]   ${process.argv[2]}-${k}: ${x.rps.toFixed(0)}/s, p50 ${x.p50.toFixed(1)} ms, p99 ${x.p99.toFixed(1)} ms, CPU ${x.cpuMs?.toFixed(3)} ms/req, failed ${x.failed}`)' \
    "$out" "$name"
}

LOAD_START="$(cut -d' ' -f1 /proc/loadavg)"
# --- tools ----------------------------------------------------------------------------------------------------
command -v node >/dev/null || { log "node is required"; exit 1; }
command -v dotnet >/dev/null || { log "dotnet is required"; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log "installing the npm packages (npm ci)"
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

if [ "${SKIP_PUBLISH:-0}" != "1" ] || [ ! -f "$PUBLISH_DIR/Compliance.Server.dll" ]; then
  log "publishing the server in Release to $PUBLISH_DIR"
  ok=0
  for attempt in 1 2 3; do
    if (cd "$ROOT" && dotnet publish src/Compliance.Server -c Release -o "$PUBLISH_DIR" -nologo -v quiet >"$WORK/publish.log" 2>&1); then ok=1; break; fi
    log "publish attempt $attempt failed; retrying in 20 s"; tail -n 5 "$WORK/publish.log" >&2
    sleep 20
  done
  [ "$ok" = "1" ] || { log "publish failed"; cat "$WORK/publish.log" >&2; exit 1; }
fi

# --- PostgreSQL (only if asked for and installed) --------------------------------------------------------------
PG_VERSION=""
if [[ " $STORES " == *" postgresql "* ]]; then
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$PGBIN" ]; then
    log "PostgreSQL is not installed: skipping the postgresql store (install the Debian package postgresql to include it)"
    STORES="${STORES//postgresql/}"
  else
    PG_PORT="$(free_port 56432)"
    mkdir -p "$WORK/pg/socket"; chmod 755 "$WORK"
    if [ "$(id -u)" = "0" ]; then chown -R postgres "$WORK/pg"; fi
    PG_DATA="$WORK/pg/data"
    as_pg_user "$PGBIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Durable settings (fsync and synchronous_commit stay on), as a production server would run.
    as_pg_user "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/server.log" -w -t 60 \
      -o "-p $PG_PORT -k $WORK/pg/socket -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    for db in bench_compliance bench_vault; do
      as_pg_user "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db" >/dev/null
    done
    PG_VERSION="$("$PGBIN/postgres" --version | awk '{print $3}')"
    log "PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT"
  fi
fi

# --- start every server (each on its own port; an idle server costs nothing) ------------------------------------
# Each server is started once and kept: the client_credentials rows load one server at a time, then the code-flow
# rows run in interleaved rounds (every server once per round), so that a burst of noise on this shared machine
# hits all of them alike; the report takes each server's median round.
start_server() { # name, target (ours|peer|peer-pg), url, token path, log, command...
  local name="$1" target="$2" url="$3" token="$4" logfile="$5"; shift 5
  "$@" >"$logfile" 2>&1 &
  SERVER_PID=$!
  PIDS[$name]=$SERVER_PID; URLS[$name]=$url; TOKEN_PATHS[$name]=$token; TARGETS[$name]=$target; NAMES+=("$name")
}
select_server() { SERVER_PID="${PIDS[$1]}"; }

next_port=5381
for store in $STORES; do
  env_args=()
  case "$store" in
    sqlite) DATA_DIR="$(mktemp -d -p "$WORK")" ;;
    sqlite-tmpfs) DATA_DIR="$(mktemp -d -p /dev/shm compliance-bench.XXXXXX)"; ln -s "$DATA_DIR" "$WORK/tmpfs-data" ;;
    postgresql)
      DATA_DIR="$(mktemp -d -p "$WORK")"
      env_args=(Storage__Provider=PostgreSQL Storage__MigrateOnStart=true
        "Storage__ComplianceConnectionString=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=bench_compliance"
        "Storage__VaultConnectionString=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=bench_vault") ;;
    *) log "unknown store $store"; exit 1 ;;
  esac
  port="$(free_port "$next_port")"; next_port=$((port + 1)); url="http://127.0.0.1:$port"
  log "ours ($store): starting on $url"
  start_server "ours-$store" ours "$url" /connect/token "$WORK/ours-$store.log" \
    env -C "$PUBLISH_DIR" ASPNETCORE_ENVIRONMENT=Development Urls="$url" Oidc__Issuer="$url" \
    Storage__DataDirectory="$DATA_DIR" Oidc__TokenRequestsPerSecond=1000000 Oidc__InteractiveRequestsPerMinute=10000 \
    Logging__LogLevel__Default=Warning Logging__LogLevel__Compliance.Oidc.Endpoints.Token.TokenResponses=Error \
    "${env_args[@]}" dotnet Compliance.Server.dll
  wait_ready "$url/health/ready" "$WORK/ours-$store.log"
  if [ "$store" = "postgresql" ]; then DB_PIDS["ours-$store"]="$(head -n 1 "$PG_DATA/postmaster.pid")"; fi
done

# The peer: oidc-provider, in memory; and the durable peer: the same on PostgreSQL (peer/pg-adapter.mjs), same cluster.
port="$(free_port 5581)"; url="http://127.0.0.1:$port"
log "peer (oidc-provider, in memory): starting on $url"
start_server peer peer "$url" /token "$WORK/peer.log" env -C "$HERE" NODE_ENV=production PORT="$port" node peer/server.mjs
wait_ready "$url/.well-known/openid-configuration" "$WORK/peer.log"
if [[ " $STORES " == *" postgresql "* ]]; then
  as_pg_user "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE bench_peer" >/dev/null
  port="$(free_port $((port + 1)))"; url="http://127.0.0.1:$port"
  log "durable peer (oidc-provider on PostgreSQL): starting on $url"
  start_server peer-pg peer-pg "$url" /token "$WORK/peer-pg.log" \
    env -C "$HERE" NODE_ENV=production PORT="$port" DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/bench_peer" node peer/server.mjs
  wait_ready "$url/.well-known/openid-configuration" "$WORK/peer-pg.log"
  DB_PIDS[peer-pg]="$(head -n 1 "$PG_DATA/postmaster.pid")"
fi

# --- client_credentials: one server at a time ----------------------------------------------------------------------
first=1
for name in "${NAMES[@]}"; do
  select_server "$name"
  side=0
  if [ "$name" = "peer" ] || { [ "${TARGETS[$name]}" = "ours" ] && [ "$first" = "1" ]; }; then side=1; fi
  token_runs "$name" "${URLS[$name]}${TOKEN_PATHS[$name]}" "$side"
  if [ "${TARGETS[$name]}" = "ours" ] && [ "$first" = "1" ]; then
    cannon "$name-live" "$SIDE_DURATION" "${URLS[$name]}/health/live"   # the framework's floor: routing, middleware, headers
    first=0
  fi
done

# --- code exchange and refresh: warm-up, then interleaved rounds ----------------------------------------------------
for name in "${NAMES[@]}"; do
  select_server "$name"
  log "$name: warming up the code flow ($CODE_WARMUP codes x $CODE_WARMUP_ROUNDS rounds)"
  authcode_run "$name" "${TARGETS[$name]}" "${URLS[$name]}" "$CODE_WARMUP" "$CODE_WARMUP_ROUNDS" warmup
done
for round in $(seq 1 "$ROUNDS"); do
  log "round $round of $ROUNDS"
  for name in "${NAMES[@]}"; do
    select_server "$name"
    authcode_run "$name" "${TARGETS[$name]}" "${URLS[$name]}" 0 0 "$round"
  done
done
for name in "${NAMES[@]}"; do select_server "$name"; stop_server; done
if [ -L "$WORK/tmpfs-data" ]; then rm -rf "$(readlink "$WORK/tmpfs-data")" "$WORK/tmpfs-data"; fi

# --- report -----------------------------------------------------------------------------------------------------
mkdir -p "$HERE/results"
node "$HERE/lib/report.mjs" --load-start "$LOAD_START" --raw "$RAW" --out "$HERE/results" --root "$ROOT" --stores "$STORES" \
  --duration "$DURATION" --warmup "$WARMUP" --side "$SIDE_DURATION" --connections "$CONNECTIONS" --codes "$CODES" --code-warmup "$CODE_WARMUP x $CODE_WARMUP_ROUNDS" --rounds "$ROUNDS" \
  --postgres "$PG_VERSION"
