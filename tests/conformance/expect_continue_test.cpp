// Go: the transport100ContinueTest family, TestTransportReading100Continue,
// TestTransportIgnore1xxResponses, TestTransportEventTrace.
//
// Our documented choice for a final status that arrives before `100 Continue`: the body is not
// sent and the connection is closed, never reused (RFC 9110 §10.1.1 lets a client that got a
// final status stop sending; Go before 1.23 did not send the body either). Go 1.23+ sends the
// body anyway unless either side said `Connection: close`; the NoConnClose tests below assert our
// behaviour and docs/conformance.md marks them "differs on purpose".
#include <future>

#include "conformance_support.hpp"

namespace tunedhttp::conformance {
namespace {

const std::string continue_test_body = "request body";  // Go's transport100ContinueTestBody

// Go's newTransport100ContinueTest: a PUT with `Expect: 100-continue` and a small body.
Request continue_request(const std::string& url) {
  auto request = make_request(http::verb::put, url, continue_test_body);
  request.set(http::field::expect, "100-continue");
  return request;
}

// What the server saw after its response: the bytes the client sent, and whether it then closed.
struct AfterResponse {
  std::string bytes;
  bool closed = false;
};

// Reads whatever the client sends until it closes or `deadline`.
AfterResponse drain(Peer& peer, Clock::time_point deadline) {
  AfterResponse after;
  while (peer.wait_readable(deadline)) {
    auto chunk = peer.read_exactly(1, deadline);
    if (chunk.empty()) {
      after.closed = true;
      break;
    }
    after.bytes += chunk;
  }
  return after;
}

// The server half of Go's transport100ContinueTest: `respond` is the list of steps the server
// takes after reading the request headers; afterwards it reports what else the client sent.
struct ContinueServer {
  std::promise<std::string> request_headers;
  std::promise<AfterResponse> after;
  std::unique_ptr<ScriptedServer> server;
};

// Go's cleanup: after the round trip, CloseIdleConnections, then the server must have read
// nothing more than expected (and sees the connection closed).
AfterResponse finish(ClientFixture& fixture, ContinueServer& test) {
  fixture.client().close_idle_connections();
  auto after = test.after.get_future();
  fixture.run_until([&] { return after.wait_for(0s) == std::future_status::ready; }, 3s);
  EXPECT_EQ(after.wait_for(0s), std::future_status::ready);
  return after.get();
}

// Go: the server sends `100 Continue`, the client sends the body, then `HTTP/1.1 200`.
TEST(GoTransport, TestTransportExpect100ContinueSent) {
  ContinueServer test;
  std::promise<bool> body_before_100;
  std::promise<std::string> body;
  test.server = std::make_unique<ScriptedServer>([&](Peer& peer) {
    test.request_headers.set_value(peer.read_headers(Clock::now() + 2s));
    body_before_100.set_value(peer.wait_readable(Clock::now() + 100ms).has_value());
    peer.write("HTTP/1.1 100 Continue\r\n\r\n");
    body.set_value(peer.read_exactly(continue_test_body.size(), Clock::now() + 2s));
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    test.after.set_value(drain(peer, Clock::now() + 3s));
  });
  Settings settings;
  settings.expect_continue = std::chrono::hours{1};
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(continue_request(test.server->url()));

  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.result_int(), 200u);
  EXPECT_NE(test.request_headers.get_future().get().find("Expect: 100-continue"),
            std::string::npos);
  EXPECT_FALSE(body_before_100.get_future().get()) << "the body came before 100 Continue";
  EXPECT_EQ(body.get_future().get(), continue_test_body);
  EXPECT_TRUE(fixture.at(TracePoint::got_100_continue));
  EXPECT_EQ(fixture.client().pool_stats().idle, 1u) << "in sync, so pooled";
  const auto after = finish(fixture, test);
  EXPECT_EQ(after.bytes, "") << "the client sent unexpected bytes";
  EXPECT_TRUE(after.closed);
}

// A final status before `100 Continue`, without `Connection: close`. Go 1.23+: the body is sent
// and the connection stays usable. Ours (Go < 1.23, RFC 9110 §10.1.1): no body, connection closed.
void final_status_before_continue(unsigned status) {
  ContinueServer test;
  test.server = std::make_unique<ScriptedServer>([&](Peer& peer) {
    test.request_headers.set_value(peer.read_headers(Clock::now() + 2s));
    peer.write("HTTP/1.1 " + std::to_string(status) + " Status\r\nContent-Length: 0\r\n\r\n");
    test.after.set_value(drain(peer, Clock::now() + 3s));
  });
  Settings settings;
  settings.expect_continue = std::chrono::hours{1};
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(continue_request(test.server->url()));

  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.result_int(), status);
  EXPECT_FALSE(fixture.at(TracePoint::wrote_request)) << "the body was sent";
  const auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.idle, 0u) << "kept a connection whose request body was never sent";
  EXPECT_EQ(closes(stats, CloseReason::not_reusable), 1u);
  const auto after = finish(fixture, test);
  EXPECT_EQ(after.bytes, "") << "Go 1.23+ sends the body here; we do not (on purpose)";
  EXPECT_TRUE(after.closed);
}

TEST(GoTransport, TestTransportExpect100Continue200ResponseNoConnClose) {
  final_status_before_continue(200);
}

TEST(GoTransport, TestTransportExpect100Continue500ResponseNoConnClose) {
  final_status_before_continue(500);
}

// Go: a final status with `Connection: close` before `100 Continue`: no body, request done.
TEST(GoTransport, TestTransportExpect100Continue200ResponseWithConnClose) {
  ContinueServer test;
  test.server = std::make_unique<ScriptedServer>([&](Peer& peer) {
    test.request_headers.set_value(peer.read_headers(Clock::now() + 2s));
    peer.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    test.after.set_value(drain(peer, Clock::now() + 3s));
  });
  Settings settings;
  settings.expect_continue = std::chrono::hours{1};
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(continue_request(test.server->url()));

  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.result_int(), 200u);
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
  const auto after = finish(fixture, test);
  EXPECT_EQ(after.bytes, "") << "the client sent unexpected bytes";
  EXPECT_TRUE(after.closed);
}

// Go: ExpectContinueTimeout expires (no 100 ever comes): the body is sent anyway, then the
// response is read. Go uses 5 ms; we use 200 ms and check both sides of the timer.
TEST(GoTransport, TestTransportExpect100Continue500ResponseTimeout) {
  ContinueServer test;
  std::promise<Clock::time_point> body_arrived;
  std::promise<std::string> body;
  test.server = std::make_unique<ScriptedServer>([&](Peer& peer) {
    test.request_headers.set_value(peer.read_headers(Clock::now() + 2s));
    body_arrived.set_value(peer.wait_readable(Clock::now() + 2s).value_or(Clock::time_point{}));
    body.set_value(peer.read_exactly(continue_test_body.size(), Clock::now() + 2s));
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    test.after.set_value(drain(peer, Clock::now() + 3s));
  });
  Settings settings;
  settings.expect_continue = 200ms;
  ClientFixture fixture(settings);

  const auto outcome = fixture.request(continue_request(test.server->url()));

  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.result_int(), 200u);
  EXPECT_EQ(body.get_future().get(), continue_test_body);
  const auto waiting = fixture.at(TracePoint::wait_100_continue);
  ASSERT_TRUE(waiting);
  expect_fired_on_time(*waiting, body_arrived.get_future().get(), settings.expect_continue);
  const auto after = finish(fixture, test);
  EXPECT_EQ(after.bytes, "");
}

// Go: five POSTs on one connection; the server reads each whole request, then answers
// `100 Continue` (with a Date header) followed by the final 200, which echoes a request id.
// The 100s are skipped, every response matches its request, and the connection is reused.
// Go's second half (a `123` status) is checked the same way: 1xx responses are skipped.
TEST(GoTransport, TestTransportReading100Continue) {
  constexpr int requests = 5;
  auto body_of = [](int n) { return "request body " + std::to_string(n); };
  auto id_of = [](int n) { return "REQ-ID-" + std::to_string(n); };
  std::atomic<int> body_mismatches{0};
  ScriptedServer server([&](Peer& peer) {
    for (int n = 1;; ++n) {
      const auto headers = peer.read_headers(Clock::now() + 3s);
      if (headers.empty()) return;
      const auto body = peer.read_exactly(body_of(n).size(), Clock::now() + 2s);
      if (body != body_of(n)) ++body_mismatches;
      std::string id;
      if (const auto at = headers.find("Request-Id: "); at != std::string::npos) {
        id = headers.substr(at + 12, headers.find("\r\n", at) - at - 12);
      }
      const std::string informational =
          headers.find("X-Want-Response-Code: 123") != std::string::npos ? "123 Sesame Street"
                                                                         : "100 Continue";
      const std::string response_body = "Response number " + std::to_string(n);
      peer.write("HTTP/1.1 " + informational +
                 "\r\nDate: Thu, 28 Feb 2013 17:55:41 GMT\r\n\r\n"
                 "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nEcho-Request-Id: " +
                 id + "\r\nContent-Length: " + std::to_string(response_body.size()) + "\r\n\r\n" +
                 response_body);
    }
  });
  ClientFixture fixture;

  for (int i = 1; i <= 2 * requests; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    auto request = make_request(http::verb::post, server.url(), body_of(i));
    request.set("Request-Id", id_of(i));
    if (i > requests) request.set("X-Want-Response-Code", "123 Sesame Street");
    const auto outcome = fixture.request(request);
    ASSERT_TRUE(outcome.completed);
    ASSERT_FALSE(outcome.error) << outcome.error.message();
    EXPECT_EQ(outcome.response.result_int(), 200u);
    EXPECT_EQ(outcome.response["Echo-Request-Id"], id_of(i));
    EXPECT_EQ(outcome.response.body(), "Response number " + std::to_string(i));
  }
  EXPECT_EQ(body_mismatches.load(), 0);
  EXPECT_EQ(server.accepted(), 1) << "the 1xx responses broke connection reuse";
  EXPECT_EQ(fixture.events(TracePoint::got_100_continue).size(), std::size_t{requests});
  EXPECT_EQ(fixture.events(TracePoint::got_1xx_response).size(), std::size_t{requests});
}

// Go: `HTTP/1.1 123 OneTwoThree` with a header, then the final 200: the 1xx is reported to the
// trace (Got1xxResponse) and ignored; the final response has only its own headers.
TEST(GoTransport, TestTransportIgnore1xxResponses) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write(
        "HTTP/1.1 123 OneTwoThree\r\nFoo: bar\r\n\r\n"
        "HTTP/1.1 200 OK\r\nBar: baz\r\nContent-Length: 5\r\n\r\nHello");
    peer.wait_eof(Clock::now() + 3s);
  });
  ClientFixture fixture;

  const auto outcome = fixture.request(get(server.url()));

  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.result_int(), 200u);
  EXPECT_EQ(outcome.response["Bar"], "baz");
  EXPECT_EQ(outcome.response.count("Foo"), 0u) << "a 1xx header leaked into the response";
  EXPECT_EQ(outcome.response.body(), "Hello");
  const auto informational = fixture.events(TracePoint::got_1xx_response);
  ASSERT_EQ(informational.size(), 1u);
  EXPECT_EQ(informational[0].detail, "123");
}

// Go: every httptrace hook fires once, in order, for a request with `Expect: 100-continue` to
// a host name (so DNS runs) answered with 100 and then 200.
TEST(GoTransport, TestTransportEventTrace) {
  MockServer server({});
  Settings settings;
  settings.expect_continue = std::chrono::seconds{5};
  ClientFixture fixture(settings);
  const auto url = "http://localhost:" + std::to_string(server.server().port()) + "/";
  auto request = make_request(http::verb::post, url, "some body");
  request.set(http::field::expect, "100-continue");

  const auto outcome = fixture.request(request);

  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.result_int(), 200u);
  const std::vector<TracePoint> order = {
      // dial_start (our `connect` timer) covers name resolution, so it comes before dns_start;
      // the first response byte is the first byte of the `100 Continue`, as in Go.
      TracePoint::get_conn,
      TracePoint::dial_start,
      TracePoint::dns_start,
      TracePoint::dns_done,
      TracePoint::connect_start,
      TracePoint::connect_done,
      TracePoint::dial_done,
      TracePoint::got_conn,
      TracePoint::wrote_headers,
      TracePoint::wait_100_continue,
      TracePoint::got_first_response_byte,
      TracePoint::got_100_continue,
      TracePoint::wrote_request,
      TracePoint::got_response_headers,
      TracePoint::response_done,
      TracePoint::put_idle_conn};
  const auto events = fixture.events();
  std::size_t position = 0;
  for (const auto point : order) {
    SCOPED_TRACE(std::string(trace_point_name(point)));
    std::size_t found = events.size();
    std::size_t seen = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (events[i].point != point) continue;
      if (found == events.size()) found = i;
      ++seen;
    }
    ASSERT_LT(found, events.size()) << "never fired";
    EXPECT_GE(found, position) << "out of order";
    position = found;
    // Go: each fires once, except connect attempts (once or more: localhost may be ::1 first).
    if (point != TracePoint::connect_start && point != TracePoint::connect_done) {
      EXPECT_EQ(seen, 1u);
    }
    if (!events[found].error) continue;
    if (point != TracePoint::connect_done) ADD_FAILURE() << events[found].error.message();
  }
  const auto got = fixture.events(TracePoint::got_conn);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].reused);
  EXPECT_EQ(got[0].idle_time, std::chrono::nanoseconds{0});
  EXPECT_TRUE(fixture.events(TracePoint::put_idle_conn)[0].detail.empty());
  EXPECT_TRUE(fixture.events(TracePoint::got_1xx_response).empty()) << "100 is not a generic 1xx";
}

// Go's transport100ContinueTest writes `HTTP/1.1 200` — a status line without the space and
// reason phrase that RFC 9112 §4 requires — and Go accepts it. Our client (Beast's parser)
// rejects it as malformed_response; the tests above therefore send `HTTP/1.1 200 OK`. This test
// documents the difference (see docs/conformance.md).
TEST(GoTransportDifferences, StatusLineWithoutReasonPhraseIsMalformed) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
    peer.wait_eof(Clock::now() + 3s);
  });
  ClientFixture fixture;
  const auto outcome = fixture.request(get(server.url()));
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::malformed_response)
      << "now accepted, as Go does: update docs/conformance.md and this test";
}

}  // namespace
}  // namespace tunedhttp::conformance
