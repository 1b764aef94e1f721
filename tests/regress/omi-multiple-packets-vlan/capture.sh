# SPDX-License-Identifier: MIT
# omi-multiple-packets-vlan: the real 802.1Q-tagged (VLAN 141) wire capture of
# two MoldUDP64 packets (38 messages in 1472 bytes, a sequence jump between them).
f=$FH_DATA/itch/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap
[ -r "$f" ] || { echo "missing $f"; exit 77; }
ln -s "$f" "$W/capture.pcap"
