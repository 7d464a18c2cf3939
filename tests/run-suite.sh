#!/usr/bin/env bash
# The whole suite as `make test` runs it: the drills and the end-to-end tests (which mostly wait: for a killed
# worker's activity timeout, a restarted server, a dev stack) in one pytest process, everything else in another,
# at the same time. Each process starts its own PostgreSQL and Temporal servers on free ports and keeps its files
# under its own base folder. The drills' output is printed after the rest; the exit code fails if either failed.
set -uo pipefail
python="$1"
shift
work=$(mktemp -d "${TMPDIR:-/tmp}/claimflow-suite.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$python" -m pytest tests/drills tests/e2e --basetemp="$work/slow" "$@" >"$work/slow.log" 2>&1 &
slow=$!
"$python" -m pytest --ignore=tests/drills --ignore=tests/e2e --basetemp="$work/fast" "$@"
fast_status=$?
wait "$slow"
slow_status=$?
echo
echo "==================== tests/drills and tests/e2e (run alongside) ===================="
cat "$work/slow.log"
exit $((fast_status != 0 || slow_status != 0))
