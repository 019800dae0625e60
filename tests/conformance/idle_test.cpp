// Go: TestTransportIdleConnTimeout, TestTransportRemovesConnsAfterIdle,
// TestTransportIdleConnRacesRequest.
#include <thread>

#include "conformance_support.hpp"

namespace tunedhttp::conformance {
namespace {

using mockserver::EventKind;

// Go: IdleConnTimeout = 100 ms (ours 300 ms); three requests timeout/2 apart each find the
// same single idle connection; timeout * 3/2 after the last, there is no idle connection.
TEST(GoTransport, TestTransportIdleConnTimeout) {
  MockServer server({});
  Settings settings;
  settings.idle_conn = 300ms;
  ClientFixture fixture(settings);

  for (std::uint64_t n = 1; n <= 3; ++n) {
    SCOPED_TRACE("request " + std::to_string(n));
    const auto outcome = fixture.request(get(server.url("/")));
    ASSERT_FALSE(outcome.error) << outcome.error.message();
    const auto put = fixture.events(TracePoint::put_idle_conn);
    ASSERT_EQ(put.size(), n);
    EXPECT_TRUE(put.back().detail.empty()) << "failed to keep idle conn: " << put.back().detail;
    const auto stats = fixture.client().pool_stats();
    EXPECT_EQ(stats.idle, 1u);
    EXPECT_EQ(stats.dials, 1u) << "cached connection changed";
    fixture.run_until([] { return false; }, 150ms);  // idle for half the limit
  }
  const auto last_put = fixture.events(TracePoint::put_idle_conn).back().at;
  ASSERT_TRUE(
      fixture.run_until([&] { return !fixture.events(TracePoint::idle_conn_closed).empty(); }, 2s));
  const auto closed = fixture.events(TracePoint::idle_conn_closed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].detail, "idle_timeout");
  expect_fired_on_time(last_put, closed[0].at, settings.idle_conn);
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
  EXPECT_TRUE(server.events().wait_for(EventKind::closed_by_peer, 1, Clock::now() + 1s))
      << "the server never saw the client close the idle connection";
}

// Go: two requests within IdleConnTimeout share a connection; two more than IdleConnTimeout
// apart use different ones.
TEST(GoTransport, TestTransportRemovesConnsAfterIdle) {
  MockServer server({});
  Settings settings;
  settings.idle_conn = 200ms;
  settings.max_host_idle_conns = 1;
  ClientFixture fixture(settings);

  ASSERT_FALSE(fixture.request(get(server.url("/"))).error);
  fixture.run_until([] { return false; }, 100ms);
  ASSERT_FALSE(fixture.request(get(server.url("/"))).error);
  fixture.run_until(
      [] { return false; },
      200ms + std::chrono::duration_cast<std::chrono::milliseconds>(timing_tolerance()));
  ASSERT_FALSE(fixture.request(get(server.url("/"))).error);

  const auto conn1 = got_conn(fixture, 1);
  const auto conn2 = got_conn(fixture, 2);
  const auto conn3 = got_conn(fixture, 3);
  ASSERT_TRUE(conn1 && conn2 && conn3);
  EXPECT_EQ(conn1->connection, conn2->connection)
      << "two requests made within IdleConnTimeout should have used the same conn";
  EXPECT_NE(conn1->connection, conn3->connection)
      << "two requests made more than IdleConnTimeout apart should have used different conns";
  EXPECT_FALSE(conn3->reused);
}

// Go (golang/go#70515): a connection that never carried a request sits in the pool (Go makes one by
// cancelling a request while it dials); a request made just as IdleConnTimeout fires must not
// fail — it either gets the connection before the close or dials a new one. The first request
// on a connection is never retried, so losing this race would surface as an error.
//
// Our way to a never-used idle connection is Go's getConn race: request B dials connection 2
// (its TLS handshake held 200 ms), takes connection 1 when request A puts it back, and the
// finished dial goes to the pool unused. (A cancelled request's dial should do the same but
// does not — see TestTransportCancelRequestInDial.)
TEST(GoTransport, TestTransportIdleConnRacesRequest) {
  for (const auto offset : {-4ms, -2ms, -1ms, 0ms, 1ms, 2ms, 4ms}) {
    SCOPED_TRACE("request at idle_conn " + std::to_string(offset.count()) + " ms");
    MockServer server(held_second_dial("200ms", "/slow", "50ms"));
    Settings settings;
    settings.idle_conn = 100ms;
    ClientFixture fixture(settings, trusting(server));

    Outcome a;
    Outcome b;
    start_request(fixture, get(server.url("/slow")), a);
    ASSERT_TRUE(fixture.run_until(
        [&] { return fixture.at(TracePoint::got_response_headers, 1).has_value(); }, 2s));
    start_request(fixture, get(server.url("/")), b);
    ASSERT_TRUE(fixture.run_until([&] { return a.completed && b.completed; }, 2s));
    ASSERT_FALSE(a.error || b.error);
    ASSERT_TRUE(got_conn(fixture, 2) && got_conn(fixture, 2)->reused) << "no late binding";
    // The spare dial finishes and goes idle, never having carried a request.
    // The spare goes to the pool without a request, so without put_idle_conn (as in Go, whose
    // PutIdleConn hook is per request): its handshake's end is when it went idle.
    auto spare_ready = [&]() -> std::optional<Clock::time_point> {
      for (const auto& event : fixture.events(TracePoint::tls_handshake_done)) {
        if (event.connection == 2 && !event.error) return event.at;
      }
      return std::nullopt;
    };
    ASSERT_TRUE(fixture.run_until(
        [&] { return spare_ready() && fixture.client().pool_stats().dials == 2; }, 2s))
        << "the spare dial never completed";
    ASSERT_GE(fixture.client().pool_stats().idle, 1u) << "the spare was not pooled";
    const auto put_at = *spare_ready();
    const auto fire_at = put_at + settings.idle_conn + offset;
    // Run the client until just before, then wait without running it: at offsets >= 0 the idle
    // timer has expired but its handler has not run when the request starts — the race itself.
    fixture.run_until([&] { return Clock::now() >= fire_at - 30ms; }, 1s);
    while (Clock::now() < fire_at) std::this_thread::yield();

    const auto racing = fixture.request(get(server.url("/")));
    ASSERT_TRUE(racing.completed);
    EXPECT_FALSE(racing.error) << "the request raced the idle timeout and lost: "
                               << racing.error.message();
  }
}

}  // namespace
}  // namespace tunedhttp::conformance
