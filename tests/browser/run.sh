#!/usr/bin/env bash
# The dashboard in a real browser: tests/browser/run.sh PATH_TO_CUSTODIAND
#
# Installs what the test needs when it is missing (idempotent, cheap when present):
# Debian's Chromium (never a browser that a tool downloads itself) and playwright-core
# from package-lock.json (npm ci, when node_modules is missing or older than the
# lock file). Needs Node.js 20+ and npm. Then runs dashboard.test.mjs. CTest runs
# this as dashboard_in_chromium.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 PATH_TO_CUSTODIAND" >&2
  exit 2
fi
custodiand=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

# One installer at a time (CTest may run this beside another build's copy).
exec 9>"${TMPDIR:-/tmp}/custodian-browser-test.lock"
flock -w 600 9

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
fi

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing (Node.js 20+ with npm is needed)" >&2; exit 1; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "$0: Node.js $(node --version) is too old; 20 or newer is needed" >&2
  exit 1
fi

# npm ci writes node_modules/.package-lock.json; it is the stamp of the last install.
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing playwright-core (npm ci)" >&2
  # No browser download: the test drives /usr/bin/chromium.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

flock -u 9
exec node "$here/dashboard.test.mjs" "$custodiand"
