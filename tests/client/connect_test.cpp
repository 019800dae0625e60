// `connect` (Dialer.Timeout): from dial_start, name resolution plus every connect attempt.
#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;

TEST(Connect, FiresWhenTheHandshakeNeverCompletes) {
  StalledListener stalled;
  Settings settings;
  settings.connect = 300ms;
  ClientFixture fixture(settings);

  const auto outcome =
      fixture.request(get("http://127.0.0.1:" + std::to_string(stalled.port()) + "/"));

  ASSERT_TRUE(outcome.completed) << "the request hung";
  EXPECT_EQ(outcome.error, errc::connect_timeout) << "got " << outcome.error.message();
  EXPECT_EQ(outcome.error, boost::system::errc::timed_out);
  const auto start = fixture.at(TracePoint::dial_start);
  ASSERT_TRUE(start);
  expect_fired_on_time(*start, outcome.finished, settings.connect);
  EXPECT_EQ(fixture.client().pool_stats().dials, 0u);
}

TEST(Connect, SucceedsWhenTheServerAcceptsInTime) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write(ok_response("hello"));
  });
  Settings settings;
  settings.connect = 300ms;
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(get(server.url()));

  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "hello");
  const auto start = fixture.at(TracePoint::dial_start);
  const auto done = fixture.at(TracePoint::dial_done);
  ASSERT_TRUE(start && done);
  EXPECT_LT(*done - *start, settings.connect);
}

TEST(Connect, ZeroMeansNoLimit) {
  // With no limit the stalled connect is still pending when we stop looking.
  StalledListener stalled;
  Settings settings;
  settings.connect = 0s;
  ClientFixture fixture(settings);
  bool finished = false;
  fixture.client().async_request(get("http://127.0.0.1:" + std::to_string(stalled.port()) + "/"),
                                 [&](boost::system::error_code, Response) { finished = true; });
  EXPECT_FALSE(fixture.run_until([&] { return finished; }, 500ms));
  EXPECT_TRUE(fixture.at(TracePoint::connect_start).has_value());
  EXPECT_FALSE(fixture.at(TracePoint::dial_done).has_value());
}

}  // namespace
}  // namespace tunedhttp::testing
