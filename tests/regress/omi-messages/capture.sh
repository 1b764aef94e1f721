# SPDX-License-Identifier: MIT
# omi-messages: the seven real one-message captures of session 000010059B,
# concatenated in sequence order (gaps between them are real and reported).
d=$FH_DATA/itch/omi
p=Nasdaq.Equities.TotalView.Itch.v5.0__
set --
for m in OrderReplace AddOrderNoMpidAttribution OrderDelete OrderExecuted \
	NetOrderImbalanceIndicator MarketParticipantPosition StockTradingAction; do
	[ -r "$d/$p${m}Message.pcap" ] || { echo "missing $d/$p${m}Message.pcap"; exit 77; }
	set -- "$@" "$d/$p${m}Message.pcap"
done
mergecap -a -F pcap -w "$W/capture.pcap" "$@"
