#!/usr/bin/env bash
# Validates the server's OpenAPI document with openapi-spec-validator (the OpenAPI 3.1 schema,
# unique operationIds, resolvable references). The document is printed by an example program of
# switchyard-server (the same document `GET /api/openapi.json` serves), so no server is started.
# Usage: scripts/openapi-validate.sh
set -euo pipefail
cd "$(dirname "$0")/.."

version="0.9.0"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo run --quiet --locked -p switchyard-server --example openapi >"$work/openapi.json"
python3 -m pip install --quiet --disable-pip-version-check "openapi-spec-validator==${version}"
python3 -m openapi_spec_validator --schema 3.1 --validation-errors all "$work/openapi.json"
echo "openapi-validate: the document is valid OpenAPI 3.1"
