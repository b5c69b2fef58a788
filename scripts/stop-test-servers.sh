#!/usr/bin/env bash
# Stops every server the tests started under DIR (CUSTODIAN_TEST_TMPDIR) and
# removes DIR. Run by `run.sh test` on exit, so a test that failed or crashed
# leaves no server behind: each PostgreSQL data directory (postmaster.pid) is
# stopped with pg_ctl, each other server wrote its pid to a *.pid file.
set -uo pipefail
dir=${1:?usage: stop-test-servers.sh DIR}
[ -d "$dir" ] || exit 0
pg_ctl=$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1)
while IFS= read -r pidfile; do
  data=$(dirname "$pidfile")
  if [ -n "$pg_ctl" ]; then
    owner=$(stat -c %U "$data")
    if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ]; then
      runuser -u "$owner" -- "$pg_ctl" stop -D "$data" -m immediate -w -t 10 >/dev/null 2>&1
    else
      "$pg_ctl" stop -D "$data" -m immediate -w -t 10 >/dev/null 2>&1
    fi
  fi
  # Whatever pg_ctl could not stop.
  pid=$(head -n 1 "$pidfile" 2>/dev/null)
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
done < <(find "$dir" -name postmaster.pid 2>/dev/null)
while IFS= read -r pidfile; do
  pid=$(head -n 1 "$pidfile" 2>/dev/null)
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
done < <(find "$dir" -name '*.pid' ! -name postmaster.pid 2>/dev/null)
rm -rf "$dir"
