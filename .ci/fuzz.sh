#!/usr/bin/env bash
# Builds the libFuzzer targets (Tests/Fuzz) with the fuzzer and address sanitizers and runs each for
# FUZZ_RUNS inputs, one after another, from its seed corpus plus what earlier runs found
# (.build-fuzz/corpus). Prints inputs, exec/s, time and result per target; fails if any target finds a
# crash, a hang (an input slower than FUZZ_TIMEOUT seconds) or a sanitizer report, whose input is kept
# in .build-fuzz/findings/<target>/.
# FUZZ_CONFIGURATION=debug builds faster and runs several times fewer inputs a second (`make test`'s
# short runs); release is the default (`make fuzz`).
# FUZZ_SECONDS bounds each target's run in time as well (`make test`: the config loader's debug build
# takes hundreds of inputs a second); a run that reaches it without a finding passes.
# FUZZ_STEP=build only builds, FUZZ_STEP=run only runs what was built (`make test` builds in the
# background while its other tests run); FUZZ_JOBS bounds the build's parallel jobs.
# Usage: FUZZ_RUNS=10000000 [FUZZ_SECONDS=15] .ci/fuzz.sh [Target…]
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${FUZZ_RUNS:-10000000}"
timeout="${FUZZ_TIMEOUT:-10}"
configuration="${FUZZ_CONFIGURATION:-release}"
seconds_limit="${FUZZ_SECONDS:-0}"
swift="${SWIFT:-swift}"
scratch="${FUZZ_SCRATCH:-.build-fuzz}"
step="${FUZZ_STEP:-all}"
jobs="${FUZZ_JOBS:-}"
case "$step" in build|run|all) ;; *) echo "fuzz: FUZZ_STEP is build, run or all, not '$step'" >&2; exit 2 ;; esac
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(FuzzEnvelope FuzzMessageBody FuzzHyperliquidREST FuzzHyperliquidStream FuzzMarketFiles FuzzConfig)

# FuzzMessageBody -> fuzz-message-body (the product's name in Package.swift).
product() { echo "$1" | sed -e 's/REST/Rest/' -e 's/\([a-z]\)\([A-Z]\)/\1-\2/g' | tr '[:upper:]' '[:lower:]'; }

# Release keeps Swift's overflow and bounds traps and runs several times more inputs a second than
# debug. lld: gold fails on the sanitizers' objects. -DFUZZING: the targets' entry point hands over to
# libFuzzer instead of replaying the corpus.
flags=(--scratch-path "$scratch" -c "$configuration" -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)
[ -n "$jobs" ] && flags+=(-j "$jobs")
mkdir -p "$scratch/logs"
if [ "$step" != run ]; then
    build_start=$(date +%s)
    for target in "${targets[@]}"; do
        build_log="$scratch/logs/build-$target.log"
        if ! "$swift" build "${flags[@]}" --product "$(product "$target")" >"$build_log" 2>&1; then
            grep -v "Cannot export local symbol" "$build_log" | grep -E "error" | head -20 >&2
            echo "fuzz: building $target failed (log $build_log)" >&2
            exit 1
        fi
    done
    echo "fuzz: built ${#targets[@]} targets ($configuration, -sanitize=fuzzer,address) in $(( $(date +%s) - build_start ))s"
fi
[ "$step" = build ] && exit 0

# A trap goes to libFuzzer as a deadly signal with its stack; Swift's own backtracer would read memory
# the address sanitizer does not let it read, and report that instead.
export SWIFT_BACKTRACE=enable=no
failed=0
report=()
for target in "${targets[@]}"; do
    binary="$scratch/$configuration/$(product "$target")"
    corpus="$scratch/corpus/$target"
    findings="$scratch/findings/$target"
    log="$scratch/logs/$target.log"
    mkdir -p "$corpus" "$findings" "$(dirname "$log")"
    extra=()
    sanitizer=()
    # swift-foundation's Data(contentsOf:) loses a 4 KiB buffer per small file it reads (the config
    # file, read by swift-configuration's FileProvider): a leak in the toolchain, not ours, that makes
    # libFuzzer run LeakSanitizer after every input (5 inputs a second) and again at exit. Memory
    # errors are still caught.
    if [ "$target" = FuzzConfig ]; then
        extra=(-detect_leaks=0)
        sanitizer=(ASAN_OPTIONS=detect_leaks=0)
    fi
    start=$(date +%s)
    # The first corpus folder takes the new inputs; the seeds in the repository stay as they are.
    env "${sanitizer[@]}" "$binary" -runs="$runs" -timeout="$timeout" -max_total_time="$seconds_limit" -rss_limit_mb=2048 \
        -print_final_stats=1 "${extra[@]}" \
        -artifact_prefix="$findings/" "$corpus" "Tests/Fuzz/$target/corpus" >"$log" 2>&1
    status=$?
    seconds=$(( $(date +%s) - start ))
    inputs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ $status -eq 0 ] && { [ "${inputs:-0}" -ge "$runs" ] || [ "$seconds_limit" -gt 0 ]; }; then
        result=ok
    else
        failed=1
        artifact=$(grep -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')
        kind=$(grep -m1 -oE "ERROR: (libFuzzer|AddressSanitizer): [a-z-]+|Fatal error: .*|deadly signal|timeout" "$log" | head -1)
        result="FAILED (exit $status${kind:+: $kind}${artifact:+; input $artifact}; log $log)"
    fi
    report+=("$(printf '%-22s %12s %8s %7ss  %s' "$target" "${inputs:-?}" "${speed:-?}" "$seconds" "$result")")
    echo "${report[-1]}"
done

echo
printf '%-22s %12s %8s %8s  %s\n' target inputs exec/s time result
printf '%s\n' "${report[@]}"
exit $failed
