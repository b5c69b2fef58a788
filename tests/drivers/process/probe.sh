#!/bin/sh
# A line service for the process driver's tests: one line out for each line in.
# "env NAME" answers the variable (or <unset>), "pwd" the working directory,
# "args" the arguments, "twice X" answers X on two lines; anything else is echoed.
[ -n "$PID_DIR" ] && echo $$ >"$PID_DIR/$$.pid"
while IFS= read -r line; do
  case "$line" in
  "env "*)
    eval "value=\${${line#env }-<unset>}"
    printf '%s\n' "$value"
    ;;
  pwd) pwd ;;
  args) printf '%s\n' "$*" ;;
  "twice "*) printf '%s\n%s\n' "${line#twice }" "${line#twice }" ;;
  *) printf '%s\n' "$line" ;;
  esac
done
