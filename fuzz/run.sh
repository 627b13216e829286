#!/usr/bin/env bash
# Builds and runs the fuzz targets, one at a time (the machine is shared).
#
#   fuzz/run.sh                 # every target, 10 minutes each
#   fuzz/run.sh vm 60           # one target, 60 seconds
#   fuzz/run.sh seed            # only (re)build the seed corpora
#   SANITIZER=address fuzz/run.sh serde 600
#
# Installs what it needs: the nightly toolchain (rustup) and cargo-fuzz (crates.io).
# Corpora grow in fuzz/corpus/<target>/ (seeded from fixtures/), findings land in
# fuzz/artifacts/<target>/; both are ignored by git. Commit a finding as a regression
# test under tests/regressions/ (tests/hostile.rs replays every file there).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$here"

targets=(vm serde torch dis scan compress files pandas)
what="${1:-all}"
secs="${2:-600}"
sanitizer="${SANITIZER:-none}"   # safe Rust: no sanitizer runs ~3x faster
jobs="${JOBS:-1}"

ensure_tools() {
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        rustup toolchain install nightly --profile minimal
    fi
    if ! cargo fuzz --version >/dev/null 2>&1; then
        cargo install cargo-fuzz --locked
    fi
}

seed() {
    local t="$1" dir="$here/corpus/$1"
    mkdir -p "$dir"
    copy() { # copy files matching a pattern under fixtures/, named by content
        local f
        while IFS= read -r -d '' f; do
            cp "$f" "$dir/$(sha1sum "$f" | cut -c1-16)"
        done < <(find "$root/fixtures" "$root/tests/regressions" -type f "$@" -print0 2>/dev/null)
    }
    case "$t" in
        vm|serde|dis) copy \( -name '*.pkl' -o -name '*.pickle' \) -size -256k ;;
        torch) copy \( -name '*.pt' -o -name '*.pth' -o -name '*.bin' \) -size -1024k
               copy -path '*numpy*.pkl' ;;
        files) copy -path '*fixtures/files/*' -size -256k
               copy -path '*numpy*.pkl' -size -256k ;;
        scan) copy \( -name '*.pkl' -o -name '*.pickle' -o -name '*.npy' -o -name '*.npz' \
                    -o -name '*.joblib' \) -size -256k
              copy \( -name '*.pt' -o -name '*.pth' -o -name '*.bin' \) -size -1024k ;;
        compress) copy -path '*fixtures/compress/*' -size -256k ;;
        pandas) copy -path '*fixtures/pandas/*' -name '*.pkl' -size -256k
                copy -path '*fixtures/numpy/compressed/df*' -size -256k ;;
    esac
}

dict_for() {
    case "$1" in
        torch) echo "$here/dicts/torch.dict" ;;
        compress) echo "$here/dicts/compress.dict" ;;
        *) echo "$here/dicts/pickle.dict" ;;
    esac
}

run() {
    local t="$1" parallel=""
    # -jobs=1 would send the output to fuzz-0.log; only ask for jobs when there are more.
    if [ "$jobs" -gt 1 ]; then parallel="-jobs=$jobs -workers=$jobs"; fi
    seed "$t"
    mkdir -p "$here/artifacts/$t"
    echo "== fuzzing $t for ${secs}s (sanitizer: $sanitizer)"
    rustup run nightly cargo fuzz run -s "$sanitizer" "$t" \
        "$here/corpus/$t" -- \
        -dict="$(dict_for "$t")" \
        -max_total_time="$secs" $parallel \
        -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len=1048576 \
        -print_final_stats=1
}

ensure_tools
case "$what" in
    seed) for t in "${targets[@]}"; do seed "$t"; done ;;
    build) rustup run nightly cargo fuzz build -s "$sanitizer" ;;
    all) for t in "${targets[@]}"; do run "$t"; done ;;
    *) run "$what" ;;
esac
