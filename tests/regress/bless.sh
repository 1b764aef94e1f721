#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/regress/bless.sh: regenerates the expected digests of the regression
# cases from this build after an intended change, and shows what changed
# (a unified diff per case; nothing is written for a case that fails to run).
# Usage: tests/regress/bless.sh [PATTERN]      (FH_BUILD, FH_DATA as for run.sh)
# Review the diffs, then commit tests/regress/*/expected.digest.
set -u
cd "$(dirname "$0")/../.."
B=$(cd "${FH_BUILD:-build}" && pwd) || exit 1
FH_DATA=${FH_DATA:-$(cd .. && pwd)/shared/data}
export B FH_DATA
. tests/regress/lib.sh
T=$(mktemp -d /tmp/fh-bless.XXXXXX)
trap 'regress_live_down; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
changed=0 same=0 bad=0
for c in tests/regress/*/; do
	c=${c%/}
	name=$(basename "$c")
	case $name in *"${1:-}"*) ;; *) continue ;; esac
	[ -f "$c/capture.sh" ] && [ -f "$c/fh.yaml" ] || continue
	out=$(regress_case "$c" "$T/$name")
	rc=$?
	if [ $rc != 0 ]; then
		bad=$((bad + 1)); echo "not blessed: $name: $out"; continue
	fi
	if [ -f "$c/expected.digest" ] && cmp -s "$c/expected.digest" "$T/$name/actual.digest"; then
		same=$((same + 1)); echo "unchanged  $name"; continue
	fi
	changed=$((changed + 1))
	if [ -f "$c/expected.digest" ]; then
		echo "changed    $name (- old, + new):"
		diff -u --label "$name/expected.digest (old)" --label "$name/expected.digest (new)" \
			"$c/expected.digest" "$T/$name/actual.digest" | sed 's/^/    /'
	else
		echo "new        $name ($(wc -l <"$T/$name/actual.digest") lines)"
	fi
	cp "$T/$name/actual.digest" "$c/expected.digest"
done
echo "bless: $changed changed, $same unchanged, $bad not blessed"
[ $bad = 0 ]
