// `response_header` (Transport.ResponseHeaderTimeout): from wrote_request to the final
// response headers; the connection is closed, never pooled.
#include <future>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;

TEST(ResponseHeader, FiresWhenHeadersAreHeld) {
  std::promise<bool> client_closed;
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.read_exactly(1000, Clock::now() + 2s);
    client_closed.set_value(peer.wait_eof(Clock::now() + 3s));  // hold the headers
  });
  Settings settings;
  settings.response_header = 300ms;
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(
      make_request(http::verb::post, server.url("/invoke"), std::string(1000, 'x')));

  ASSERT_TRUE(outcome.completed) << "the request hung";
  EXPECT_EQ(outcome.error, errc::response_header_timeout) << outcome.error.message();
  EXPECT_EQ(outcome.error, boost::system::errc::timed_out);
  EXPECT_EQ(outcome.error.message(), "net/http: timeout awaiting response headers");
  const auto written = fixture.at(TracePoint::wrote_request);
  ASSERT_TRUE(written);
  expect_fired_on_time(*written, outcome.finished, settings.response_header);
  EXPECT_TRUE(client_closed.get_future().get()) << "the client kept the connection open";
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
}

TEST(ResponseHeader, SucceedsWhenHeadersComeInsideTheLimit) {
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.wait_readable(Clock::now() + 150ms);  // think for 150 ms (nothing more will come)
    peer.write(ok_response("result"));
  });
  Settings settings;
  settings.response_header = 300ms;
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(get(server.url()));

  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "result");
  const auto written = fixture.at(TracePoint::wrote_request);
  const auto headers = fixture.at(TracePoint::got_response_headers);
  ASSERT_TRUE(written && headers);
  EXPECT_GE(*headers - *written, 140ms);
  EXPECT_LT(*headers - *written, settings.response_header);
}

TEST(ResponseHeader, DoesNotCoverTheBody) {
  // Headers at once, the body after twice the limit: no timeout.
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
    peer.wait_readable(Clock::now() + 400ms);
    peer.write("body");
  });
  Settings settings;
  settings.response_header = 200ms;
  ClientFixture fixture(settings);
  const auto outcome = fixture.request(get(server.url()));
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "body");
}

TEST(ResponseHeader, InformationalResponsesDoNotStopTheTimer) {
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n");
    peer.wait_eof(Clock::now() + 3s);
  });
  Settings settings;
  settings.response_header = 300ms;
  ClientFixture fixture(settings);
  const auto outcome = fixture.request(get(server.url()));
  EXPECT_EQ(outcome.error, errc::response_header_timeout);
  const auto written = fixture.at(TracePoint::wrote_request);
  ASSERT_TRUE(written);
  expect_fired_on_time(*written, outcome.finished, settings.response_header);
  EXPECT_TRUE(fixture.at(TracePoint::got_1xx_response).has_value());
}

TEST(ResponseHeader, ZeroWaitsForever) {
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.wait_readable(Clock::now() + 500ms);
    peer.write(ok_response("late"));
  });
  ClientFixture fixture;  // response_header defaults to 0
  const auto outcome = fixture.request(get(server.url()));
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "late");
}

TEST(ResponseHeader, StartsAfterTheBodyWhenExpectingContinue) {
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.wait_readable(Clock::now() + 200ms);  // withhold 100 for the whole expect_continue
    peer.read_exactly(1000, Clock::now() + 2s);
    peer.wait_eof(Clock::now() + 3s);  // then hold the headers
  });
  Settings settings;
  settings.expect_continue = 200ms;
  settings.response_header = 300ms;
  ClientFixture fixture(settings);
  auto request = make_request(http::verb::put, server.url(), std::string(1000, 'x'));
  request.set(http::field::expect, "100-continue");
  const auto outcome = fixture.request(request);
  EXPECT_EQ(outcome.error, errc::response_header_timeout) << outcome.error.message();
  const auto written = fixture.at(TracePoint::wrote_request);
  ASSERT_TRUE(written);
  expect_fired_on_time(*written, outcome.finished, settings.response_header);
}

}  // namespace
}  // namespace tunedhttp::testing
