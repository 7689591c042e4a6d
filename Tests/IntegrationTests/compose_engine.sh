#!/usr/bin/env bash
# A private Docker engine for the compose test (ComposeTests.swift): Debian's containerd and dockerd with
# every path they write (data root, exec root, state, pid files, sockets, config) under one directory, and
# only host networking (--bridge=none --iptables=false: no private-range addresses, no NAT rules). A system
# daemon, if there is one, is never used, stopped or configured.
#
#   compose_engine.sh start DIR OWNER_PID   start both daemons, wait until dockerd answers. First stops the
#                                            engines of earlier runs whose test process (OWNER_PID) is gone.
#   compose_engine.sh base-image DIR TAG    TAG = a debootstrap of Debian bookworm with the runtime packages,
#                                            imported with `docker import`; the tarball is cached (below).
#   compose_engine.sh base-tarball          only make that tarball when it is not cached (`make test` runs
#                                            this while it builds: a debootstrap waits on the network, not
#                                            on the cores). Either command waits for a maker already at work.
#   compose_engine.sh stop DIR              remove every container, stop both daemons and what they started,
#                                            unmount everything under DIR, delete DIR. Safe to repeat.
#
# Environment: COMPOSE_TEST_CACHE_DIR (default ~/.cache/breakwater) keeps the bookworm tarball between runs;
# COMPOSE_TEST_DEBIAN_MIRROR (default http://deb.debian.org/debian). Not BREAKWATER_…: the services refuse
# a variable of their own prefix that names no setting.
set -euo pipefail

command=${1:?usage: compose_engine.sh start|base-image|stop DIR ... | base-tarball}
[ "$command" = base-tarball ] && dir= || dir=${2:?the engine directory}
docker=/usr/bin/docker
export DOCKER_HOST="unix://$dir/docker.sock"

say() { echo "[compose-engine] $*" >&2; }

# A process of ours is alive: its pid file names it and it is not a zombie.
alive() {
    local pid=$1
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}

stop_pid() {
    local name=$1 pid=$2 grace=$3
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((grace * 10))); do
        alive "$pid" || return 0
        sleep 0.1
    done
    say "$name ($pid) still running after ${grace}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

# Runs a daemon in its own session, holding none of the caller's descriptors: a test runner that waits
# for this script's end by a descriptor the script inherited (Foundation's Process does) would otherwise
# wait for the daemon too.
daemon() {
    local log=$1
    shift
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
        done
        exec setsid "$@" < /dev/null > "$log" 2>&1
    ) &
}

start() {
    local owner=${3:?the test process id}
    # Engines of earlier runs that died with their test (a killed `swift test`).
    for stale in /tmp/breakwater-compose-*; do
        [ -d "$stale" ] && [ "$stale" != "$dir" ] || continue
        if ! alive "$(cat "$stale/owner.pid" 2>/dev/null || true)"; then
            say "stopping the engine of an earlier run in $stale"
            "$0" stop "$stale" || true
        fi
    done
    mkdir -p "$dir"
    echo "$owner" > "$dir/owner.pid"
    # Directories the daemons create outside DIR when missing: removed again by `stop` when empty.
    for shared in /run/containerd /run/containerd/s /run/docker /run/docker/plugins; do
        [ -d "$shared" ] || echo "$shared" >> "$dir/created-dirs"
    done
    cat > "$dir/containerd.toml" <<EOF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
# No Kubernetes interface, and no /opt/containerd.
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
EOF
    daemon "$dir/containerd.log" containerd --config "$dir/containerd.toml"
    echo $! > "$dir/containerd.pid"
    for _ in $(seq 100); do [ -S "$dir/containerd.sock" ] && break; sleep 0.1; done
    [ -S "$dir/containerd.sock" ] || { say "containerd did not start:"; tail -20 "$dir/containerd.log" >&2; exit 1; }

    # Images and containers in memory when there is room: deleting a couple of GB of layers from a disk
    # mounted with `discard` takes half a minute, from tmpfs no time; unmounted by `stop`.
    if [ "$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)" -gt $((6 * 1024 * 1024)) ]; then
        mkdir -p "$dir/data"
        mount -t tmpfs -o size=8g,mode=0711 breakwater-compose "$dir/data"
    fi
    # Our own daemon.json: a system one (/etc/docker/daemon.json) must not configure this engine.
    echo "{\"deprecated-key-path\": \"$dir/key.json\"}" > "$dir/daemon.json"
    daemon "$dir/dockerd.log" dockerd --config-file "$dir/daemon.json" --containerd "$dir/containerd.sock" \
        --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" -H "$DOCKER_HOST" \
        --bridge=none --iptables=false --ip-masq=false --userland-proxy=false
    echo $! > "$dir/dockerd.launch.pid"
    for _ in $(seq 300); do
        "$docker" version > /dev/null 2>&1 && break
        alive "$(cat "$dir/dockerd.launch.pid")" || break
        sleep 0.1
    done
    "$docker" version > /dev/null 2>&1 || { say "dockerd did not start:"; tail -30 "$dir/dockerd.log" >&2; exit 1; }
    echo "$DOCKER_HOST"
}

# Unmounts what is mounted under a directory (overlay layers, a bind mount, a debootstrap's /proc): deepest first.
unmount_under() {
    awk -v prefix="$1" '$2 == prefix || index($2, prefix "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
        while read -r mount; do umount "$mount" 2>/dev/null || umount -l "$mount" || true; done
}

packages="libzmq5,libsqlite3-0,libcurl4,libsecp256k1-1,ca-certificates,python3,python3-venv"
cache=${COMPOSE_TEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/breakwater}
# The name carries the package list: another list makes another tarball.
tarball="$cache/debian-bookworm-minbase-$(echo "$packages" | sha256sum | cut -c1-12).tar.gz"

base_tarball() {
    mkdir -p "$cache"
    exec 9> "$cache/base-tarball.lock"
    flock 9
    [ -s "$tarball" ] && return 0
    local mirror=${COMPOSE_TEST_DEBIAN_MIRROR:-http://deb.debian.org/debian}
    work=$(mktemp -d "$cache/debootstrap.XXXXXX")
    trap 'unmount_under "$work"; rm -rf "$work"' EXIT
    say "debootstrap of Debian bookworm from $mirror (once; cached in $tarball)"
    debootstrap --variant=minbase --include="$packages" bookworm "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
        || { say "debootstrap failed:"; tail -20 "$work/debootstrap.log" >&2; exit 1; }
    rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
    tar --numeric-owner -C "$work/rootfs" -c . | gzip -1 > "$tarball.partial"
    mv "$tarball.partial" "$tarball"
}

base_image() {
    local tag=${3:?the image tag}
    base_tarball
    "$docker" import "$tarball" "$tag" > /dev/null
}

stop() {
    [ -d "$dir" ] || return 0
    local pid
    pid=$(cat "$dir/dockerd.pid" 2>/dev/null || cat "$dir/dockerd.launch.pid" 2>/dev/null || true)
    if alive "$pid" && "$docker" version > /dev/null 2>&1; then
        local containers
        containers=$("$docker" ps -aq)
        # shellcheck disable=SC2086
        [ -z "$containers" ] || "$docker" rm -f -v $containers > /dev/null || true
    fi
    stop_pid dockerd "$pid" 30
    stop_pid containerd "$(cat "$dir/containerd.pid" 2>/dev/null || true)" 15
    # Shims our containerd started and left (they name its socket, under DIR, on their command line).
    for process in $(grep -lsF -- "$dir/containerd.sock" /proc/[0-9]*/cmdline); do
        process=${process#/proc/}
        stop_pid containerd-shim "${process%/cmdline}" 5
    done
    unmount_under "$dir"
    if [ -f "$dir/created-dirs" ]; then
        sort -r "$dir/created-dirs" | while read -r shared; do rmdir "$shared" 2>/dev/null || true; done
    fi
    rm -rf "$dir"
}

case "$command" in
    start) start "$@" ;;
    base-image) base_image "$@" ;;
    base-tarball) base_tarball ;;
    stop) stop ;;
    *) echo "unknown command $command" >&2; exit 2 ;;
esac
