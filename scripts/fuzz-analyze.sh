#!/usr/bin/env bash
# Mutation fuzzing of `switchyard analyze`: copies of the example fleets and of ../shared/corpus
# (skipped with a message when absent) are mutated with seeds (byte flips, truncation, duplicated
# lines, deep nesting, huge lines, invalid UTF-8, YAML anchor bombs, symbolic links out of the
# repository, to / and /proc, and in cycles) and analyzed by the real binary with a time limit.
# Fails when a run panics, hangs, or prints the marker planted in files outside the fleet.
# Failing seeds and their trees are kept in target/fuzz-failures/seed-N (failure.txt says how to
# replay one). Usage: scripts/fuzz-analyze.sh [seconds (default 150)] [path/to/switchyard]
# [first seed (default: FUZZ_SEED, else the date)].
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-150}"
binary="${2:-target/release/switchyard}"
seed="${3:-${FUZZ_SEED:-$(date -u +%Y%m%d)000}}"

if [[ ! -x "$binary" ]]; then
  cargo build --release --locked -p switchyard
fi
cargo build --release --locked -p switchyard-bench
echo "fuzz-analyze: ${seconds}s from seed ${seed} with ${binary}"
exec target/release/switchyard-bench fuzz-analyze --binary "$binary" --seconds "$seconds" --seed "$seed" \
  --fleets examples/fleets --repositories ../shared/corpus --failures target/fuzz-failures
