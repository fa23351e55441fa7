#!/usr/bin/env bash
# The whole test suite (`make test` runs it after scripts/bootstrap.sh):
# Rust unit tests (with the header-staleness test), then every C suite
# plainly and under valgrind, then the demo plainly and under valgrind.
# Each suite prints its own "N passed, N failed"; the last line is the total.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
jobs=${CARGO_JOBS:-2}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
passed=0
failed=0

step() {
	echo "== $*"
	"$@" 2>&1 | tee -a "$log"
	local rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || status=1
	return "$rc"
}

step cargo test --release -j "$jobs"
if step cargo build --release -j "$jobs"; then
	# One libuv per process: the default archive binds to the host's libuv
	# and must not define any of its functions itself.
	echo "== one libuv: libkr_uvshim.a defines no uv_* function"
	archive=target/release/libkr_uvshim.a
	symbols=$(nm "$archive" 2>/dev/null || true)
	defined=$(grep -E ' [TD] uv_' <<<"$symbols" | head -3 || true)
	if [ -z "$defined" ] && grep -qE ' U uv_timer_init$' <<<"$symbols"; then
		echo "PASS one-libuv (uv_* referenced from the host's libuv, none defined)"
		passed=$((passed + 1))
	else
		echo "FAIL one-libuv: ${defined:-libuv not referenced at all}"
		failed=$((failed + 1))
		status=1
	fi
	for dir in c-tests c-tests/shutdown c-tests/asis; do
		step make --no-print-directory -C "$dir" check
		step make --no-print-directory -C "$dir" check-valgrind
	done
	if step make --no-print-directory check-examples; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
fi

# cargo: "test result: ok. N passed; M failed; ..."; C suites: "N passed, M failed"
while read -r p f; do
	passed=$((passed + p))
	failed=$((failed + f))
done < <(sed -n -e 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' \
	-e 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p' "$log")
[ "$failed" -eq 0 ] || status=1
echo "total: $passed passed, $failed failed"
exit "$status"
