#!/bin/sh
# Makes the build context of the Dockerfile's `runtime-from-host` target from executables built on this
# machine, for an engine that has no Swift image: bin/ (debug info stripped), lib/ (the Swift runtime
# libraries they load), and the two repository files the image copies (.ci/requirements-run.txt,
# compose/breakwater.json). Build on Debian bookworm, the image's base, so that the C libraries match.
#
#   swift build -c release
#   compose/host-context.sh /tmp/breakwater-context
#   docker build -f compose/Dockerfile --target runtime-from-host -t breakwater:latest /tmp/breakwater-context
#
# Usage: compose/host-context.sh OUT [BIN_DIR]     (BIN_DIR: default .build/release)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 OUT [BIN_DIR]" >&2; exit 2; }
out=$1
bin=${2:-$root/.build/release}
products="feed-handler signal-generator risk-gate executor trace-recorder exchange-sim breakwater busspy"

for product in $products; do
    if [ ! -x "$bin/$product" ]; then
        echo "$0: no $bin/$product; build first (swift build -c release)" >&2
        exit 1
    fi
done
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/.ci" "$out/compose"
for product in $products; do
    strip --strip-debug -o "$out/bin/$product" "$bin/$product"
done
# The Swift runtime (libswiftCore, Foundation, dispatch, ICU…): what the executables load from the
# toolchain. The system's libraries come from Debian packages in the image.
ldd "$out"/bin/* | awk '$3 ~ /^\// { print $3 }' | sort -u | while read -r library; do
    case "$library" in
        */swift/linux/*) cp -L "$library" "$out/lib/" ;;
    esac
done
if [ -z "$(ls "$out/lib")" ]; then
    echo "$0: the executables load no Swift runtime library: were they built with --static-swift-stdlib? lib/ stays empty" >&2
fi
cp "$root/.ci/requirements-run.txt" "$out/.ci/"
cp "$root/compose/breakwater.json" "$out/compose/"
