#!/bin/sh
# Install every Debian package cellar needs to build, test, demo and benchmark,
# and nothing that is already there. apt-get update runs at most once, and only
# when something is missing. Called by `make deps` (and so by `make demo` and
# .ci/run). Safe to run again: a second run installs nothing.
set -eu

# build: compiler, pkg-config and the -dev libraries the Makefile links
# (libdeflate compresses WAL to gzip about twice as fast as zlib)
# (libcurl with OpenSSL for the S3 client: its CURLOPT_AWS_SIGV4 signs the
# requests, OpenSSL gives the SHA-256 and MD5 the S3 API asks for, and
# expat parses its XML replies)
BUILD="gcc make pkg-config libncurses-dev libpq-dev zlib1g-dev libdeflate-dev
libbz2-dev libzstd-dev liblz4-dev libjansson-dev libcmocka-dev
libcurl4-openssl-dev libssl-dev libexpat1-dev libgpgme-dev"
# fuzz targets (tests/fuzz): libFuzzer comes with clang's runtime
FUZZ="clang libclang-rt-14-dev"
# run and test: the programs cellar drives, a real PostgreSQL 15, a private
# sshd for remote tests, tmux for console tests, barman for compatibility
# tests, pgbackrest, pigz and time (peak memory) for the benchmarks,
# valgrind for memory checks, strace and e2fsprogs for the fault tests (a
# SIGKILL at a chosen system call, a small filesystem when tmpfs cannot be
# mounted), and the compression tools whose formats the archive must stay
# readable by
RUNTIME="rsync openssh-client openssh-server postgresql-15
postgresql-client-15 tmux barman pgbackrest pigz procps time valgrind man-db bash-completion
strace e2fsprogs gzip bzip2 zstd lz4 gnupg"
# object storage tests: a private OpenStack Swift with its s3api middleware
# on 127.0.0.1 is the S3-compatible store (tests/integration/lib/swift.sh),
# barman-cloud 3.4 and boto3 are the peer that cellar's bucket layout must
# stay readable by (and the harness's own S3 client), curl for its checks
CLOUD="swift-proxy swift-object swift-container swift-account
barman-cli-cloud python3-boto3 curl"

missing=""
for p in $BUILD $FUZZ $RUNTIME $CLOUD; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        "install ok installed") ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps: need root (or sudo) to install:$missing" >&2
        exit 1
    }
    SUDO="sudo"
fi

echo "deps: installing:$missing"
# Debian's postgresql-common would create and start a "main" cluster on
# install; cellar's tests and demo make their own throwaway clusters.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $SUDO mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
