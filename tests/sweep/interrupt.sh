#!/usr/bin/env bash
# interrupt.sh QUASAR SPEC WORK: Ctrl-C (SIGINT) during a sweep stops it cleanly. The runner
# raises SIGINT itself after 3 stored points (QUASAR_TEST_INTERRUPT_AFTER, deterministic): exit
# status 130, a message saying what was kept, exactly those 3 points in the store (a stopped
# point is not stored as failed), and the same command resumes to the end with the results of an
# uninterrupted run. A log (stderr not a terminal) gets periodic progress lines with an ETA.
set -euo pipefail
q="$1"; spec="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
set +e
QUASAR_TEST_INTERRUPT_AFTER=3 QUASAR_PROGRESS_PERIOD_S=0 \
  "$q" sweep "$spec" --store "$work/b.db" --jobs 2 > "$work/out" 2> "$work/err"
rc=$?
set -e
[ "$rc" = 130 ] || { echo "FAIL: exit status $rc, expected 130"; cat "$work/err"; exit 1; }
grep -q "quasar sweep: interrupted: 3 points of this run are in $work/b.db (0 were already), [0-9]* not run; the same command resumes" "$work/err" ||
  { echo "FAIL: no interruption message"; cat "$work/err"; exit 1; }
grep -q "quasar sweep: 1/[0-9]* points, 0 failed, .* elapsed, ETA " "$work/err" ||
  { echo "FAIL: no progress line with an ETA in the log"; cat "$work/err"; exit 1; }
n=$(( $("$q" sweep export "$work/b.db" --format csv | grep -c ',ok,') ))
all=$(( $("$q" sweep export "$work/b.db" --format csv | wc -l) - 1 ))
[ "$n" = 3 ] && [ "$all" = 3 ] || { echo "FAIL: $all points stored ($n ok), expected 3 ok"; exit 1; }
"$q" sweep "$spec" --store "$work/b.db" --jobs 2 --no-progress > "$work/out2"
grep -q "; 3 already in" "$work/out2" || { echo "FAIL: the resume did not find 3 points"; cat "$work/out2"; exit 1; }
"$q" sweep "$spec" --store "$work/a.db" --jobs 2 --no-progress > /dev/null
"$q" sweep export "$work/a.db" --format csv | cut -d, -f2- | sort > "$work/a.csv"
"$q" sweep export "$work/b.db" --format csv | cut -d, -f2- | sort > "$work/b.csv"
cmp -s "$work/a.csv" "$work/b.csv" || { echo "FAIL: the resumed store differs"; diff "$work/a.csv" "$work/b.csv" | head; exit 1; }
echo "interrupt: ok (3 kept, resumed to $(( $(wc -l < "$work/a.csv") )) points)"
