// Go: src/net/dial_test.go — the dialer rules `connect` follows for a name with several
// addresses: dialParallel (TestDialParallel, TestDialerFallbackDelay), partialDeadline
// (TestDialerPartialDeadline) and a losing attempt closed without a word
// (TestDialSerialAsyncSpuriousConnection). The decisions are checked as plain functions, and
// the dial itself against mock servers that listen on ::1 and 127.0.0.1 with a resolve override.
#include "conformance_support.hpp"
#include "dial_plan.hpp"

namespace tunedhttp::conformance {
namespace {

using detail::DialClock;
using tcp = boost::asio::ip::tcp;

TEST(GoTransport, TestDialerPartialDeadline) {
  const DialClock::time_point now{std::chrono::hours{1}};
  const std::optional<DialClock::time_point> none;
  struct Case {
    DialClock::time_point now;
    std::optional<DialClock::time_point> deadline;
    std::size_t addresses;
    std::optional<DialClock::time_point> want;
    bool want_expired;
  };
  const Case cases[] = {
      // Regular division.
      {now, now + 12s, 1, now + 12s, false},
      {now, now + 12s, 2, now + 6s, false},
      {now, now + 12s, 3, now + 4s, false},
      // Bump against the 2-second sane minimum.
      {now, now + 12s, 999, now + 2s, false},
      // Total available is now below the sane minimum.
      {now, now + 1900ms, 999, now + 1900ms, false},
      // Null deadline.
      {now, none, 1, none, false},
      // Step the clock forward and cross the deadline.
      {now - 1ms, now, 1, now, false},
      {now, now, 1, none, true},
      {now + 1ms, now, 1, none, true},
  };
  for (const auto& c : cases) {
    bool expired = false;
    const auto got = detail::partial_deadline(c.now, c.deadline, c.addresses, expired);
    EXPECT_EQ(got, c.want) << c.addresses << " addresses";
    EXPECT_EQ(expired, c.want_expired) << c.addresses << " addresses";
  }
}

tcp::endpoint at(const char* address) { return {boost::asio::ip::make_address(address), 80}; }

/// Runs `io` until `error` is set or `limit` passes.
void run_until_completed(boost::asio::io_context& io,
                         const std::optional<boost::system::error_code>& error,
                         std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!error && Clock::now() < deadline) io.run_one_until(deadline);
}

TEST(GoTransport, TestDialParallel) {
  // Partition: the first address's family first, order kept; the rest after the delay.
  auto plan = detail::plan_dial({at("::1"), at("127.0.0.1"), at("::2"), at("127.0.0.2")}, 300ms);
  EXPECT_EQ(plan.primaries, (std::vector<tcp::endpoint>{at("::1"), at("::2")}));
  EXPECT_EQ(plan.fallbacks, (std::vector<tcp::endpoint>{at("127.0.0.1"), at("127.0.0.2")}));
  // No fallback (negative FallbackDelay): every address a primary, in order.
  plan = detail::plan_dial({at("::1"), at("127.0.0.1")}, -1ms);
  EXPECT_EQ(plan.primaries, (std::vector<tcp::endpoint>{at("::1"), at("127.0.0.1")}));
  EXPECT_TRUE(plan.fallbacks.empty());

  // Go's table, against real listeners: which family answers, and how long it takes. A
  // refused address is one nothing listens on; a stalled one is a full accept queue.
  struct Case {
    const char* name;
    std::vector<std::string> listen;  ///< empty: nothing listens (port 1: refused)
    bool v6_stalls;
    bool want_ok;
    std::chrono::milliseconds earliest, latest;  ///< of the request, with a 500 ms delay
  };
  const Case cases[] = {
      {"primary answers: no fallback", {"::1", "127.0.0.1"}, false, true, 0ms, 300ms},
      {"primary stalls: fallback at the delay", {"::1", "127.0.0.1"}, true, true, 500ms, 800ms},
      {"primary refused: fallback at once", {"127.0.0.1"}, false, true, 0ms, 300ms},
      {"both refused: the primaries' error", {}, false, false, 0ms, 300ms},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::optional<MockServer> server;
    std::string port = "1";
    if (!c.listen.empty()) {
      mockserver::ServerOptions options;
      options.listen_addresses = c.listen;
      if (c.v6_stalls) {
        auto stall = fault("stall_accept");
        stall.target.listener = "::1";
        options.faults.push_back(stall);
      }
      server.emplace(std::move(options));
      port = std::to_string(server->server().port());
    }
    ClientOptions client_options;
    client_options.settings.connect = 5s;
    client_options.settings.dual_stack_fallback_delay = 500ms;
    client_options.resolve["dual.test"] = {"::1", "127.0.0.1"};
    boost::asio::io_context io;
    Client client(io.get_executor(), client_options);
    std::optional<boost::system::error_code> error;
    const auto started = Clock::now();
    Clock::time_point finished;
    client.async_request(get("http://dual.test:" + port + "/"),
                         [&](boost::system::error_code e, Response) {
                           error = e;
                           finished = Clock::now();
                         });
    run_until_completed(io, error, 2s);
    ASSERT_TRUE(error) << "no completion";
    EXPECT_EQ(!*error, c.want_ok) << error->message();
    if (!c.want_ok) {
      EXPECT_EQ(error_name(*error), "connection_refused") << "want the primaries' error";
    }
    EXPECT_GE(finished - started, c.earliest);
    EXPECT_LE(finished - started, c.latest + timing_tolerance());
  }
}

TEST(GoTransport, TestDialerFallbackDelay) {
  // The fallback starts at the delay, never before, for each delay; 0 means 300 ms.
  for (const auto delay : {0ms, 100ms, 400ms}) {
    SCOPED_TRACE(std::to_string(delay.count()) + " ms");
    mockserver::ServerOptions options;
    options.listen_addresses = {"::1", "127.0.0.1"};
    auto stall = fault("stall_accept");
    stall.target.listener = "::1";
    options.faults.push_back(stall);
    MockServer server(std::move(options));
    Settings settings;
    settings.dual_stack_fallback_delay = delay;
    ClientOptions client_options;
    client_options.settings = settings;
    client_options.resolve["dual.test"] = {"::1", "127.0.0.1"};
    boost::asio::io_context io;
    Client client(io.get_executor(), client_options);
    std::vector<TraceEvent> trace;
    std::optional<boost::system::error_code> error;
    client.async_request(
        get("http://dual.test:" + std::to_string(server.server().port()) + "/"),
        [&](const TraceEvent& e) { trace.push_back(e); },
        [&](boost::system::error_code e, Response) { error = e; });
    run_until_completed(io, error, 3s);
    ASSERT_TRUE(error && !*error) << (error ? error->message() : "no completion");
    std::optional<Clock::time_point> dial_start, v4_start;
    for (const auto& e : trace) {
      if (e.point == TracePoint::dial_start) dial_start = e.at;
      if (e.point == TracePoint::connect_start && e.detail.rfind("tcp4", 0) == 0 && !v4_start) {
        v4_start = e.at;
      }
    }
    ASSERT_TRUE(dial_start && v4_start);
    expect_fired_on_time(*dial_start, *v4_start, delay == 0ms ? 300ms : delay);
  }
}

TEST(GoTransport, TestDialSerialAsyncSpuriousConnection) {
  // The IPv6 listener answers its handshake only after the IPv4 one has won (stall_accept for
  // 150 ms, then the kernel's SYN retransmission). The losing attempt is closed: the server
  // never reads a request on it, and no connection but the winner's reaches the pool.
  mockserver::ServerOptions options;
  options.listen_addresses = {"::1", "127.0.0.1"};
  auto stall = fault("stall_accept", {{"for", "150ms"}});
  stall.target.listener = "::1";
  options.faults.push_back(stall);
  MockServer server(std::move(options));
  Settings settings;
  settings.dual_stack_fallback_delay = 50ms;
  ClientOptions client_options;
  client_options.settings = settings;
  client_options.resolve["dual.test"] = {"::1", "127.0.0.1"};
  boost::asio::io_context io;
  Client client(io.get_executor(), client_options);
  std::optional<boost::system::error_code> error;
  client.async_request(get("http://dual.test:" + std::to_string(server.server().port()) + "/"),
                       [&](boost::system::error_code e, Response) { error = e; });
  run_until_completed(io, error, 2s);
  ASSERT_TRUE(error && !*error) << (error ? error->message() : "no completion");
  // Past the IPv6 SYN retransmission (~1 s after the first SYN): a late connection would show.
  io.run_for(1200ms);
  EXPECT_EQ(server.count(mockserver::EventKind::request_headers_read), 1u);
  EXPECT_EQ(client.pool_stats().dials, 1u);
  EXPECT_EQ(client.pool_stats().idle, 1u);
}

}  // namespace
}  // namespace tunedhttp::conformance
