// Per-operation cancellation: how a caller puts a deadline on the whole request (Go's
// Client.Timeout / context deadline), e.g. on a body that never ends.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;

TEST(Cancellation, EndsABodyThatNeverEnds) {
  const int fds_before = open_fd_count();
  {
    std::promise<bool> client_closed;
    ScriptedServer server([&](Peer& peer) {
      peer.read_headers(Clock::now() + 2s);
      peer.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nstart of a body");
      client_closed.set_value(peer.wait_eof(Clock::now() + 3s));
    });
    ClientFixture fixture;
    Clock::time_point cancelled_at;
    const auto outcome = request_with_deadline(fixture, get(server.url()), 200ms, cancelled_at);
    ASSERT_TRUE(outcome.completed) << "the request hung after cancellation";
    EXPECT_EQ(outcome.error, boost::asio::error::operation_aborted) << outcome.error.message();
    EXPECT_LT(outcome.finished - cancelled_at, timing_tolerance());
    EXPECT_TRUE(client_closed.get_future().get()) << "the connection stayed open";
    auto stats = fixture.client().pool_stats();
    EXPECT_EQ(stats.idle, 0u);
    EXPECT_EQ(stats.closes_by_reason[CloseReason::error], 1u);
  }
  EXPECT_EQ(open_fd_count(), fds_before) << "a socket leaked";
}

TEST(Cancellation, EndsAWaitForAStalledConnect) {
  StalledListener stalled;
  Settings settings;
  settings.connect = 0s;  // no limit of its own: only the caller's deadline ends it
  ClientFixture fixture(settings);
  Clock::time_point cancelled_at;
  const auto outcome = request_with_deadline(
      fixture, get("http://127.0.0.1:" + std::to_string(stalled.port()) + "/"), 200ms,
      cancelled_at);
  ASSERT_TRUE(outcome.completed) << "the request hung after cancellation";
  EXPECT_EQ(outcome.error, boost::asio::error::operation_aborted) << outcome.error.message();
  EXPECT_LT(outcome.finished - cancelled_at, timing_tolerance());
}

TEST(Cancellation, AnUnusedSignalChangesNothing) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write(ok_response("fine"));
  });
  ClientFixture fixture;
  Clock::time_point never;
  const auto outcome = request_with_deadline(fixture, get(server.url()), 5000ms, never);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "fine");
  EXPECT_EQ(fixture.client().pool_stats().idle, 1u);
}

}  // namespace
}  // namespace tunedhttp::testing
