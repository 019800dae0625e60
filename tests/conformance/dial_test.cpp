// Go: TestTransportCancelRequestInDial.
#include "conformance_support.hpp"

namespace tunedhttp::conformance {
namespace {

// Go: the request is cancelled while its dial is blocked; RoundTrip returns promptly with
// "request canceled while waiting for connection". Since Go 1.13 (dialConnFor →
// putOrCloseIdleConn) a dial that outlives its cancelled request, and succeeds, puts its
// connection in the idle pool; our Client documents the same.
TEST(GoTransport, TestTransportCancelRequestInDial) {
  const int fds_before = testing::open_fd_count();
  {
    // Part 1: a dial that never completes (the TCP handshake is stalled).
    testing::StalledListener stalled;
    Settings settings;
    settings.connect = 0s;  // no limit of its own: only the caller's cancellation ends it
    ClientFixture fixture(settings);
    Clock::time_point cancelled_at;
    const auto outcome = request_with_deadline(
        fixture, get("http://127.0.0.1:" + std::to_string(stalled.port()) + "/"), 200ms,
        cancelled_at);
    ASSERT_TRUE(outcome.completed) << "the request hung in its dial after cancellation";
    EXPECT_EQ(outcome.error, std::errc::operation_canceled) << outcome.error.message();
    EXPECT_LT(outcome.finished - cancelled_at, timing_tolerance());
    EXPECT_TRUE(fixture.at(TracePoint::dial_start));
    EXPECT_FALSE(fixture.at(TracePoint::got_conn)) << "a cancelled request got a connection";
  }
  {
    // Part 2: the dial completes after the cancellation (TLS handshake held 200 ms).
    mockserver::ServerOptions options;
    options.tls = true;
    options.faults.push_back(fault("delay_tls_handshake", {{"for", "200ms"}}));
    MockServer server(std::move(options));
    ClientFixture fixture(Settings{}, trusting(server));
    Clock::time_point cancelled_at;
    const auto outcome = request_with_deadline(fixture, get(server.url("/")), 50ms, cancelled_at);
    ASSERT_TRUE(outcome.completed);
    EXPECT_EQ(outcome.error, std::errc::operation_canceled) << outcome.error.message();
    EXPECT_LT(outcome.finished - cancelled_at, timing_tolerance());
    ASSERT_TRUE(fixture.run_until(
        [&] { return !fixture.events(TracePoint::tls_handshake_done).empty(); }, 2s));
    fixture.run_until([&] { return fixture.client().pool_stats().idle == 1; }, 500ms);
    const auto stats = fixture.client().pool_stats();
    // Go and our docs: the finished dial's connection is pooled.
    EXPECT_EQ(stats.idle, 1u) << "the cancelled request's dial was lost";
    // Either way a new request works.
    const auto next = fixture.request(get(server.url("/")));
    EXPECT_FALSE(next.error) << next.error.message();
  }
  EXPECT_EQ(testing::open_fd_count(), fds_before) << "a socket leaked";
}

// The other side of part 2 above: a request cancelled while it waits for its dial must leave
// the waiters' queue, so the next connection another request puts back for that host is pooled,
// not handed to the cancelled request (Go: wantConnQueue / w.cancel). Regression test for the
// bug this port found.
TEST(GoTransportDifferences, CancelledDialWaiterSwallowsAReturnedConnection) {
  MockServer server(held_second_dial("300ms", "/slow", "150ms"));
  ClientFixture fixture(Settings{}, trusting(server));

  // A holds connection 1 for ~150 ms; B waits for its own dial (held 300 ms) and is cancelled
  // at 50 ms; then A puts connection 1 back.
  Outcome a;
  start_request(fixture, get(server.url("/slow")), a);
  ASSERT_TRUE(fixture.run_until(
      [&] { return fixture.at(TracePoint::got_response_headers, 1).has_value(); }, 2s));
  Clock::time_point cancelled_at;
  const auto b = request_with_deadline(fixture, get(server.url("/")), 50ms, cancelled_at);
  ASSERT_EQ(b.error, std::errc::operation_canceled) << b.error.message();
  ASSERT_TRUE(fixture.run_until([&] { return a.completed; }, 2s));
  ASSERT_FALSE(a.error) << a.error.message();
  // B's dial completes later and goes to the pool as a spare.
  ASSERT_TRUE(fixture.run_until([&] { return fixture.client().pool_stats().dials == 2; }, 2s));
  fixture.run_until([&] { return fixture.client().pool_stats().idle >= 2; }, 200ms);
  const auto stats = fixture.client().pool_stats();
  // Connections 1 and 2 idle, and no hand-over to the cancelled request counted as a reuse.
  EXPECT_EQ(stats.idle, 2u) << "a returned connection went to the cancelled waiter";
  EXPECT_EQ(stats.reuses, 0u);
}

}  // namespace
}  // namespace tunedhttp::conformance
