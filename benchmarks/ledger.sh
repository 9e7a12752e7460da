#!/usr/bin/env bash
# Consent-ledger benchmark: this machine's SHA-256 throughput, then full verification of 1,000,000 synthetic events
# through LedgerVerifier, in events/s, next to the SHA-256 figures. Writes results/ledger-verify-latest.md.
# See README.md, "Consent ledger".
#   benchmarks/ledger.sh                      # mode memory, 1,000,000 events, about a minute
#   LEDGER_MODE=memory LEDGER_EVENTS=200000 benchmarks/ledger.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet run -c Release --project "$HERE/ledger" -- --mode "${LEDGER_MODE:-memory}" --events "${LEDGER_EVENTS:-1000000}" \
  --report "$HERE/results/ledger-verify-latest.md"
