#!/bin/sh
# crash_after.sh N STATUS: echoes N lines, then exits with STATUS (default 3).
[ -n "$PID_DIR" ] && echo $$ >"$PID_DIR/$$.pid"
n=0
while [ "$n" -lt "$1" ] && IFS= read -r line; do
  printf '%s\n' "$line"
  n=$((n + 1))
done
exit "${2:-3}"
