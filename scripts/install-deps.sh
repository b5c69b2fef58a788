#!/usr/bin/env bash
# Installs what Custodian needs to build on Debian bookworm, and with --tests what
# its tests need too. Idempotent: installs only what is missing, so it is cheap to
# run before every build.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache
  libcaf-dev nlohmann-json3-dev libspdlog-dev doctest-dev
  libsqlite3-dev libcpp-httplib-dev
  pkg-config libpq-dev libhiredis-dev libcurl4-openssl-dev librdkafka-dev libmongoc-dev
)
if [ "${1:-}" = "--tests" ]; then
  # The dashboard's browser test (tests/browser) drives Debian's Chromium. It is
  # installed here, before the build, so that its download does not count against
  # the test's timeout; tests/browser/run.sh installs it too when run on its own.
  packages+=(chromium)
  # Real servers for the drivers' integration tests, run on loopback by the tests.
  packages+=(postgresql redis-server)
  # promtool checks the node's /metrics (tests/integration/node_test.cpp); Debian
  # ships it only with the Prometheus server, whose service is stopped below.
  packages+=(prometheus)
  # The sources' formatting is checked by a test (scripts/check-format.sh).
  packages+=(clang-format)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Only promtool is wanted: a server started by the install must not stay running.
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    if [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now prometheus.service
    else
      $sudo update-rc.d prometheus disable >/dev/null 2>&1 || true
      $sudo /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
  fi
fi
