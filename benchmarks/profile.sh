#!/usr/bin/env bash
# Where does a token request spend its CPU? Starts our server (SQLite by default, or STORE=postgresql with PG_URL
# pointing at an empty compliance database and PG_VAULT_URL at an empty vault database), warms it up with the same flow,
# then samples the server's CPU with Linux perf while the load runs, and prints:
#   1. the CPU split by library (our and the framework's JIT-compiled code, the runtime, SQLite, OpenSSL, the kernel);
#   2. the request path's frames, inclusive, from the token endpoint down.
#
#   benchmarks/profile.sh                         # SCENARIO=code: authorization-code exchanges
#   SCENARIO=refresh benchmarks/profile.sh        # refresh-token rotations
#   SCENARIO=client_credentials benchmarks/profile.sh
#
# Needs the Release publish of run.sh (run it once first, or SKIP_PUBLISH=0), and perf (Debian: linux-perf; installed
# if missing and root). JIT-compiled frames are named through the runtime's perf map (DOTNET_PerfMapEnabled=1), which
# is why the server runs with W^X off here: perf cannot name code in the double-mapped pages otherwise.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SCENARIO="${SCENARIO:-code}"
CONNECTIONS="${CONNECTIONS:-32}"
SECONDS_SAMPLED="${SECONDS_SAMPLED:-5}"
PUBLISH_DIR="${PUBLISH_DIR:-${TMPDIR:-/tmp}/compliance-bench-server}"
WORK="$(mktemp -d -t compliance-profile.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
  if [ -n "$SERVER_PID" ]; then rm -f "/tmp/perf-$SERVER_PID.map"; fi
}
trap cleanup EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v perf >/dev/null; then
  if [ "$(id -u)" = "0" ]; then apt-get install -y -qq linux-perf >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
  else echo "perf is required (Debian package linux-perf)" >&2; exit 1; fi
fi
if [ "${SKIP_PUBLISH:-1}" != "1" ] || [ ! -f "$PUBLISH_DIR/Compliance.Server.dll" ]; then
  (cd "$ROOT" && dotnet publish src/Compliance.Server -c Release -o "$PUBLISH_DIR" -nologo -v quiet)
fi
[ -d "$HERE/node_modules/autocannon" ] || (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

PORT=5391
while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
URL="http://127.0.0.1:$PORT"
store_env=()
if [ "${STORE:-sqlite}" = "postgresql" ]; then
  store_env=(Storage__Provider=PostgreSQL Storage__MigrateOnStart=true "Storage__ComplianceConnectionString=$PG_URL" "Storage__VaultConnectionString=$PG_VAULT_URL")
fi
(cd "$PUBLISH_DIR" && exec env DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 ASPNETCORE_ENVIRONMENT=Development \
  Urls="$URL" Oidc__Issuer="$URL" Storage__DataDirectory="$WORK/data" Oidc__TokenRequestsPerSecond=1000000 \
  Oidc__InteractiveRequestsPerMinute=10000 Logging__LogLevel__Default=Warning "${store_env[@]}" dotnet Compliance.Server.dll) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health/ready" || true)" = "200" ] && break; sleep 0.5; done

BASIC="Basic $(printf 'demo-client:demo-client-secret-for-local-tries-only' | base64 -w0)"
cannon() { # seconds
  node "$HERE/node_modules/autocannon/autocannon.js" -c "$CONNECTIONS" -d "$1" -m POST -H "Authorization=$BASIC" \
    -H "Content-Type=application/x-www-form-urlencoded" -b grant_type=client_credentials "$URL/connect/token" 2>&1 | grep 'requests in' || true
}
codes() { # codes, warm-up codes, warm-up rounds
  node "$HERE/lib/authcode.mjs" --target ours --base "$URL" --codes "$1" --concurrency "$CONNECTIONS" --warmup "$2" \
    --warmup-rounds "$3" --pid "$SERVER_PID" --phase "$SCENARIO"
}

echo "=== $SCENARIO, $CONNECTIONS connections: warming up ===" >&2
if [ "$SCENARIO" = "client_credentials" ]; then
  cannon 20 >/dev/null
  perf record -F 999 -g -p "$SERVER_PID" -o "$WORK/perf.data" -- sleep "$SECONDS_SAMPLED" 2>/dev/null &
  sampler=$!
  cannon $((SECONDS_SAMPLED + 2))
  wait "$sampler" || true
else
  codes 1000 2000 3 >/dev/null
  # The timed phase starts after the codes are collected (about 2 s for 4000 on this machine); perf samples inside it.
  codes 4000 0 0 >"$WORK/result.json" &
  load=$!
  sleep "${COLLECT_SECONDS:-6}"
  perf record -F 999 -g -p "$SERVER_PID" -o "$WORK/perf.data" -- sleep "$SECONDS_SAMPLED" 2>/dev/null
  wait "$load"
  cat "$WORK/result.json"
fi

echo
echo "=== CPU by library (self time) ==="
perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep '%' | grep -v -- '--' | head -n 10 \
  | sed 's/\[JIT\] tid [0-9]*/JIT-compiled .NET code (ours, ASP.NET Core, EF Core)/'
echo
echo "=== request path, inclusive (async continuations make nested figures approximate) ==="
perf report -i "$WORK/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep '%' | grep -v '^#' \
  | sed -E 's/\[(Optimized|OptimizedTier1|QuickJitted|Instrumented)[A-Za-z0-9]*\]//; s/System\.Runtime\.CompilerServices\.//g; s/(instance |class |valuetype )//g' \
  | grep -E 'Compliance\.|EntityFrameworkCore\.(DbContext|Query\.Internal\.CompiledQuery|RelationalDatabaseFacade|Storage\.Relational(Connection|Transaction))|Sqlite(Connection|Command|DataReader)::|Npgsql.*(ExecuteReader|Connector)|JsonWebTokenHandler::CreateToken|EcDsa|HMACSHA256|GetRequiredService|__libc_(pread|pwrite)|fsync' \
  | grep -v 'AsyncStateMachineBox\|SetExistingTaskResult' | cut -c1-220 | head -n "${TOP:-45}"
