#!/usr/bin/env bash
# Benchmark: a cold scan of generated pnpm workspaces (100 / 1,000 / 3,000 packages) by
# `switchyard plan --level package --no-cache` against `turbo ls` (Turborepo 2 from npm).
#
#   scripts/bench-monorepo.sh [switchyard-binary] [turbo-binary] [runs]
#
# Each workspace is a layered DAG (20 layers), every package with 1–4 internal dependencies in a
# random section and spec form plus two external ones, like tests/common/pnpm.rs writes. Prints
# the median wall time of `runs` runs (default 5) of each tool per size, after one warm-up run
# (so the files are in the page cache for both tools: "cold" means no Switchyard facts cache and
# no Turborepo daemon or cache).
set -euo pipefail
cd "$(dirname "$0")/.."
SWITCHYARD=${1:-target/release/switchyard}
TURBO=${2:-crates/switchyard-cli/tests/turbo/node_modules/.bin/turbo}
RUNS=${3:-5}
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 TURBO_NO_UPDATE_NOTIFIER=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

generate() {
  python3 - "$1" "$2" <<'EOF'
import json, os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(n)
layers = 20
width = max(1, n // layers)
os.makedirs(root, exist_ok=True)
open(os.path.join(root, "pnpm-workspace.yaml"), "w").write('packages:\n  - "packages/*"\n')
json.dump({"name": "root", "private": True, "packageManager": "pnpm@9.4.0"},
          open(os.path.join(root, "package.json"), "w"))
json.dump({"tasks": {"build": {"dependsOn": ["^build"]}}}, open(os.path.join(root, "turbo.json"), "w"))
count = 0
for layer in range(layers):
    for i in range(width):
        if count == n:
            break
        count += 1
        sections = {"dependencies": {"react": "^18.2.0", "zod": "^3.23.0"}}
        if layer:
            for _ in range(1 + rng.randrange(4)):
                dep = f"@gen/p{rng.randrange(layer)}-{rng.randrange(width)}"
                section = rng.choice(["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"])
                sections.setdefault(section, {})[dep] = rng.choice(["workspace:*", "workspace:^", "workspace:~"])
        manifest = {"name": f"@gen/p{layer}-{i}", "version": "1.0.0", "private": True,
                    "scripts": {"build": "tsc -b", "test": "vitest run"}, **sections}
        d = os.path.join(root, "packages", f"p{layer}-{i}")
        os.makedirs(d, exist_ok=True)
        json.dump(manifest, open(os.path.join(d, "package.json"), "w"), indent=2)
        open(os.path.join(d, "index.ts"), "w").write("export const x = 1;\n")
EOF
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

time_runs() {
  local dir=$1; shift
  (cd "$dir" && "$@" >/dev/null 2>&1) || { echo "failed: $*" >&2; exit 1; }
  for _ in $(seq "$RUNS"); do
    local start end
    start=$(date +%s%N)
    (cd "$dir" && "$@" >/dev/null 2>&1)
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
  done | median
}

SW=$(realpath "$SWITCHYARD")
TB=$(realpath "$TURBO")
printf '%-9s %14s %14s %8s\n' packages "switchyard ms" "turbo ls ms" ratio
for n in 100 1000 3000; do
  ws="$WORK/ws$n"
  generate "$ws" "$n"
  (cd "$ws" && git init -q . && git add -A && git -c user.name=b -c user.email=b@example.com commit -qm ws)
  s=$(time_runs "$ws" "$SW" plan --level package --no-cache "$ws")
  t=$(time_runs "$ws" "$TB" ls)
  printf '%-9s %14s %14s %8s\n' "$n" "$s" "$t" "$(awk -v a="$s" -v b="$t" 'BEGIN {printf "%.2f", a / b}')"
done
