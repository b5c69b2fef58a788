#!/bin/sh
# Says something, then "ready", then echoes lines: a child with a startup line.
[ -n "$PID_DIR" ] && echo $$ >"$PID_DIR/$$.pid"
echo "starting up"
echo "ready"
exec cat
