#!/usr/bin/env bash
# Fails when a C++ source of the repository differs from what .clang-format makes
# of it, naming the files and the command that fixes them. Run by the test command
# (tests/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files '*.cpp' '*.hpp')
if report=$(clang-format --dry-run --Werror "${sources[@]}" 2>&1); then
  echo "${#sources[@]} sources formatted"
  exit 0
fi
mapfile -t unformatted < <(grep -o '^[^:]*\.[ch]pp:' <<<"$report" | tr -d ':' | sort -u)
echo "not formatted as .clang-format says ($(clang-format --version)):" >&2
printf '  %s\n' "${unformatted[@]}" >&2
echo "fix with: clang-format -i ${unformatted[*]}" >&2
exit 1
