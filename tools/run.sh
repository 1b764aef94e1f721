#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/run.sh (`make run`): runs the appliance on its embedded default
# (config/default.yaml): a seeded, simulated two-channel ITCH session
# replayed in a loop through DPDK net_pcap, the shm ring, an embedded Kafka
# cluster and the dashboard. The captures are generated once and cached.
set -eu
cd "$(dirname "$0")/.."
export FH_BUILD=${FH_BUILD:-build}
sim=$FH_BUILD/sim
if [ ! -s "$sim/chan2.pcap" ]; then
	mkdir -p "$sim"
	echo "make run: generating the simulated session (once) in $sim/"
	# MTU-filled packets paced at 500 packets/s (about 20 k messages/s per channel),
	# about 18 s per pass, looping.
	"$FH_BUILD/fh-sim" --seed 1 --messages 400000 --symbols 2000 --session FHSIM00001 \
		--group 233.54.12.111:26477 --bundle-us 0 --pps 500 --pcap "$sim/chan1.pcap.tmp"
	"$FH_BUILD/fh-sim" --seed 2 --messages 400000 --symbols 2000 --session FHSIM00002 \
		--group 233.54.12.112:26477 --bundle-us 0 --pps 500 --pcap "$sim/chan2.pcap.tmp"
	mv "$sim/chan1.pcap.tmp" "$sim/chan1.pcap"
	mv "$sim/chan2.pcap.tmp" "$sim/chan2.pcap"
fi
exec "$FH_BUILD/fh" --config config/default.yaml "$@"
