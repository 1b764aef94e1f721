#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/run.sh (`make run`): runs the appliance on its embedded default.
set -eu
cd "$(dirname "$0")/.."
FH_BUILD=${FH_BUILD:-build}
data=../shared/data/itch/12302019_SNIPPET.NASDAQ_ITCH50
if [ -x "$FH_BUILD/fh" ]; then
	exec "$FH_BUILD/fh" --config config/default.yaml "$@"
fi
echo "fh: the appliance binary is not built yet; decoding the real ITCH sample instead"
exec "$FH_BUILD/fh-itch" counts "$data"
