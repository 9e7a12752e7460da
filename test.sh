#!/usr/bin/env bash
# The one test command. On a fresh Debian machine, as root, it installs what the suite needs, starts a throwaway
# PostgreSQL cluster on a free loopback port in a temporary folder, runs every test of the solution, stops the
# cluster, and ends with the line "N passed, N failed". If PostgreSQL cannot start, it fails: the real-database
# tests are never skipped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d -t compliance-test.XXXXXX)"
PGDATA_DIR="$WORK/pg/data"
PG_STARTED=0

log() { printf '[test.sh] %s\n' "$*" >&2; }

as_pg_user() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  if [ "$PG_STARTED" = "1" ]; then
    as_pg_user "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

install_if_missing() {
  # $1: a command or file that proves the package is there; the rest: Debian packages to install.
  local probe="$1"; shift
  if ! command -v "$probe" >/dev/null 2>&1 && [ ! -e "$probe" ]; then
    if [ "$(id -u)" != "0" ]; then log "missing $* and not root: install them first"; exit 1; fi
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}

find_pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# --- PostgreSQL ---------------------------------------------------------------------------------------------
if [ -z "$(find_pgbin)" ]; then install_if_missing /nonexistent/postgresql postgresql; fi
PGBIN="$(find_pgbin)"
if [ -z "$PGBIN" ]; then log "PostgreSQL is not installed and could not be installed"; exit 1; fi
if [ "$(id -u)" = "0" ] && ! id postgres >/dev/null 2>&1; then useradd --system --home-dir "$WORK" postgres; fi

mkdir -p "$WORK/pg/socket"
chmod 755 "$WORK"
if [ "$(id -u)" = "0" ]; then chown -R postgres "$WORK/pg"; fi
as_pg_user "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null

# A port that answers no connection can still be taken (an outgoing connection's local port, from the ephemeral
# range): if PostgreSQL cannot bind it, the next free one is tried.
PORT=""
for candidate in $(seq 55432 55532); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then continue; fi
  # fsync off: a throwaway cluster; max_connections: every test class has its own databases and pools.
  if as_pg_user "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/pg/server.log" -w -t 60 \
      -o "-p $candidate -k $WORK/pg/socket -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null; then
    PORT="$candidate"; break
  fi
  if ! grep -q "Address already in use" "$WORK/pg/server.log"; then break; fi
  log "port $candidate is taken; trying the next one"
  : >"$WORK/pg/server.log"
done
if [ -z "$PORT" ]; then
  log "PostgreSQL failed to start:"; cat "$WORK/pg/server.log" >&2 || true
  exit 1
fi
PG_STARTED=1
log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
export COMPLIANCE_TEST_POSTGRES="Host=127.0.0.1;Port=$PORT;Username=postgres;Database=postgres;Maximum Pool Size=20"
export COMPLIANCE_TEST_PGBIN="$PGBIN"

# --- Browsers for the page tests (Debian's Chromium and its driver; never a downloaded browser) ---------------
install_if_missing /usr/bin/chromium chromium
install_if_missing /usr/bin/chromedriver chromium-driver
# SoftHSM2: the real PKCS#11 token of the PKCS#11 key-encryption key tests (they fail, never skip, without it).
install_if_missing /usr/lib/softhsm/libsofthsm2.so softhsm2

# --- .NET -------------------------------------------------------------------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Hundreds of hosts (in process and as processes) start during the run; each would watch its settings files with
# inotify, and the kernel's default of 128 instances per user runs out. The tests never edit settings files.
export DOTNET_hostBuilder__reloadConfigOnChange=false
cd "$ROOT"
RESULTS="$WORK/results"
status=0
if ! dotnet build Compliance.sln -c Release -nologo -v quiet; then
  log "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
dotnet test Compliance.sln -c Release --no-build --nologo -v quiet \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$RESULTS" \
  --blame-hang-timeout 10m || status=$?

# --- Interop: certified OpenID client libraries against the real server, over HTTP --------------------------------
install_if_missing node nodejs
install_if_missing npm npm
interop_passed=0; interop_failed=0
if (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error); then
  (cd tests/interop && COMPLIANCE_CONFIGURATION=Release node --test --test-concurrency=1 --test-reporter=tap test/) \
    > "$WORK/interop.tap" 2>&1 || true
  cat "$WORK/interop.tap"
  interop_passed="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$WORK/interop.tap" | tail -n 1)"
  interop_failed="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$WORK/interop.tap" | tail -n 1)"
  if [ -z "$interop_passed" ]; then interop_passed=0; interop_failed=1; log "the interop suite did not report"; fi
else
  log "npm ci failed in tests/interop"; interop_failed=1
fi

# --- The README's commands, as written, from a clean clone of the last commit -------------------------------------
install_if_missing curl curl
install_if_missing git git
bash tests/readme/readme.sh > "$WORK/readme.tap" 2>&1 || true
cat "$WORK/readme.tap"
readme_passed="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$WORK/readme.tap" | tail -n 1)"
readme_failed="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$WORK/readme.tap" | tail -n 1)"
if [ -z "$readme_passed" ]; then readme_passed=0; readme_failed=1; log "the README check did not report"; fi

# --- Summary ----------------------------------------------------------------------------------------------
passed=0; failed=0; files=0
shopt -s nullglob
for trx in "$RESULTS"/*.trx; do
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$failed" != "0" ]; then
  # The names of the failed tests and the start of their messages, last, so that a truncated CI log still shows them.
  log "failed tests:"
  for trx in "$RESULTS"/*.trx; do
    perl -0777 -ne '
      my %xml = (lt => "<", gt => ">", amp => "&", quot => "\"", apos => "\x27");
      while (/<UnitTestResult [^>]*testName="([^"]*)"[^>]*outcome="Failed"[^>]*>(.*?)<\/UnitTestResult>/gs) {
        my ($name, $body) = ($1, $2);
        my ($message) = $body =~ /<Message>(.*?)<\/Message>/s;
        $message = "" unless defined $message;
        s/&(lt|gt|amp|quot|apos);/$xml{$1}/g for $name, $message;
        my @lines = grep { /\S/ } split /\n/, $message;
        print STDERR "  FAILED $name\n", map({ "    $_\n" } @lines[0 .. ($#lines < 7 ? $#lines : 7)]);
      }' "$trx" || true
  done
fi
if [ "$interop_failed" != "0" ]; then
  log "failed interop tests:"; grep '^not ok' "$WORK/interop.tap" >&2 || true
fi
if [ "$readme_failed" != "0" ]; then
  log "failed README commands:"; grep '^not ok' "$WORK/readme.tap" >&2 || true
fi
if [ "$status" != "0" ] && [ "$failed" = "0" ]; then failed=1; log "dotnet test exited with $status"; fi
if [ "$files" = "0" ]; then failed=$((failed + 1)); log "no test results were produced"; fi
passed=$((passed + interop_passed + readme_passed)); failed=$((failed + ${interop_failed:-0} + ${readme_failed:-0}))
echo "$passed passed, $failed failed"
[ "$failed" = "0" ]
