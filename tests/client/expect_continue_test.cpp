// `expect_continue` (Transport.ExpectContinueTimeout): from wait_100_continue until
// `100 Continue`; on expiry the body is sent anyway, with no error.
#include <future>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;

Request put_with_expect(const std::string& url, std::string body = std::string(64 * 1024, 'b')) {
  auto request = make_request(http::verb::put, url, std::move(body));
  request.set(http::field::expect, "100-continue");
  return request;
}

TEST(ExpectContinue, SendsTheBodyAnywayWhenNo100Comes) {
  std::promise<Clock::time_point> body_arrived;
  ScriptedServer server([&](Peer& peer) {
    const auto headers = peer.read_headers(Clock::now() + 2s);
    const auto first_byte = peer.wait_readable(Clock::now() + 2s);  // we never send 100
    body_arrived.set_value(first_byte.value_or(Clock::time_point{}));
    peer.read_exactly(64 * 1024, Clock::now() + 2s);
    peer.write(ok_response("stored"));
  });
  Settings settings;
  settings.expect_continue = 300ms;
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(put_with_expect(server.url()));

  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "stored");
  const auto waiting = fixture.at(TracePoint::wait_100_continue);
  ASSERT_TRUE(waiting);
  expect_fired_on_time(*waiting, body_arrived.get_future().get(), settings.expect_continue);
  EXPECT_FALSE(fixture.at(TracePoint::got_100_continue).has_value());
}

TEST(ExpectContinue, SendsTheBodyAsSoonAs100Arrives) {
  std::promise<Clock::time_point> body_arrived;
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 100 Continue\r\n\r\n");
    body_arrived.set_value(peer.wait_readable(Clock::now() + 2s).value_or(Clock::time_point{}));
    peer.read_exactly(64 * 1024, Clock::now() + 2s);
    peer.write(ok_response("stored"));
  });
  Settings settings;
  settings.expect_continue = 300ms;
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(put_with_expect(server.url()));

  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "stored");
  const auto waiting = fixture.at(TracePoint::wait_100_continue);
  const auto got_100 = fixture.at(TracePoint::got_100_continue);
  ASSERT_TRUE(waiting && got_100);
  EXPECT_LT(body_arrived.get_future().get() - *waiting, settings.expect_continue);
  // The connection stays in sync and goes back to the pool.
  EXPECT_EQ(fixture.client().pool_stats().idle, 1u);
}

TEST(ExpectContinue, FinalStatusInsteadOf100MeansNoBodyAndNoReuse) {
  std::promise<std::string> after_response;
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
    // The client must neither send the body nor keep the connection: we see EOF, no bytes.
    std::string received;
    while (auto readable = peer.wait_readable(Clock::now() + 2s)) {
      auto chunk = peer.read_exactly(1, Clock::now() + 100ms);
      if (chunk.empty()) break;
      received += chunk;
    }
    after_response.set_value(received);
  });
  Settings settings;
  settings.expect_continue = 1s;
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(put_with_expect(server.url()));

  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.result_int(), 417u);
  EXPECT_FALSE(fixture.at(TracePoint::wrote_request).has_value()) << "the body was sent";
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
  EXPECT_EQ(fixture.client().pool_stats().closes_by_reason[CloseReason::not_reusable], 1u);
  auto received = after_response.get_future();
  ASSERT_EQ(received.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(received.get(), "");
}

TEST(ExpectContinue, ZeroSendsTheBodyAtOnce) {
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.read_exactly(64 * 1024, Clock::now() + 2s);
    peer.write(ok_response("stored"));
  });
  Settings settings;
  settings.expect_continue = 0s;
  ClientFixture fixture(settings);

  const auto started = Clock::now();
  const auto outcome = fixture.request(put_with_expect(server.url()));

  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_FALSE(fixture.at(TracePoint::wait_100_continue).has_value());
  EXPECT_LT(outcome.finished - started, 1s);
}

TEST(ExpectContinue, RequestWithoutBodyDoesNotWait) {
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write(ok_response());
  });
  Settings settings;
  settings.expect_continue = 5s;
  ClientFixture fixture(settings);
  auto request = get(server.url());
  request.set(http::field::expect, "100-continue");
  const auto outcome = fixture.request(request);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_FALSE(fixture.at(TracePoint::wait_100_continue).has_value());
}

}  // namespace
}  // namespace tunedhttp::testing
