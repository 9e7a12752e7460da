#!/usr/bin/env bash
# Key-encryption key benchmark: wraps and unwraps per second for the local file, a PKCS#11 token (SoftHSM2) and the
# Azure Key Vault stand-in; then the token endpoint's p99 with a cold and a warm key cache on the PKCS#11 KEK, next to
# the local file, in the same run. Writes results/kek-latest.md. See README.md, "Key-encryption keys".
#   benchmarks/kek.sh            # about 3 minutes
# Settings (environment): KEK_SECONDS (3), KEK_CONCURRENCY (4), KEK_STARTS (15), KEK_REQUESTS (2000).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PUBLISH_DIR="${PUBLISH_DIR:-${TMPDIR:-/tmp}/compliance-bench-server}"
[ -e /usr/lib/softhsm/libsofthsm2.so ] || { echo "[kek] install Debian's softhsm2 first" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ "${SKIP_PUBLISH:-0}" != "1" ] || [ ! -f "$PUBLISH_DIR/Compliance.Server.dll" ]; then
  (cd "$ROOT" && dotnet publish src/Compliance.Server -c Release -o "$PUBLISH_DIR" -nologo -v quiet)
fi
dotnet run -c Release --project "$HERE/kek" -- "$PUBLISH_DIR/Compliance.Server.dll" "$HERE/results/kek-latest.md"
