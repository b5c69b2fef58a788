#!/usr/bin/env bash
# The one entry point of the README: installs dependencies, builds, then runs
#   demo   the main job (for now the lifecycle demo on conf/lifecycle_demo.json)
#   test   every test suite
#   bench  the benchmarks (Release build in build-release/)
#   sanitize  every test suite under ASan (with LeakSanitizer) and UBSan (Debug
#             build in build-asan/; CAF's own UBSan false positives suppressed in
#             scripts/ubsan.supp); any report fails the test that made it
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-}
case "$what" in
  demo | test | bench | sanitize) ;;
  *)
    echo "usage: $0 demo|test|bench|sanitize" >&2
    exit 2
    ;;
esac

scripts/install-deps.sh

build() { # build DIR TYPE [CMAKE ARGS...]
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE="$2" "${@:3}" >/dev/null
  cmake --build "$1"
}

case "$what" in
  demo)
    build build RelWithDebInfo
    exec build/examples/lifecycle_demo conf/lifecycle_demo.json
    ;;
  test)
    build build RelWithDebInfo
    exec ctest --test-dir build --output-on-failure -j2
    ;;
  sanitize)
    build build-asan Debug -DCUSTODIAN_BUILD_EXAMPLES=OFF -DCUSTODIAN_BUILD_BENCH=OFF \
      "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/scripts/ubsan.supp"
    exec ctest --test-dir build-asan --output-on-failure -j2
    ;;
  bench)
    build build-release Release -DCUSTODIAN_BUILD_TESTS=OFF
    exec build-release/bench/custodian-bench "${@:2}"
    ;;
esac
