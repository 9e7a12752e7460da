#!/usr/bin/env bash
# Where does our token request spend its time? Starts our server (SQLite, embedded default), loads the token endpoint
# with client_credentials, and takes a thread-time sample of the server with dotnet-trace (installed from NuGet into a
# temporary tool folder) at 1 connection and at $CONNECTIONS connections. Prints the request path's frames from the
# report, waits and idle pool threads filtered out except Thread.Sleep (which is what the SQLite busy retry does).
#
#   benchmarks/profile.sh            # needs the Release publish of run.sh (run it once first), or SKIP_PUBLISH=0
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CONNECTIONS="${CONNECTIONS:-32}"
PUBLISH_DIR="${PUBLISH_DIR:-${TMPDIR:-/tmp}/compliance-bench-server}"
WORK="$(mktemp -d -t compliance-profile.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "${SKIP_PUBLISH:-1}" != "1" ] || [ ! -f "$PUBLISH_DIR/Compliance.Server.dll" ]; then
  (cd "$ROOT" && dotnet publish src/Compliance.Server -c Release -o "$PUBLISH_DIR" -nologo -v quiet)
fi
[ -d "$HERE/node_modules/autocannon" ] || (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
dotnet tool install dotnet-trace --tool-path "$WORK/tools" >/dev/null

PORT=5391
while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
URL="http://127.0.0.1:$PORT"
(cd "$PUBLISH_DIR" && exec env ASPNETCORE_ENVIRONMENT=Development Urls="$URL" Oidc__Issuer="$URL" Storage__DataDirectory="$WORK/data" \
  Oidc__TokenRequestsPerSecond=1000000 Oidc__InteractiveRequestsPerMinute=10000 Logging__LogLevel__Default=Warning \
  dotnet Compliance.Server.dll) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health/ready" || true)" = "200" ] && break; sleep 0.5; done

BASIC="Basic $(printf 'demo-client:demo-client-secret-for-local-tries-only' | base64 -w0)"
load() { # connections, seconds
  node "$HERE/node_modules/autocannon/autocannon.js" -c "$1" -d "$2" -m POST -H "Authorization=$BASIC" \
    -H "Content-Type=application/x-www-form-urlencoded" -b grant_type=client_credentials "$URL/connect/token" 2>&1 | grep 'requests in' || true
}
load 4 5 >/dev/null   # warm-up: JIT, pools, signing key snapshot

for c in 1 "$CONNECTIONS"; do
  echo "=== $c connection(s): thread-time samples of the server, request path only ==="
  "$WORK/tools/dotnet-trace" collect -p "$SERVER_PID" --profile dotnet-sampled-thread-time --duration 00:00:00:10 \
    -o "$WORK/trace-$c.nettrace" >/dev/null 2>&1 &
  tracer=$!
  sleep 2
  load "$c" 7
  wait "$tracer" || true
  "$WORK/tools/dotnet-trace" report "$WORK/trace-$c.nettrace" topN -n 400 --inclusive 2>/dev/null \
    | grep -E 'Top |TokenEndpoint\+<HandleAsync>|ClientAuthenticator\+<AuthenticateAsync>|ProtocolParameters\+<ReadAsync>|TokenIssuer\+<CreateAccessTokenAsync>|JsonWebTokenHandler.CreateToken|DbContext\.Add\(|DbContext\+<SaveChangesAsync>|SqliteDataReader.NextResult|Thread.Sleep|NoStoreJson\+<ExecuteAsync>' || true
  echo
done
