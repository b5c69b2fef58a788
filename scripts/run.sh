#!/usr/bin/env bash
# The one entry point of the README: installs dependencies, builds, then runs
#   demo   the main job: a custodiand node on conf/demo.json (dashboard and API on
#          http://127.0.0.1:8080; Ctrl-C drains it and exits)
#   test   every test suite
#   bench  the benchmarks (Release build in build-release/): all of them, or
#          custodian-bench with its arguments, or `bench drivers|failover [ARGS]`
#   sanitize  every test suite under ASan (with LeakSanitizer) and UBSan (Debug
#             build in build-asan/; CAF's own UBSan false positives suppressed in
#             scripts/ubsan.supp); any report fails the test that made it
#   fuzz [SECONDS]  the config fuzzer for SECONDS (default 60) with clang's
#             libFuzzer, ASan and UBSan (build-fuzz/), seeded from tests/configs;
#             installs clang if missing; findings land in build-fuzz/findings/
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-}
case "$what" in
  demo | test | bench | sanitize | fuzz) ;;
  *)
    echo "usage: $0 demo|test|bench|sanitize|fuzz [seconds]" >&2
    exit 2
    ;;
esac

if [ "$what" = test ]; then scripts/install-deps.sh --tests; else scripts/install-deps.sh; fi

# Paths relative to the checkout in ccache's keys: a fresh clone elsewhere (CI)
# reuses what an earlier build compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

build() { # build DIR TYPE [CMAKE ARGS...]
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE="$2" "${@:3}" >/dev/null
  cmake --build "$1"
}

case "$what" in
  demo)
    build build RelWithDebInfo
    exec build/custodiand --config conf/demo.json
    ;;
  test)
    build build RelWithDebInfo
    # Real servers (PostgreSQL, Redis) are started by the tests themselves, on
    # 127.0.0.1 and free ports, under this directory; whatever is still running
    # there when the tests end (a test failed or crashed) is stopped here.
    CUSTODIAN_TEST_TMPDIR=$(mktemp -d /tmp/custodian-test.XXXXXX)
    chmod 755 "$CUSTODIAN_TEST_TMPDIR" # PostgreSQL runs as the postgres user
    export CUSTODIAN_TEST_TMPDIR
    trap 'scripts/stop-test-servers.sh "$CUSTODIAN_TEST_TMPDIR"' EXIT
    ctest --test-dir build --output-on-failure -j2
    ;;
  sanitize)
    build build-asan Debug -DCUSTODIAN_BUILD_EXAMPLES=OFF -DCUSTODIAN_BUILD_BENCH=OFF \
      "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/scripts/ubsan.supp"
    CUSTODIAN_TEST_TMPDIR=$(mktemp -d /tmp/custodian-test.XXXXXX)
    chmod 755 "$CUSTODIAN_TEST_TMPDIR"
    export CUSTODIAN_TEST_TMPDIR
    trap 'scripts/stop-test-servers.sh "$CUSTODIAN_TEST_TMPDIR"' EXIT
    ctest --test-dir build-asan --output-on-failure -j2
    ;;
  fuzz)
    # Fuzzing is optional, so clang is not among install-deps' packages.
    if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "ok installed"; then
      sudo=""
      [ "$(id -u)" -eq 0 ] || sudo=sudo
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev
    fi
    cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      -DCUSTODIAN_FUZZ=ON -DCUSTODIAN_BUILD_TESTS=OFF -DCUSTODIAN_BUILD_EXAMPLES=OFF \
      -DCUSTODIAN_BUILD_BENCH=OFF >/dev/null
    cmake --build build-fuzz --target config_fuzz
    mkdir -p build-fuzz/corpus build-fuzz/findings
    cd build-fuzz/findings # crash-*, timeout-* and leak-* files go here
    exec ../fuzz/config_fuzz -max_total_time="${2:-60}" -timeout=10 -rss_limit_mb=2048 \
      -dict=../../fuzz/config.dict ../corpus ../../tests/configs/good ../../tests/configs/bad
    ;;
  bench)
    build build-release Release -DCUSTODIAN_BUILD_TESTS=OFF
    # bench [ARGS]: custodian-bench with ARGS; without any, all three benchmarks.
    # bench drivers|failover [ARGS]: driver-bench or failover-bench with ARGS.
    # Those two start their own PostgreSQL and Redis on 127.0.0.1 under a scratch
    # directory; whatever they leave running there is stopped here.
    case "${2:-}" in
      drivers | failover) benches=("$2") ;;
      "") benches=(custodian drivers failover) ;;
      *) exec build-release/bench/custodian-bench "${@:2}" ;;
    esac
    if [ "${benches[*]}" != custodian ] &&
      { ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v redis-server >/dev/null; }; then
      scripts/install-deps.sh --tests # the servers the tests use
    fi
    CUSTODIAN_TEST_TMPDIR=$(mktemp -d /tmp/custodian-bench.XXXXXX)
    chmod 755 "$CUSTODIAN_TEST_TMPDIR" # PostgreSQL runs as the postgres user
    export CUSTODIAN_TEST_TMPDIR
    trap 'scripts/stop-test-servers.sh "$CUSTODIAN_TEST_TMPDIR"' EXIT
    for b in "${benches[@]}"; do
      case "$b" in
        custodian) build-release/bench/custodian-bench ;;
        drivers) build-release/bench/driver-bench "${@:3}" ;;
        failover) build-release/bench/failover-bench "${@:3}" ;;
      esac
    done
    ;;
esac
