// BlockingClient: its own io_context, run only inside its calls, without the reactor's
// per-socket locks (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO), so its requests take the lean path
// on a serial executor. These tests use it as a program would, one call after another.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tunedhttp/client.hpp>
#include <tunedhttp/error.hpp>
#include <tunedhttp/units.hpp>

#include "scripted_server.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;

// Answers every request on a connection until the client closes it; a request for /slow is
// answered only after `slow_by`.
ScriptedServer::Script answer_each(std::chrono::milliseconds slow_by = 0ms) {
  return [slow_by](Peer& peer) {
    for (;;) {
      const std::string head = peer.read_headers(Clock::now() + 5s);
      if (head.empty()) return;
      if (head.find("GET /slow ") == 0) {
        // Hold the answer past the client's limit; the client closes the connection.
        peer.wait_eof(Clock::now() + slow_by);
        return;
      }
      peer.write(ok_response("hello"));
    }
  };
}

Request get(const std::string& url) { return Request{http::verb::get, url, 11}; }

TEST(BlockingClient, OneConnectionServesEveryCallInTurn) {
  ScriptedServer server(answer_each());
  BlockingClient client;
  for (int i = 0; i < 5; ++i) {
    boost::system::error_code ec;
    const Response response = client.request(get(server.url()), ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "hello");
  }
  const PoolStats stats = client.client().pool_stats();
  EXPECT_EQ(stats.dials, 1u);
  EXPECT_EQ(stats.reuses, 4u);
  EXPECT_EQ(server.accepted(), 1);
}

// The lean path's timer (made when a limit is first armed) on BlockingClient's context: a call
// held past response_header fails with its error, and the next call dials again and succeeds.
TEST(BlockingClient, AHeldCallFailsOnItsLimitAndTheNextCallSucceeds) {
  ScriptedServer server(answer_each(3s));
  Settings settings;
  settings.response_header = 200ms;
  ClientOptions options;
  options.settings = settings;
  BlockingClient client(options);
  boost::system::error_code ec;
  (void)client.request(get(server.url()), ec);
  ASSERT_FALSE(ec) << ec.message();

  const auto started = Clock::now();
  (void)client.request(get(server.url("/slow")), ec);
  const auto waited = Clock::now() - started;
  EXPECT_EQ(ec, errc::response_header_timeout) << ec.message();
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 200ms + timing_tolerance());

  const Response response = client.request(get(server.url()), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(response.body(), "hello");
  EXPECT_EQ(client.client().pool_stats().dials, 2u);
}

// The calls that do not end on the lean path end in the caller's response too: a request with a
// body (the coroutines), a bad URL (failed before anything is sent), and a request on a fresh
// connection. Each is answered, or fails with its own error, and the client goes on.
TEST(BlockingClient, CallsOffTheLeanPathEndTooAndTheClientGoesOn) {
  ScriptedServer server([](Peer& peer) {
    for (;;) {
      const std::string head = peer.read_headers(Clock::now() + 5s);
      if (head.empty()) return;
      if (head.find("POST ") == 0) {
        peer.write(ok_response("got " + peer.read_exactly(4, Clock::now() + 5s)));
      } else {
        peer.write(ok_response("hello"));
      }
    }
  });
  BlockingClient client;
  boost::system::error_code ec;
  Request post{http::verb::post, server.url(), 11};
  post.body() = "ping";
  post.prepare_payload();
  Response response = client.request(std::move(post), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(response.body(), "got ping");

  response = client.request(get("http://exa mple.com/"), ec);
  EXPECT_EQ(ec, errc::invalid_url) << ec.message();
  EXPECT_TRUE(response.body().empty());  // nothing from the last call is left in it

  response = client.request(get(server.url()), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(response.body(), "hello");
  EXPECT_EQ(client.client().pool_stats().dials, 1u);  // the POST's connection, reused
}

}  // namespace
}  // namespace tunedhttp::testing
