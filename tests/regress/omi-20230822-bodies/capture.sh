# SPDX-License-Identifier: MIT
# omi-20230822-bodies: the fifteen real 2023-08-22 captures (zeroed addresses,
# session and sequence, real ITCH bodies), concatenated in name order: every
# message is delivered unsequenced.
d=$FH_DATA/itch/omi
set -- "$d"/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__*.pcap
[ -r "$1" ] || { echo "missing $d/*20230822*.pcap"; exit 77; }
mergecap -a -F pcap -w "$W/capture.pcap" "$@"
