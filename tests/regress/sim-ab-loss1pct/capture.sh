# SPDX-License-Identifier: MIT
# sim-ab-loss1pct: the session of sim-1ch-lossless on lines A and B, each line
# losing a different random 1 % of its packets (one draw per packet per line;
# impairment seed 5 loses no packet on both lines): arbitration must give the
# lossless digest, without a gap.
set -e
"$B/fh-sim" --seed 31 --messages 20000 --symbols 100 --session ABSESSION1 --heartbeat-ms 0 \
	--bundle-us 0 --src 10.202.0.1:40000 --group 233.54.12.111:26477 --group-b 233.54.12.112:26478 \
	--drop-pct 1 --impair-lines AB --impair-seed 5 --pcap "$W/capture.pcap" >/dev/null
