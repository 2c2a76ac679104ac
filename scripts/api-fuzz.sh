#!/usr/bin/env bash
# Property-based API check: schemathesis generates requests from GET /api/openapi.json and sends
# them to a real `switchyard serve` on the homelab example fleet. It fails on any 5xx answer and
# on answers that do not match their documented schema: bad input must always be a 4xx with a
# JSON error. Usage: scripts/api-fuzz.sh [path/to/switchyard] (default: target/release/switchyard).
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-target/release/switchyard}"
version="4.32.5"
examples="${API_FUZZ_EXAMPLES:-40}"

st="$(command -v schemathesis || true)"
if [[ -z "$st" ]]; then
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==${version}" ||
    { echo "api-fuzz: schemathesis could not be installed: skipped"; exit 0; }
  # pip puts the command next to the interpreter's scripts (a pyenv shim may not exist yet).
  st="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/schemathesis"
fi
[[ -x "$st" ]] || { echo "api-fuzz: no schemathesis command after installing it: skipped"; exit 0; }

work="$(mktemp -d)"
cleanup() {
  if [[ -n "${server:-}" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cp -r examples/fleets/homelab "$work/fleet"
port=$((20000 + RANDOM % 20000))
"$binary" serve --fleet "$work/fleet" --bind "127.0.0.1:$port" --store "sqlite://$work/store.db" \
  --rate-limit 0 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/api/coordination/health" >/dev/null 2>&1 && break
  sleep 0.1
done

# The WebSocket route answers plain HTTP with 400 by design; it is tested by the event tests.
# Schemathesis closes with a pytest-style "==== 2 warnings in 23.34s ====" banner that counts no
# tests; it is relabelled so that no reader of CI's log takes it for a test runner's summary.
if ! "$st" run "http://127.0.0.1:$port/api/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --phases examples,fuzzing,stateful \
  --exclude-path /api/coordination/events \
  --generation-database none \
  --max-examples "$examples" --seed 1 --workers 2 2>&1 |
  sed -E 's/^=+ (.* in [0-9.]+s) =+$/schemathesis: \1/'; then
  echo "api-fuzz: failed; the server's log:"
  tail -n 50 "$work/server.log"
  exit 1
fi
