#!/bin/sh
# Ignores SIGTERM and leaves a grandchild in its process group that ignores it
# too (the ignored disposition is inherited): only SIGKILL to the whole group
# stops both. Answers "grandchild" with that one's pid; echoes anything else.
trap '' TERM
[ -n "$PID_DIR" ] && echo $$ >"$PID_DIR/$$.pid"
sleep 1000 &
grandchild=$!
[ -n "$PID_DIR" ] && echo "$grandchild" >"$PID_DIR/$grandchild.pid"
while IFS= read -r line; do
  case "$line" in
  grandchild) printf '%s\n' "$grandchild" ;;
  *) printf '%s\n' "$line" ;;
  esac
done
