// Go: TestTransportSocketLateBinding, TestTransportReadToEndReusesConn,
// TestTransportReuseConnEmptyResponseBody, TestTransportNoReuseAfterEarlyResponse,
// TestTransportKeepAlives, TestTransportConnectionCloseOnResponse,
// TestTransportConnectionCloseOnRequest.
#include <algorithm>
#include <fstream>
#include <future>
#include <thread>

#include "conformance_support.hpp"

namespace tunedhttp::conformance {
namespace {

using mockserver::EventKind;

// Go: /foo is in flight on connection 1 when /bar starts and has to dial; the dial is held.
// When /foo's body is read, its connection goes back and /bar takes it at once (late binding):
// both come from the same connection. The held dial later becomes an idle spare.
TEST(GoTransport, TestTransportSocketLateBinding) {
  auto options = held_second_dial("1s", "/foo", "100ms");
  options.routes["/bar"].body = "bar";
  MockServer server(std::move(options));
  ClientFixture fixture(Settings{}, trusting(server));

  Outcome foo;
  Outcome bar;
  start_request(fixture, get(server.url("/foo")), foo);
  ASSERT_TRUE(fixture.run_until(
      [&] { return fixture.at(TracePoint::got_response_headers, 1).has_value(); }, 2s));
  start_request(fixture, get(server.url("/bar")), bar);
  ASSERT_TRUE(fixture.run_until([&] { return bar.completed; }, 3s));
  ASSERT_TRUE(foo.completed);
  ASSERT_FALSE(foo.error) << foo.error.message();
  ASSERT_FALSE(bar.error) << bar.error.message();
  EXPECT_EQ(bar.response.body(), "bar");
  const auto foo_conn = got_conn(fixture, 1);
  const auto bar_conn = got_conn(fixture, 2);
  ASSERT_TRUE(foo_conn && bar_conn);
  EXPECT_EQ(bar_conn->connection, foo_conn->connection)
      << "/foo came from one connection; /bar from another instead";
  EXPECT_TRUE(bar_conn->reused);
  EXPECT_LT(bar.finished - *fixture.at(TracePoint::get_conn, 2), 1s)
      << "/bar waited for its own dial";
  // The held dial completes later and is kept as an idle spare.
  ASSERT_TRUE(fixture.run_until([&] { return fixture.client().pool_stats().idle == 2; }, 3s));
  EXPECT_EQ(fixture.client().pool_stats().dials, 2u);
}

// Go: a response read to the end (Content-Length or chunked) leaves the connection reusable;
// every request of the test comes over the one connection.
TEST(GoTransport, TestTransportReadToEndReusesConn) {
  mockserver::ServerOptions options;
  options.routes["/content-length/"].body = "0123456789";
  options.routes["/chunked/"].body = "0123456789";
  options.routes["/chunked/"].chunked = true;
  MockServer server(std::move(options));
  ClientFixture fixture;

  for (const std::string path : {"/content-length/", "/chunked/"}) {
    for (int i = 0; i < 3; ++i) {
      SCOPED_TRACE(path + " #" + std::to_string(i));
      const auto outcome = fixture.request(get(server.url(path)));
      ASSERT_FALSE(outcome.error) << outcome.error.message();
      EXPECT_EQ(outcome.response.body(), "0123456789");
    }
  }
  const auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.dials, 1u) << "a response read to the end did not leave its connection reusable";
  EXPECT_EQ(stats.reuses, 5u);
  EXPECT_EQ(server.count(EventKind::accepted), 1u);
}

// Go: responses with an empty body (Content-Length: 0) are complete at once; the connection is
// reused for every request.
TEST(GoTransport, TestTransportReuseConnEmptyResponseBody) {
  mockserver::ServerOptions options;
  options.default_route.body = "";
  options.default_route.headers["X-Status"] = "ok";
  MockServer server(std::move(options));
  ClientFixture fixture;

  for (std::uint64_t i = 1; i <= 3; ++i) {
    const auto outcome = fixture.request(get(server.url("/")));
    ASSERT_FALSE(outcome.error) << outcome.error.message();
    EXPECT_EQ(outcome.response.body(), "");
    EXPECT_EQ(outcome.response["X-Status"], "ok");
    EXPECT_EQ(got_conn(fixture, i)->connection, 1u) << "request " << i << " used another conn";
  }
  EXPECT_EQ(fixture.client().pool_stats().dials, 1u);
}

// Go: the server answers a POST before reading its (large) body, then treats the connection
// as dead (Go's handler hijacks it and discards everything). A response that arrived before the
// request was fully written must not let the connection be reused: the next GET needs a new
// connection.
//
// Our client writes a request with a body while it already reads the response (as Go does), so
// it sees the response come before the body was written and does not pool that connection.
// Regression test for the bug this port found.
// The most a TCP socket's buffer can grow to (the third field of net.ipv4.tcp_rmem or
// tcp_wmem), or `fallback` when it cannot be read.
std::size_t socket_buffer_max(const char* path, std::size_t fallback) {
  std::ifstream file(path);
  std::size_t low = 0, initial = 0, max = 0;
  if (file >> low >> initial >> max) return max;
  return fallback;
}

TEST(GoTransport, TestTransportNoReuseAfterEarlyResponse) {
  // More than the kernel can buffer between the two sockets, whatever the machine's limits
  // (one raised tcp_rmem to 32 MiB): the body cannot all be written before the answer comes.
  const std::size_t body_size = std::max<std::size_t>(
      4 * 1024 * 1024, socket_buffer_max("/proc/sys/net/ipv4/tcp_rmem", 6 << 20) +
                           socket_buffer_max("/proc/sys/net/ipv4/tcp_wmem", 4 << 20) + (1 << 20));
  std::atomic<int> accepted{0};
  ScriptedServer server([&](Peer& peer) {
    ++accepted;
    const auto headers = peer.read_headers(Clock::now() + 3s);
    if (headers.empty()) return;
    if (headers.rfind("GET", 0) == 0) {  // a GET on a fresh connection
      peer.write(ok_response("bar"));
      peer.wait_eof(Clock::now() + 3s);
      return;
    }
    peer.write(ok_response("foo"));  // keep-alive, before reading the body
    // A server that does not read the body yet (the client's write is stuck meanwhile).
    std::this_thread::sleep_for(300ms);
    peer.wait_eof(Clock::now() + 5s);  // then discard everything, answer nothing
  });
  Settings settings;
  settings.response_header = 300ms;  // bounds the GET that is never answered
  ClientFixture fixture(settings);

  const auto post =
      fixture.request(make_request(http::verb::post, server.url(), std::string(body_size, 'x')));
  ASSERT_FALSE(post.error) << post.error.message();
  EXPECT_EQ(post.response.body(), "foo");
  const auto outcome = fixture.request(get(server.url()));
  ASSERT_TRUE(outcome.completed);

  // Go: the GET uses a new connection and gets "bar".
  ASSERT_TRUE(got_conn(fixture, 2));
  EXPECT_FALSE(got_conn(fixture, 2)->reused) << "the early-answered connection was reused";
  EXPECT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "bar");
  EXPECT_EQ(fixture.client().pool_stats().closes_by_reason[CloseReason::not_reusable], 1u);
}

// Go: with keep-alives, three requests share one connection; with DisableKeepAlives each
// request has its own. We have no DisableKeepAlives setting (not one of the eight); what it does
// on the wire — `Connection: close` on every request — is what we check for the second half.
TEST(GoTransport, TestTransportKeepAlives) {
  for (const bool disable_keep_alives : {false, true}) {
    SCOPED_TRACE(disable_keep_alives ? "keep-alives disabled" : "keep-alives");
    MockServer server({});
    ClientFixture fixture;
    for (std::uint64_t i = 1; i <= 3; ++i) {
      auto request = get(server.url("/"));
      if (disable_keep_alives) request.keep_alive(false);
      const auto outcome = fixture.request(request);
      ASSERT_FALSE(outcome.error) << outcome.error.message();
    }
    const auto stats = fixture.client().pool_stats();
    EXPECT_EQ(stats.dials, disable_keep_alives ? 3u : 1u);
    EXPECT_EQ(stats.idle, disable_keep_alives ? 0u : 1u);
    EXPECT_EQ(server.count(EventKind::accepted), disable_keep_alives ? 3u : 1u);
  }
}

// Go: a response with `Connection: close` is not reused: two fetches come from two different
// connections; without it, from the same one.
TEST(GoTransport, TestTransportConnectionCloseOnResponse) {
  for (const bool connection_close : {false, true}) {
    SCOPED_TRACE(connection_close ? "Connection: close" : "keep-alive");
    mockserver::ServerOptions options;
    options.default_route.close = connection_close;
    MockServer server(std::move(options));
    ClientFixture fixture;
    for (int i = 0; i < 2; ++i) {
      const auto outcome = fixture.request(get(server.url("/")));
      ASSERT_FALSE(outcome.error) << outcome.error.message();
      EXPECT_EQ(outcome.response.keep_alive(), !connection_close);
    }
    const bool bodies_differ = got_conn(fixture, 1)->connection != got_conn(fixture, 2)->connection;
    EXPECT_EQ(bodies_differ, connection_close);
    EXPECT_EQ(closes(fixture.client().pool_stats(), CloseReason::not_reusable),
              connection_close ? 2u : 0u);
  }
}

// Go: a request with Close = true sends `Connection: close` and its connection is not reused.
TEST(GoTransport, TestTransportConnectionCloseOnRequest) {
  for (const bool connection_close : {false, true}) {
    SCOPED_TRACE(connection_close ? "request Connection: close" : "keep-alive");
    std::promise<std::string> first_headers;
    std::atomic<int> accepted{0};
    ScriptedServer server([&](Peer& peer) {
      const int number = ++accepted;
      for (bool first = true;; first = false) {
        const auto headers = peer.read_headers(Clock::now() + 3s);
        if (headers.empty()) return;
        if (number == 1 && first) first_headers.set_value(headers);
        const bool close = headers.find("Connection: close") != std::string::npos;
        peer.write(
            ok_response("conn" + std::to_string(number), close ? "Connection: close\r\n" : ""));
        if (close) return;
      }
    });
    ClientFixture fixture;
    for (int i = 0; i < 2; ++i) {
      auto request = get(server.url());
      request.keep_alive(!connection_close);
      const auto outcome = fixture.request(request);
      ASSERT_FALSE(outcome.error) << outcome.error.message();
    }
    EXPECT_EQ(first_headers.get_future().get().find("Connection: close") != std::string::npos,
              connection_close);
    const bool differ = got_conn(fixture, 1)->connection != got_conn(fixture, 2)->connection;
    EXPECT_EQ(differ, connection_close);
    EXPECT_EQ(server.accepted(), connection_close ? 2 : 1);
  }
}

}  // namespace
}  // namespace tunedhttp::conformance
