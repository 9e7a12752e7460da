#!/usr/bin/env bash
# Runs the README's commands as written, from a clean clone of the repository's last commit: the embedded default
# started with `dotnet run`, the demo sign-in and the README's `curl` code exchange, `compliance` from the repository
# and as a published binary, and the partner registration example. Each command is read from the README (the block
# after a `<!-- readme-test: NAME -->` marker), never copied here. Only two things differ from a newcomer's shell:
# the server listens on a free loopback port instead of 5080 (another server may run there), and the data folder is
# a temporary one instead of ~/.local/share/compliance.
# Prints TAP ("ok N - …" / "not ok N - …", then "# pass N" and "# fail N"), as the interop suite does.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d -t compliance-readme.XXXXXX)"
SERVER_PID=""
n=0; pass=0; fail=0

cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -- "-$SERVER_PID" 2>/dev/null || kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; shift; for line in "$@"; do echo "#   $line"; done; }

# The lines of the fenced block that follows "<!-- readme-test: NAME -->" in the README, comments and blanks removed,
# backslash continuations joined.
block() {
  awk -v marker="<!-- readme-test: $1 -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$CLONE/README.md" | sed -e 's/[[:space:]]#.*$//' -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]*$//' \
    | sed -e ':a' -e '/\\$/N; s/\\\n//; ta'
}

free_port() {
  for candidate in $(shuf -i 20000-40000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then echo "$candidate"; return; fi
  done
}

# --- A clean clone of the last commit ----------------------------------------------------------------------------
CLONE="$WORK/clone"
if ! git clone -q --no-hardlinks "$ROOT" "$CLONE" 2>"$WORK/clone.err"; then
  not_ok "git clone of the repository" "$(cat "$WORK/clone.err")"
  echo "# pass $pass"; echo "# fail $fail"; exit 0
fi
cd "$CLONE"

PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
export XDG_DATA_HOME="$WORK/xdg" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$XDG_DATA_HOME"
# As written, but on the free port: the README's addresses are rewritten, and the server is told its issuer.
readme_command() { block "$1" | sed "s#127\.0\.0\.1:5080#127.0.0.1:$PORT#g"; }

# --- 1. The first of the two commands: run the service on its embedded default -------------------------------------
run_server="$(readme_command two-commands | grep -m1 'Compliance.Server')"
if [ "$run_server" != "dotnet run --project src/Compliance.Server" ]; then
  not_ok "the README's first command starts the server" "found: '$run_server'"
else
  set -m
  Urls="$BASE" Oidc__Issuer="$BASE" bash -c "$run_server" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  set +m
  ready=""
  for _ in $(seq 1 300); do
    if curl -fsS "$BASE/health/ready" >/dev/null 2>&1; then ready=1; break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 1
  done
  if [ -n "$ready" ] && curl -fsS "$BASE/.well-known/openid-configuration" | grep -q "\"issuer\":\"$BASE\""; then
    ok "'$run_server' builds, starts on the embedded default and serves discovery"
  else
    not_ok "'$run_server' builds, starts on the embedded default and serves discovery" "$(tail -n 20 "$WORK/server.log")"
  fi
fi

# --- 2. The demo sign-in of "Try a sign-in in the browser", then the README's curl exchange -------------------------
# A browser's part, with curl: follow the README's URL, sign in as the demo patient, allow.
hidden() { sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1 | sed 's/&#x2B;/+/g; s/&#x2F;/\//g; s/&#x3D;/=/g; s/&amp;/\&/g'; }
jar="$WORK/cookies"
# Follows the service's own redirects, as a browser would, and prints the first address outside it (the partner's
# callback) or, when a page is reached, its address; the page is saved in $2.
browse() {
  local url="$1" next
  for _ in 1 2 3 4 5 6; do
    next="$(curl -s -o "$2" -w '%{redirect_url}' -c "$jar" -b "$jar" "$url")"
    if [ -z "$next" ]; then echo "$url"; return; fi
    if [[ "$next" != "$BASE/"* ]]; then echo "$next"; return; fi
    url="$next"
  done
}
post() { # url, saved page, form fields...: prints where the answer leads, after the service's own redirects
  local url="$1" page="$2" next; shift 2
  next="$(curl -s -o "$page" -w '%{redirect_url}' -c "$jar" -b "$jar" "$url" "$@")"
  if [ -z "$next" ] || [[ "$next" != "$BASE/"* ]]; then echo "$next"; else browse "$next" "$page"; fi
}
authorize="$(readme_command authorize-url | head -n 1)"
code=""
if [[ "$authorize" == "$BASE/connect/authorize?"* ]]; then
  browse "$authorize" "$WORK/login.html" >/dev/null
  post "$BASE/account/login" "$WORK/consent.html" \
    --data-urlencode "__RequestVerificationToken=$(hidden __RequestVerificationToken "$WORK/login.html")" \
    --data-urlencode "interaction=$(hidden interaction "$WORK/login.html")" \
    --data-urlencode "pseudonym=demo" --data-urlencode "password=lavande-orage-2026" >/dev/null
  callback="$(post "$BASE/connect/consent" "$WORK/done.html" \
    --data-urlencode "__RequestVerificationToken=$(hidden __RequestVerificationToken "$WORK/consent.html")" \
    --data-urlencode "interaction=$(hidden interaction "$WORK/consent.html")" \
    --data-urlencode "decision=allow")"
  code="$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$callback")"
fi
if [ -n "$code" ] && [[ "$callback" == "http://127.0.0.1:5081/callback?"* ]]; then
  ok "the README's authorization URL leads the demo patient through sign-in and consent to the callback with a code"
else
  not_ok "the README's authorization URL leads the demo patient through sign-in and consent to the callback with a code" "authorize: $authorize" "callback: ${callback:-none}"
fi

exchange="$(readme_command token | sed "s#PASTE_CODE#$code#")"
if [ -n "$code" ] && bash -c "$exchange -s" >"$WORK/token.json" 2>&1 \
    && grep -q '"access_token"' "$WORK/token.json" && grep -q '"id_token"' "$WORK/token.json"; then
  ok "the README's curl exchanges the code for an access token and an ID token"
else
  not_ok "the README's curl exchanges the code for an access token and an ID token" "$(head -c 400 "$WORK/token.json" 2>/dev/null)"
fi

# --- 3. compliance, from the repository and published -----------------------------------------------------------------
mapfile -t cli < <(readme_command cli)
if [ "${#cli[@]}" -ne 3 ]; then
  not_ok "the README's three ways to run compliance" "found ${#cli[@]} commands"
else
  if bash -c "${cli[0]}" >"$WORK/cli-run.out" 2>&1 && grep -q "$CLONE/policies" "$WORK/cli-run.out"; then
    ok "'${cli[0]}' validates ./policies and says which folder it read"
  else
    not_ok "'${cli[0]}' validates ./policies and says which folder it read" "$(tail -n 5 "$WORK/cli-run.out")"
  fi
  if bash -c "${cli[1]}" >"$WORK/cli-publish.out" 2>&1 && bash -c "${cli[2]}" >"$WORK/cli-bin.out" 2>&1 && grep -q "policies" "$WORK/cli-bin.out"; then
    ok "'${cli[1]}' then '${cli[2]}' validates the policies"
  else
    not_ok "'${cli[1]}' then '${cli[2]}' validates the policies" "$(tail -n 5 "$WORK/cli-publish.out" "$WORK/cli-bin.out" 2>/dev/null)"
  fi
fi

# --- 4. The partner registration example, with the published compliance, on the running server's stores ---------------
register="$(readme_command clients-add | sed 's#^compliance #./out/compliance #')"
if [ -x ./out/compliance ] && bash -c "$register" >"$WORK/register.out" 2>&1 \
    && grep -q '"client_id":"teleconsult-a"' "$WORK/register.out" && grep -q '"client_secret":"' "$WORK/register.out"; then
  ok "the README's clients add registers teleconsult-a and prints its secret once"
else
  not_ok "the README's clients add registers teleconsult-a and prints its secret once" "$(tail -n 5 "$WORK/register.out" 2>/dev/null)"
fi

echo "1..$n"
echo "# pass $pass"
echo "# fail $fail"
