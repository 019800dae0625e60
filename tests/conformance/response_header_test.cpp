// Go: TestTransportResponseHeaderTimeout, TestClientTimeoutKillsConn_BeforeHeaders.
#include "conformance_support.hpp"

namespace tunedhttp::conformance {
namespace {

using mockserver::EventKind;

// Go's test: ResponseHeaderTimeout on a transport whose server answers /fast at once and holds
// /slow forever. fast, slow, fast, slow, fast: each slow one fails with "timeout awaiting
// response headers" (a timeout error), and the fast ones after it still succeed.
TEST(GoTransport, TestTransportResponseHeaderTimeout) {
  mockserver::ServerOptions options;
  options.faults.push_back(fault("hold_headers", {}, "/slow"));
  MockServer server(std::move(options));
  Settings settings;
  settings.response_header = 200ms;
  ClientFixture fixture(settings);

  const char* paths[] = {"/fast", "/slow", "/fast", "/slow", "/fast"};
  std::uint64_t request_number = 0;
  for (const char* path : paths) {
    SCOPED_TRACE(path);
    const bool slow = std::string(path) == "/slow";
    const auto started_requests = fixture.events(TracePoint::get_conn).size();
    const auto outcome = fixture.request(get(server.url(path)));
    ASSERT_TRUE(outcome.completed);
    // A retry would add a second get_conn; timeouts are never retried.
    EXPECT_EQ(fixture.events(TracePoint::get_conn).size(), started_requests + 1);
    request_number = fixture.events(TracePoint::get_conn).back().request;
    if (!slow) {
      ASSERT_FALSE(outcome.error) << outcome.error.message();
      EXPECT_EQ(outcome.response.result_int(), 200u);
      continue;
    }
    EXPECT_EQ(outcome.error, errc::response_header_timeout) << outcome.error.message();
    EXPECT_EQ(outcome.error, std::errc::timed_out) << "Go: err.(net.Error).Timeout() is true";
    EXPECT_NE(outcome.error.message().find("timeout awaiting response headers"), std::string::npos)
        << outcome.error.message();
    const auto wrote = fixture.at(TracePoint::wrote_request, request_number);
    ASSERT_TRUE(wrote);
    expect_fired_on_time(*wrote, outcome.finished, settings.response_header);
  }
  // Both slow connections were closed by the client (never pooled); the fast ones were reused.
  const auto deadline = Clock::now() + 2s;
  while (server.count(EventKind::closed_by_peer) < 2 && Clock::now() < deadline) {
    server.events().wait_until(
        [](const mockserver::Event& e) { return e.kind == EventKind::closed_by_peer; },
        Clock::now() + 50ms);
  }
  EXPECT_EQ(server.count(EventKind::closed_by_peer), 2u);
  const auto stats = fixture.client().pool_stats();
  EXPECT_EQ(closes(stats, CloseReason::error), 2u);
  EXPECT_EQ(stats.idle, 1u);
}

// Go's test: a Client.Timeout expiring before the response headers must close the connection,
// so the server's handler sees it go (Go checks the handler's request context is done).
// Our client has no whole-request timeout; a caller's deadline is per-operation cancellation.
TEST(GoTransport, TestClientTimeoutKillsConn_BeforeHeaders) {
  mockserver::ServerOptions options;
  options.faults.push_back(fault("hold_headers"));
  MockServer server(std::move(options));
  ClientFixture fixture;

  Clock::time_point cancelled_at;
  const auto outcome = request_with_deadline(fixture, get(server.url("/")), 200ms, cancelled_at);
  ASSERT_TRUE(outcome.completed) << "the request hung after its deadline";
  EXPECT_EQ(outcome.error, std::errc::operation_canceled) << outcome.error.message();
  EXPECT_LT(outcome.finished - cancelled_at, timing_tolerance());
  const auto closed =
      server.events().wait_for(EventKind::closed_by_peer, 1, Clock::now() + timing_tolerance());
  ASSERT_TRUE(closed) << "the server never saw the connection close";
  EXPECT_GE(closed->at, cancelled_at);
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
}

}  // namespace
}  // namespace tunedhttp::conformance
