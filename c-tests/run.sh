#!/bin/sh
# Runs each test program in its own process, with a timeout; shared by
# c-tests/ and its subdirectories (run from the directory whose tests run).
#   run.sh plain|valgrind|asan TEST...   (asan: programs built with
#   -fsanitize=address, run plainly and logged apart)
# One PASS/FAIL line per test; the last line is exactly "N passed, N failed".
# Exits non-zero if any test failed. Logs: $KR_TEST_LOGDIR (default
# build/logs)/<test>.<mode>.log. Timeouts: 60 s, 180 s under valgrind
# ($KR_TEST_TIMEOUT overrides).
mode=$1
shift
case $mode in
  plain|asan) limit=${KR_TEST_TIMEOUT:-60} ;;
  valgrind) limit=${KR_TEST_TIMEOUT:-180} ;;
  *) echo "usage: $0 plain|valgrind|asan TEST..." >&2; exit 2 ;;
esac
if [ "$mode" = valgrind ] && ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind not found" >&2
  exit 2
fi
passed=0
failed=0
logdir=${KR_TEST_LOGDIR:-build/logs}
mkdir -p "$logdir"
for t in "$@"; do
  name=$(basename "$t")
  log="$logdir/$name.$mode.log"
  if [ "$mode" = valgrind ]; then
    KR_TEST_VALGRIND=1 timeout "$limit" valgrind -q --error-exitcode=99 \
      --leak-check=full --errors-for-leak-kinds=definite \
      "$t" >"$log" 2>&1
  else
    timeout "$limit" "$t" >"$log" 2>&1
  fi
  rc=$?
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
    echo "PASS $name ($mode)"
  else
    failed=$((failed + 1))
    why="exit $rc"
    [ $rc -eq 124 ] && why="timed out after ${limit}s"
    [ $rc -eq 99 ] && why="valgrind errors"
    [ $rc -gt 128 ] && [ $rc -ne 124 ] && why="signal $((rc - 128))"
    echo "FAIL $name ($mode): $why; log $log"
    sed 's/^/    /' "$log" | tail -n 40
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
