#!/usr/bin/env bash
# `make test` once the packages are installed: the build, every test in two sets, then a short
# sanitizer run of every fuzz target. Exits non-zero if any part failed; every part runs regardless.
set -uo pipefail
cd "$(dirname "$0")/.."
swift="${SWIFT:-swift}"
# Tests that start processes, servers or sockets, or wait on real answers, run one at a time: several
# start five services or a database server each, and on two cores they would starve one another's
# deadlines. The rest (pure computation, about 970) run in parallel first.
serial='^(IntegrationTests|BusTests|RecallTests|HyperliquidTests|ExchangeSimTests)\.'
fuzz_runs="${FUZZ_TEST_RUNS:-20000}"
fuzz_seconds="${FUZZ_TEST_SECONDS:-15}"

# Background jobs run in sessions of their own, so that an early exit stops them with their children.
background=()
trap 'for pid in "${background[@]}"; do kill -- -"$pid" 2>/dev/null; done' EXIT

# The compose test's base image (a debootstrap: network and disk) is made while the build has the cores.
tarball=
if [ "$(id -u)" -eq 0 ] && command -v debootstrap > /dev/null; then
    setsid Tests/IntegrationTests/compose_engine.sh base-tarball & tarball=$!
    background+=("$tarball")
fi
# The fuzz targets' sanitizer build is a second build of all they use: at the lowest priority on one
# core, it takes what the build and the tests leave idle. A new session is a new scheduling group
# where the kernel groups by session (autogroup), which would void `nice`: the group is niced too.
mkdir -p .build-fuzz/logs
setsid bash -c '{ echo 19 > /proc/self/autogroup; } 2>/dev/null; exec nice -n 19 "$@"' fuzz-build \
    env FUZZ_STEP=build FUZZ_CONFIGURATION=debug FUZZ_JOBS=1 SWIFT="$swift" .ci/fuzz.sh \
    > .build-fuzz/logs/make-test-build.log 2>&1 & fuzz_build=$!
background+=("$fuzz_build")

"$swift" build --build-tests || exit 1
if [ -n "$tarball" ] && ! wait "$tarball"; then
    echo "the base image's debootstrap failed; the compose test tries again"
fi

status=0
"$swift" test --skip-build --skip "$serial" || status=1
"$swift" test --skip-build --no-parallel --filter "$serial" || status=1

# Each target starts from its seeds and past findings (Tests/Fuzz/<Target>/corpus), then fuzzes.
if wait "$fuzz_build"; then
    cat .build-fuzz/logs/make-test-build.log
    FUZZ_STEP=run FUZZ_CONFIGURATION=debug FUZZ_RUNS="$fuzz_runs" FUZZ_SECONDS="$fuzz_seconds" SWIFT="$swift" \
        .ci/fuzz.sh || status=1
else
    cat .build-fuzz/logs/make-test-build.log
    echo "the fuzz targets' sanitizer build failed" >&2
    status=1
fi
background=()
exit $status
