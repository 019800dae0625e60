// Faults changed while the server runs (the control API's library side): counted targets
// (`request:1-3`) count from the change, a bad change changes nothing, a stall_accept added at
// run time stalls the next client, and changes from another thread race no request.
#include <atomic>
#include <future>

#include "test_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

/// One request on a fresh connection: its status, or 0 when the connection was reset.
int status_of_one_request(ServerThread& server) {
  RawClient client;
  client.start_connect(server.endpoint());
  if (!client.connected_by(Clock::now() + 2s)) return -1;
  // A reset on accept may reach the client before its connect() has returned.
  if (client.connect_error() == asio::error::connection_reset) return 0;
  if (client.connect_error()) return -1;
  client.send_request("GET", "/");
  const auto head = client.read_head(Clock::now() + 2s);
  if (!head) return -1;
  if (head->error == asio::error::connection_reset) return 0;
  return head->error ? -1 : status_of(head->text);
}

TEST(FaultTargets, RangesParseAndRoundTrip) {
  const auto config = parse_fault_spec("reset=after-headers,request:1-3");
  EXPECT_EQ(config.target.request, 1u);
  EXPECT_EQ(config.target.request_last, 3u);
  EXPECT_EQ(format_fault_spec(config), "reset=after_headers:true,request:1-3");
  const auto single = parse_fault_spec("idle-close=1s,connection:2");
  EXPECT_EQ(single.target.connection, 2u);
  EXPECT_FALSE(single.target.connection_last);
  for (const std::string spec :
       {"hold-headers=2s", "hold-headers=2s,after_status_line:true,request:2-5,path:/x",
        "drip-body=1KiB/100ms", "stall-accept=listener:[::1],connection:3", "blackhole=idle:1s",
        "reset=mid-body:10", "withhold-continue=reply:417,request:4"}) {
    const auto parsed = parse_fault_spec(spec);
    const auto again = parse_fault_spec(format_fault_spec(parsed));
    EXPECT_EQ(again.name, parsed.name) << spec;
    EXPECT_EQ(again.parameters, parsed.parameters) << spec << " -> " << format_fault_spec(parsed);
    EXPECT_EQ(again.target.connection, parsed.target.connection) << spec;
    EXPECT_EQ(again.target.request, parsed.target.request) << spec;
    EXPECT_EQ(again.target.request_last, parsed.target.request_last) << spec;
    EXPECT_EQ(again.target.path, parsed.target.path) << spec;
    EXPECT_EQ(again.target.listener, parsed.target.listener) << spec;
  }
  EXPECT_EQ(format_fault_spec(parse_fault_spec("hold-headers=2s")), "hold-headers=2s");
  for (const std::string bad : {"hold-headers=request:3-1", "hold-headers=request:0-2",
                                "hold-headers=request:1-", "hold-headers=connection:-2"}) {
    EXPECT_THROW(parse_fault_spec(bad), std::invalid_argument) << bad;
  }
}

TEST(FaultTargets, ARangeFailsTheFirstNThenSucceeds) {
  ServerThread server(ServerOptions{});
  EXPECT_EQ(status_of_one_request(server), 200);
  EXPECT_EQ(status_of_one_request(server), 200);
  // Counted from the change: the two requests above are not among the first two.
  server.server().set_faults({parse_fault_spec("reset=after-headers,request:1-2")});
  EXPECT_EQ(status_of_one_request(server), 0);
  EXPECT_EQ(status_of_one_request(server), 0);
  EXPECT_EQ(status_of_one_request(server), 200);
  const auto stats = server.server().stats();
  EXPECT_EQ(stats.requests, 5u);
  EXPECT_EQ(stats.connections, 5u);
  EXPECT_EQ(stats.faults_fired.at("reset"), 2u);
}

TEST(FaultTargets, AConnectionTargetCountsConnectionsFromTheChange) {
  ServerThread server(ServerOptions{});
  EXPECT_EQ(status_of_one_request(server), 200);
  const auto added = server.server().add_fault(parse_fault_spec("reset=on-accept,connection:2"));
  EXPECT_EQ(added.id, 1u);
  EXPECT_EQ(status_of_one_request(server), 200);  // the first after the change
  EXPECT_EQ(status_of_one_request(server), 0);    // the second
  EXPECT_EQ(status_of_one_request(server), 200);
  EXPECT_TRUE(server.server().remove_fault(added.id));
  EXPECT_FALSE(server.server().remove_fault(added.id));
  EXPECT_TRUE(server.server().faults().empty());
}

TEST(FaultChanges, ABadChangeChangesNothing) {
  ServerOptions options;
  options.faults.push_back(parse_fault_spec("hold-headers=2s"));
  ServerThread server(std::move(options));
  EXPECT_THROW(server.server().set_faults({parse_fault_spec("idle-close=1s"),
                                           FaultConfig{"hold_headers", {{"for", "soon"}}, {}}}),
               std::invalid_argument);
  EXPECT_THROW(server.server().add_fault(parse_fault_spec("delay-tls-handshake=1s")),
               std::invalid_argument)
      << "delay_tls_handshake needs a TLS server";
  const auto faults = server.server().faults();
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].config.name, "hold_headers");
  EXPECT_EQ(faults[0].id, 1u);
  EXPECT_EQ(count_of(server.events(), EventKind::faults_changed), 0u);
}

TEST(FaultChanges, EachChangeIsLoggedWithTheSpecsInForce) {
  ServerThread server(ServerOptions{});
  server.server().set_faults(
      {parse_fault_spec("hold-headers=2s"), parse_fault_spec("idle-close=1s")});
  server.server().set_faults({});
  const auto events = server.events().snapshot();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, EventKind::faults_changed);
  EXPECT_EQ(events[0].detail, "hold-headers=2s idle-close=1s");
  EXPECT_EQ(events[1].detail, "");
}

TEST(FaultChanges, AStallAcceptAddedAtRunTimeStallsTheNextClient) {
  ServerThread server(ServerOptions{});
  EXPECT_EQ(status_of_one_request(server), 200);
  server.server().add_fault(parse_fault_spec("stall-accept"));
  // The stall is set up on the server's executor; a client that comes after it is not let in.
  std::promise<void> applied;
  server.server().after_changes([&] { applied.set_value(); });
  ASSERT_EQ(applied.get_future().wait_for(2s), std::future_status::ready);
  RawClient client;
  client.start_connect(server.endpoint());
  EXPECT_FALSE(client.connected_by(Clock::now() + 300ms)) << "connected through the stall";
  EXPECT_EQ(count_of(server.events(), EventKind::accepted), 1u);
}

TEST(FaultChanges, ChangesFromAnotherThreadWhileRequestsRun) {
  ServerThread server(ServerOptions{});
  std::atomic<bool> done{false};
  std::thread changer([&] {
    const auto hold = parse_fault_spec("hold-headers=1ms,path:/never");
    while (!done) {
      server.server().set_faults({hold});
      server.server().add_fault(parse_fault_spec("idle-close=10s"));
      (void)server.server().faults();
      (void)server.server().stats();
      server.server().set_faults({});
    }
  });
  for (int i = 0; i < 20; ++i) EXPECT_EQ(status_of_one_request(server), 200);
  done = true;
  changer.join();
  EXPECT_EQ(server.server().stats().requests, 20u);
}

TEST(EventLogSequence, AfterWaitAfterAndClear) {
  EventLog log;
  log.record({EventKind::accepted, Clock::now(), 1, 0, ""});
  log.record({EventKind::closed_by_peer, Clock::now(), 1, 0, "eof"});
  const auto all = log.snapshot();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].seq, 1u);
  EXPECT_EQ(all[1].seq, 2u);
  EXPECT_EQ(log.after(1).size(), 1u);
  EXPECT_TRUE(log.after(2).empty());
  const auto started = Clock::now();
  EXPECT_TRUE(log.wait_after(2, Clock::now() + 50ms).empty());
  EXPECT_GE(Clock::now() - started, 50ms);
  std::thread recorder([&] { log.record({EventKind::accepted, Clock::now(), 2, 0, ""}); });
  const auto fresh = log.wait_after(2, Clock::now() + 2s);
  recorder.join();
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].seq, 3u);
  log.clear();
  EXPECT_TRUE(log.snapshot().empty());
  log.record({EventKind::accepted, Clock::now(), 3, 0, ""});
  EXPECT_EQ(log.snapshot().front().seq, 4u) << "sequence numbers go on after clear()";
  EXPECT_TRUE(log.wait_for(EventKind::accepted, 3, Clock::now() + 10ms));
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
