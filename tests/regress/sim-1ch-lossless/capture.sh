# SPDX-License-Identifier: MIT
# sim-1ch-lossless: the session of sim-ab-loss1pct on line A only, nothing lost
# (packets filled to 1400 bytes, no heartbeats: a few hundred packets).
set -e
"$B/fh-sim" --seed 31 --messages 20000 --symbols 100 --session ABSESSION1 --heartbeat-ms 0 \
	--bundle-us 0 --src 10.202.0.1:40000 --group 233.54.12.111:26477 --pcap "$W/capture.pcap" >/dev/null
