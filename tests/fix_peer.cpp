// SPDX-License-Identifier: MIT
// fix_peer.cpp: QuickFIX acceptor test peer: snapshots, incrementals, drops, skips, silence.
//
// A real FIX engine on the other side of fh's initiator session. It accepts
// one FIX.4.4 session, answers each MarketDataRequest (35=V) with a
// snapshot (35=W) and, for 263=1, streams incrementals (35=X) of a random
// but seeded price-level book per symbol. Faults on purpose:
//   --drop-every K        every K-th update is stored (so QuickFIX resends it
//                         as PossDup on ResendRequest) but never sent
//   --skip-every K        before every K-th update one MsgSeqNum is skipped
//                         (QuickFIX answers the ResendRequest with a GapFill)
//   --rptseq-gap-every K  every K-th update changes the book and RptSeq but is
//                         never sent: only a fresh snapshot repairs the book
//   --silent-after N --silent-ms M  after N updates the engine is frozen for
//                         M ms: no heartbeat, no answer (TestRequest unanswered)
// When all --updates are out it writes its books to --dump FILE, one line
// per symbol: "BOOK SYM B <px 1e-8>x<qty> ... S <px>x<qty> ...", and keeps
// serving the session until --linger-s elapses.

// QuickFIX 1.15's virtuals carry dynamic exception specifications, which
// overriders must repeat; C++14 only deprecates them.
#pragma GCC diagnostic ignored "-Wdeprecated"

#include <quickfix/Application.h>
#include <quickfix/DataDictionaryProvider.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/Log.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/fix44/MarketDataIncrementalRefresh.h>
#include <quickfix/fix44/MarketDataSnapshotFullRefresh.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Book {
	std::map<long, long> bid, ask; // ticks (0.01) -> qty
	long rptseq = 0;
};

struct Options {
	int port = 0;
	std::string sender = "PEER", target = "FH", dump;
	std::vector<std::string> symbols;
	int updates = 200, interval_ms = 5, drop_every = 0, skip_every = 0, rptseq_gap_every = 0;
	int silent_after = 0, silent_ms = 0, linger_s = 30;
	unsigned seed = 1;
};

using Clock = std::chrono::steady_clock;

std::string price(long ticks)
{
	char b[32];
	snprintf(b, sizeof(b), "%ld.%02ld", ticks / 100, ticks % 100);
	return b;
}

// Keeps the store QuickFIX creates so a "dropped" message can be stored
// under its sequence number without being sent.
class KeepStoreFactory : public FIX::MessageStoreFactory {
public:
	FIX::MessageStore *create(const FIX::SessionID &id) override
	{
		last = inner.create(id);
		return last;
	}
	void destroy(FIX::MessageStore *s) override { inner.destroy(s); }
	FIX::MessageStore *last = nullptr;

private:
	FIX::MemoryStoreFactory inner;
};

// Field order of the groups, so that stored messages parse back (resend)
// with their entries intact.
std::shared_ptr<FIX::DataDictionary> make_dictionary()
{
	// No version: QuickFIX then checks neither field placement nor
	// membership (UseDataDictionary=N stays lenient); it only needs the
	// types, the tags and the group layouts.
	auto dd = std::make_shared<FIX::DataDictionary>();
	for (int f : { 8, 9, 35, 49, 56, 34, 52, 43, 97, 122 })
		dd->addHeaderField(f, f == 8 || f == 9 || f == 35);
	dd->addTrailerField(10, true);
	for (int f : { 8, 9, 35, 49, 56, 34, 52, 43, 97, 122, 10, 98, 108, 141, 112, 7, 16, 36,
		       123, 45, 58, 371, 372, 373, 789, 1137, 262, 263, 264, 265, 266, 267, 269,
		       146, 55, 48, 22, 268, 279, 270, 271, 83, 1023, 346, 60, 272, 273, 281,
		       1003, 2446, 54 })
		dd->addField(f);
	for (const char *t : { "0", "1", "2", "3", "4", "5", "A", "Y", "j" })
		dd->addMsgType(t);
	FIX::DataDictionary x, w, v146, v267;
	for (int f : { 279, 269, 55, 270, 271, 83, 1023, 346 })
		x.addField(f);
	for (int f : { 269, 270, 271, 1023, 346 })
		w.addField(f);
	v146.addField(55);
	v267.addField(269);
	for (const char *t : { "X", "W", "V" })
		dd->addMsgType(t);
	dd->addMsgField("X", 262);
	dd->addMsgField("X", 268);
	dd->addGroup("X", 268, 279, x);
	for (int f : { 55, 83, 262, 268 })
		dd->addMsgField("W", f);
	dd->addGroup("W", 268, 269, w);
	for (int f : { 262, 263, 264, 265, 267, 146 })
		dd->addMsgField("V", f);
	dd->addGroup("V", 146, 55, v146);
	dd->addGroup("V", 267, 269, v267);
	return dd;
}

class Peer : public FIX::Application {
public:
	explicit Peer(const Options &o) : opt(o), rng(o.seed)
	{
		for (const auto &s : o.symbols) {
			Book &b = books[s];
			for (int i = 0; i < 5; i++) {
				b.bid[10000 - 1 - i * 3] = 100 + i * 10;
				b.ask[10000 + 1 + i * 3] = 120 + i * 10;
			}
		}
		dd.addTransportDataDictionary(FIX::BeginString("FIX.4.4"), make_dictionary());
	}

	void onCreate(const FIX::SessionID &id) override
	{
		FIX::Session *s = FIX::Session::lookupSession(id);
		if (s)
			s->setDataDictionaryProvider(dd);
	}
	void onLogon(const FIX::SessionID &id) override
	{
		sid = id;
		logged_on = true;
		subscribed.clear();
		fprintf(stderr, "fix_peer: logon\n");
	}
	void onLogout(const FIX::SessionID &) override
	{
		logged_on = false;
		fprintf(stderr, "fix_peer: logout\n");
	}
	void toAdmin(FIX::Message &, const FIX::SessionID &) override {}
	void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override {}
	void fromAdmin(const FIX::Message &, const FIX::SessionID &) throw(
		FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
		FIX::RejectLogon) override
	{
	}
	void fromApp(const FIX::Message &m, const FIX::SessionID &id) throw(
		FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
		FIX::UnsupportedMessageType) override
	{
		FIX::MsgType t;
		m.getHeader().getField(t);
		if (t.getValue() != "V")
			return;
		// fields read from the raw text: independent of any dictionary
		std::string raw = m.toString(), req, type, sym;
		std::istringstream in(raw);
		for (std::string f; std::getline(in, f, '\001');) {
			auto eq = f.find('=');
			if (eq == std::string::npos)
				continue;
			int tag = atoi(f.substr(0, eq).c_str());
			std::string v = f.substr(eq + 1);
			if (tag == 262)
				req = v;
			else if (tag == 263)
				type = v;
			else if (tag == 55)
				sym = v;
		}
		if (!books.count(sym))
			return;
		fprintf(stderr, "fix_peer: MarketDataRequest %s 263=%s %s\n", req.c_str(), type.c_str(),
			sym.c_str());
		send_snapshot(sym, req, id);
		if (type == "1")
			subscribed.insert(sym);
		else if (type == "2")
			subscribed.erase(sym);
	}

	void send_snapshot(const std::string &sym, const std::string &req, const FIX::SessionID &id)
	{
		Book &b = books[sym];
		FIX44::MarketDataSnapshotFullRefresh w;
		w.setField(262, req);
		w.setField(55, sym);
		w.setField(83, std::to_string(b.rptseq));
		int lvl = 0;
		for (auto it = b.bid.rbegin(); it != b.bid.rend(); ++it) {
			FIX44::MarketDataSnapshotFullRefresh::NoMDEntries g;
			g.setField(269, "0");
			g.setField(270, price(it->first));
			g.setField(271, std::to_string(it->second));
			g.setField(1023, std::to_string(++lvl));
			w.addGroup(g);
		}
		lvl = 0;
		for (auto &l : b.ask) {
			FIX44::MarketDataSnapshotFullRefresh::NoMDEntries g;
			g.setField(269, "1");
			g.setField(270, price(l.first));
			g.setField(271, std::to_string(l.second));
			g.setField(1023, std::to_string(++lvl));
			w.addGroup(g);
		}
		FIX::Session::sendToTarget(w, id);
	}

	// One random book change of 1-3 entries; returns the message.
	FIX44::MarketDataIncrementalRefresh make_update(const std::string &sym)
	{
		Book &b = books[sym];
		FIX44::MarketDataIncrementalRefresh x;
		int n = 1 + (int)(rng() % 3);
		for (int i = 0; i < n; i++) {
			bool bid = rng() % 2;
			auto &side = bid ? b.bid : b.ask;
			unsigned r = rng() % 10;
			long px;
			char action;
			if (side.size() < 3 || r < 4) {
				// new level inside the side's band: bids 90.00-99.99, asks 100.01-110.00
				px = bid ? 9000 + (long)(rng() % 1000) : 10001 + (long)(rng() % 1000);
				action = side.count(px) ? '1' : '0';
				side[px] = 1 + (long)(rng() % 500);
			} else {
				auto it = side.begin();
				std::advance(it, rng() % side.size());
				px = it->first;
				if (r < 8) {
					action = '1';
					it->second = 1 + (long)(rng() % 500);
				} else {
					action = '2';
					side.erase(it);
				}
			}
			FIX44::MarketDataIncrementalRefresh::NoMDEntries g;
			g.setField(279, std::string(1, action));
			g.setField(269, bid ? "0" : "1");
			if (i == 0)
				g.setField(55, sym); // later entries inherit it
			g.setField(270, price(px));
			if (action != '2')
				g.setField(271, std::to_string(side[px]));
			g.setField(83, std::to_string(++b.rptseq));
			x.addGroup(g);
		}
		return x;
	}

	// Stores msg under the next sequence number without sending it.
	void store_only(FIX::Message &msg)
	{
		FIX::MessageStore *st = stores->last;
		int seq = st->getNextSenderMsgSeqNum();
		msg.getHeader().setField(FIX::BeginString("FIX.4.4"));
		msg.getHeader().setField(FIX::SenderCompID(opt.sender));
		msg.getHeader().setField(FIX::TargetCompID(opt.target));
		msg.getHeader().setField(FIX::MsgSeqNum(seq));
		msg.getHeader().setField(FIX::SendingTime(FIX::UtcTimeStamp(), 3));
		st->set(seq, msg.toString());
		st->incrNextSenderMsgSeqNum();
	}

	// Called from the main loop between polls. Returns true when an update went out.
	bool step()
	{
		if (!logged_on || subscribed.empty() || sent >= opt.updates)
			return false;
		std::string sym = opt.symbols[(size_t)sent % opt.symbols.size()];
		if (!subscribed.count(sym))
			return false;
		sent++;
		FIX44::MarketDataIncrementalRefresh x = make_update(sym);
		if (opt.rptseq_gap_every && sent % opt.rptseq_gap_every == 0) {
			fprintf(stderr, "fix_peer: update %d lost before the session (RptSeq gap)\n", sent);
			return true;
		}
		if (opt.drop_every && sent % opt.drop_every == 0) {
			fprintf(stderr, "fix_peer: update %d stored, not sent (drop)\n", sent);
			store_only(x);
			return true;
		}
		if (opt.skip_every && sent % opt.skip_every == 0) {
			FIX::Session *s = FIX::Session::lookupSession(sid);
			int next = s->getExpectedSenderNum();
			fprintf(stderr, "fix_peer: skip MsgSeqNum %d\n", next);
			s->setNextSenderMsgSeqNum(next + 1);
		}
		FIX::Session::sendToTarget(x, sid);
		return true;
	}

	void dump(const std::string &path)
	{
		std::ofstream f(path + ".tmp");
		for (const auto &s : opt.symbols) {
			Book &b = books[s];
			f << "BOOK " << s << " B";
			for (auto it = b.bid.rbegin(); it != b.bid.rend(); ++it)
				f << " " << it->first * 1000000L << "x" << it->second;
			f << " S";
			for (auto &l : b.ask)
				f << " " << l.first * 1000000L << "x" << l.second;
			f << "\n";
		}
		f.close();
		std::rename((path + ".tmp").c_str(), path.c_str());
	}

	const Options &opt;
	std::mt19937 rng;
	std::map<std::string, Book> books;
	std::set<std::string> subscribed;
	FIX::SessionID sid;
	FIX::DataDictionaryProvider dd;
	KeepStoreFactory *stores = nullptr;
	bool logged_on = false;
	int sent = 0;
};

int usage()
{
	fprintf(stderr, "usage: fix_peer --port P --symbols A,B [--sender PEER] [--target FH]\n"
			"  [--updates N] [--interval-ms I] [--drop-every K] [--skip-every K]\n"
			"  [--rptseq-gap-every K] [--silent-after N --silent-ms M] [--dump FILE]\n"
			"  [--linger-s S] [--seed S]\n");
	return 2;
}

} // namespace

int main(int argc, char **argv)
{
	Options o;
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string a = argv[i], v = argv[i + 1];
		if (a == "--port") o.port = atoi(v.c_str());
		else if (a == "--sender") o.sender = v;
		else if (a == "--target") o.target = v;
		else if (a == "--updates") o.updates = atoi(v.c_str());
		else if (a == "--interval-ms") o.interval_ms = atoi(v.c_str());
		else if (a == "--drop-every") o.drop_every = atoi(v.c_str());
		else if (a == "--skip-every") o.skip_every = atoi(v.c_str());
		else if (a == "--rptseq-gap-every") o.rptseq_gap_every = atoi(v.c_str());
		else if (a == "--silent-after") o.silent_after = atoi(v.c_str());
		else if (a == "--silent-ms") o.silent_ms = atoi(v.c_str());
		else if (a == "--dump") o.dump = v;
		else if (a == "--linger-s") o.linger_s = atoi(v.c_str());
		else if (a == "--seed") o.seed = (unsigned)atoi(v.c_str());
		else if (a == "--symbols") {
			std::istringstream in(v);
			for (std::string s; std::getline(in, s, ',');)
				o.symbols.push_back(s);
		} else
			return usage();
	}
	if (!o.port || o.symbols.empty())
		return usage();

	std::ostringstream cfg;
	cfg << "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=" << o.port
	    << "\nSocketReuseAddress=Y\nStartTime=00:00:00\nEndTime=00:00:00\n"
	       "UseDataDictionary=N\nResetOnLogon=N\nResetOnLogout=N\nResetOnDisconnect=N\n"
	       "CheckLatency=N\nPersistMessages=Y\n"
	       "[SESSION]\nBeginString=FIX.4.4\nSenderCompID="
	    << o.sender << "\nTargetCompID=" << o.target << "\n";
	std::istringstream cin_(cfg.str());
	try {
		FIX::SessionSettings settings(cin_);
		Peer app(o);
		KeepStoreFactory stores;
		app.stores = &stores;
		// FIX_PEER_LOG=1: QuickFIX's own message log on stdout
		FIX::ScreenLogFactory logs(settings);
		std::unique_ptr<FIX::SocketAcceptor> acceptor(
			getenv("FIX_PEER_LOG") ? new FIX::SocketAcceptor(app, stores, settings, logs)
					       : new FIX::SocketAcceptor(app, stores, settings));
		auto start = Clock::now(), next = start, frozen_until = start;
		bool dumped = false, froze = false;
		while (Clock::now() - start < std::chrono::seconds(o.linger_s)) {
			auto now = Clock::now();
			if (now < frozen_until) {
				std::this_thread::sleep_for(std::chrono::milliseconds(5));
				continue;
			}
			acceptor->poll(0.001);
			if (now >= next && app.step()) {
				next = now + std::chrono::milliseconds(o.interval_ms);
				if (o.silent_after && !froze && app.sent >= o.silent_after) {
					froze = true;
					fprintf(stderr, "fix_peer: silent for %d ms\n", o.silent_ms);
					frozen_until = Clock::now() + std::chrono::milliseconds(o.silent_ms);
				}
			}
			if (!dumped && app.sent >= o.updates && !o.dump.empty()) {
				app.dump(o.dump);
				dumped = true;
				fprintf(stderr, "fix_peer: %d updates out, books dumped\n", app.sent);
			}
		}
		acceptor->stop();
	} catch (std::exception &e) {
		fprintf(stderr, "fix_peer: %s\n", e.what());
		return 1;
	}
	return 0;
}
