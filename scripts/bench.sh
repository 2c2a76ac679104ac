#!/usr/bin/env bash
# Benchmarks `switchyard analyze` on synthetic fleets of 100, 1,000 and 10,000 repositories:
# cold (no .switchyard cache) and warm runs, median wall time of BENCH_REPEAT runs, peak RSS.
#
# Usage: scripts/bench.sh [--gen-only]
# Environment: BENCH_DIR (default /tmp/switchyard-bench), BENCH_SEED (1),
#              BENCH_SIZES ("100 1000 10000"), BENCH_REPEAT (3), BENCH_BUILD (1; 0 skips cargo build)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BENCH_DIR=${BENCH_DIR:-/tmp/switchyard-bench}
SEED=${BENCH_SEED:-1}
SIZES=${BENCH_SIZES:-"100 1000 10000"}
REPEAT=${BENCH_REPEAT:-3}
BUILD=${BENCH_BUILD:-1}
GEN_ONLY=0

for arg in "$@"; do
    case "$arg" in
        --gen-only) GEN_ONLY=1 ;;
        -h | --help)
            sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "bench.sh: unknown argument: $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
GEN="$TARGET_DIR/release/switchyard-bench"
ANALYZER="$TARGET_DIR/release/switchyard"

log() { echo "bench.sh: $*" >&2; }

if [[ "$BUILD" == 1 ]]; then
    if [[ "$GEN_ONLY" == 1 ]]; then
        log "building switchyard-bench (release)"
        cargo build --release -p switchyard-bench >&2
    else
        log "building switchyard and switchyard-bench (release)"
        cargo build --release -p switchyard -p switchyard-bench >&2
    fi
fi
if [[ ! -x "$GEN" ]]; then
    log "error: $GEN not found; build it with: cargo build --release -p switchyard-bench"
    exit 1
fi

# 1. Fleets: generated once per size and seed, reused while the marker matches.
mkdir -p "$BENCH_DIR"
for n in $SIZES; do
    "$GEN" gen --repos "$n" --seed "$SEED" --out "$BENCH_DIR/repos-$n" --reuse >&2
done
if [[ "$GEN_ONLY" == 1 ]]; then
    log "fleets ready under $BENCH_DIR (--gen-only: analysis skipped)"
    exit 0
fi

# 2. The analyzer must exist and understand `analyze --fleet`.
if [[ ! -x "$ANALYZER" ]]; then
    log "error: analyzer binary $ANALYZER is missing; build it with: cargo build --release -p switchyard"
    exit 1
fi
if ! "$ANALYZER" analyze --help 2>/dev/null | grep -q -- '--fleet'; then
    log "error: $ANALYZER has no 'analyze --fleet' command yet; nothing to benchmark"
    log "       (fleets are ready under $BENCH_DIR; rerun once the analyze command exists)"
    exit 1
fi

if [[ -x /usr/bin/time && "${BENCH_NO_TIME:-0}" != 1 ]]; then
    HAVE_TIME=1
else
    HAVE_TIME=0
    log "/usr/bin/time not found (or BENCH_NO_TIME=1): peak RSS is not measured (install it with: apt-get install -y time)"
fi

# Runs the analyzer once on fleet $1; prints "<seconds> <peak RSS KiB or ->".
run_once() {
    local dir=$1 out err status
    out=$(mktemp) err=$(mktemp)
    status=0
    if [[ "$HAVE_TIME" == 1 ]]; then
        /usr/bin/time -f '%e %M' -o "$out" \
            "$ANALYZER" analyze --fleet "$dir" --format json >/dev/null 2>"$err" || status=$?
    else
        local TIMEFORMAT='%R -'
        { time "$ANALYZER" analyze --fleet "$dir" --format json >/dev/null 2>"$err" || status=$?; } 2>"$out"
    fi
    if [[ "$status" != 0 ]]; then
        log "error: '$ANALYZER analyze --fleet $dir --format json' exited with $status:"
        tail -n 20 "$err" >&2
        rm -f "$out" "$err"
        return 1
    fi
    tail -n 1 "$out"
    rm -f "$out" "$err"
}

# Median of the numbers given as arguments (middle element; lower middle for an even count).
median() {
    printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"
}

# The larger of two KiB figures; a non-number (no RSS measured) leaves the first unchanged.
max_kib() {
    if [[ "$2" =~ ^[0-9]+$ ]] && (("$2" > "$1")); then echo "$2"; else echo "$1"; fi
}

ROWS=()
for n in $SIZES; do
    dir="$BENCH_DIR/repos-$n"
    cold=() warm=() peak_kib=0
    for ((i = 1; i <= REPEAT; i++)); do
        rm -rf "$dir/.switchyard"
        result=$(run_once "$dir")
        read -r s kib <<<"$result"
        cold+=("$s")
        peak_kib=$(max_kib "$peak_kib" "$kib")
        result=$(run_once "$dir")
        read -r s kib <<<"$result"
        warm+=("$s")
        peak_kib=$(max_kib "$peak_kib" "$kib")
        log "$n repos, run $i/$REPEAT: cold ${cold[-1]}s, warm ${warm[-1]}s"
    done
    if [[ "$HAVE_TIME" == 1 ]]; then
        rss=$(awk -v k="$peak_kib" 'BEGIN { printf "%.1f", k / 1024 }')
    else
        rss="n/a"
    fi
    ROWS+=("| $n | $(median "${cold[@]}") | $(median "${warm[@]}") | $rss |")
done

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
echo "## switchyard analyze benchmark"
echo
echo "Synthetic fleets from \`switchyard-bench gen --seed $SEED\` (5 services per repository) under \`$BENCH_DIR\`;"
echo "\`switchyard analyze --fleet DIR --format json > /dev/null\`, median of $REPEAT runs."
echo "Cold = after \`rm -rf DIR/.switchyard\`; warm = the run right after. Peak RSS = max over all runs."
echo
echo "| repos | cold s | warm s | peak RSS MiB |"
echo "|------:|-------:|-------:|-------------:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Machine: ${cpu:-unknown CPU}, $(nproc) CPUs, kernel $(uname -r)"
echo "Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
echo '```'
free -g
echo '```'
