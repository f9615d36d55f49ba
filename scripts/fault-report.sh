#!/usr/bin/env bash
# Sums the faults the fault suites really injected (lines "suite<TAB>kind<TAB>count" appended by the tests to
# the file named by $ZBSYNC_FAULT_TALLY) and prints them per kind and per suite.
# Usage: scripts/fault-report.sh TALLY_FILE [SUITE...]
# Fails when nothing was injected at all, or when a named SUITE injected nothing (it ran without testing anything).
set -euo pipefail
tally="${1:?usage: fault-report.sh TALLY_FILE [SUITE...]}"
shift
if [ ! -s "$tally" ]; then
  echo "fault report: no fault was injected (no tally in $tally); the fault suites tested nothing" >&2
  exit 1
fi
echo "Faults injected, by kind:"
awk -F'\t' '{ n[$2] += $3; t += $3 } END { for (k in n) printf "  %6d  %s\n", n[k], k | "sort -k2"; close("sort -k2"); printf "  %6d  in total\n", t }' "$tally"
echo "By suite:"
awk -F'\t' '{ n[$1] += $3; k[$1 "\t" $2] = 1 } END { for (s in n) { c = 0; for (x in k) if (index(x, s "\t") == 1) c++; printf "  %6d  %s (%d kinds)\n", n[s], s, c } }' "$tally" | sort -k2
status=0
total=$(awk -F'\t' '{ t += $3 } END { print t + 0 }' "$tally")
if [ "$total" -eq 0 ]; then echo "fault report: 0 faults injected" >&2; status=1; fi
for suite in "$@"; do
  n=$(awk -F'\t' -v s="$suite" '$1 == s { t += $3 } END { print t + 0 }' "$tally")
  if [ "$n" -eq 0 ]; then echo "fault report: the suite $suite injected no fault (did it run?)" >&2; status=1; fi
done
exit $status
