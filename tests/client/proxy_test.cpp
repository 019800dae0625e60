// The client through a proxy, the proxy scripted: the bytes it is sent (absolute form, CONNECT,
// credentials), connections shared per proxy, and `proxy_connect` (Go's fixed 1-minute bound on
// the answer to CONNECT), which fires never early and promptly, and is never retried.
#include <mutex>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;

// What a scripted proxy read, shared with its connection threads.
struct Seen {
  std::mutex mutex;
  std::vector<std::string> heads;  ///< each request's head, in order
  void add(std::string head) {
    std::lock_guard lock(mutex);
    heads.push_back(std::move(head));
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex);
    return heads;
  }
};

ClientOptions through(const ScriptedServer& proxy, const std::string& userinfo = "") {
  ClientOptions options;
  options.proxy.source = ProxyOptions::Source::url;
  options.proxy.url = "http://" + (userinfo.empty() ? "" : userinfo + "@") +
                      "127.0.0.1:" + std::to_string(proxy.port());
  return options;
}

TEST(Proxy, HttpRequestsGoInAbsoluteFormOnTheProxysConnections) {
  Seen seen;
  ScriptedServer proxy([&seen](Peer& peer) {
    for (int i = 0; i < 2; ++i) {
      auto head = peer.read_headers(Clock::now() + 5s);
      if (head.empty()) return;
      seen.add(std::move(head));
      peer.write(ok_response("relayed"));
    }
  });
  ClientFixture fixture(through(proxy, "aws:s3cr%3At"));

  // Two origins, one connection: Go keys every http target through a proxy alike.
  const auto first = fixture.request(get("http://origin-a.test:8080/one?x=1"));
  const auto second = fixture.request(get("http://origin-b.test/two"));
  ASSERT_FALSE(first.error) << first.error.message();
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "relayed");
  EXPECT_EQ(proxy.accepted(), 1);
  const auto heads = seen.all();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0].rfind("GET http://origin-a.test:8080/one?x=1 HTTP/1.1\r\n", 0), 0u)
      << heads[0];
  EXPECT_NE(heads[0].find("Host: origin-a.test:8080\r\n"), std::string::npos) << heads[0];
  // "aws:s3cr:t", percent-decoded, in base64.
  EXPECT_NE(heads[0].find("Proxy-Authorization: Basic YXdzOnMzY3I6dA==\r\n"), std::string::npos)
      << heads[0];
  EXPECT_EQ(heads[1].rfind("GET http://origin-b.test/two HTTP/1.1\r\n", 0), 0u) << heads[1];
  EXPECT_TRUE(fixture.events(TracePoint::proxy_connect_start).empty());
}

TEST(ProxyConnect, FiresWhenTheProxyNeverAnswersConnect) {
  Seen seen;
  ScriptedServer proxy([&seen](Peer& peer) {
    seen.add(peer.read_headers(Clock::now() + 5s));
    peer.wait_eof(Clock::now() + 5s);
  });
  auto options = through(proxy);
  options.settings.proxy_connect = 300ms;
  ClientFixture fixture(options);

  const auto outcome = fixture.request(get("https://origin.test/"));

  ASSERT_TRUE(outcome.completed) << "the request hung";
  EXPECT_EQ(outcome.error, errc::proxy_connect_timeout) << outcome.error.message();
  EXPECT_EQ(outcome.error, boost::system::errc::timed_out);
  EXPECT_EQ(error_name(outcome.error), "proxy_connect_timeout");
  const auto start = fixture.at(TracePoint::proxy_connect_start);
  ASSERT_TRUE(start);
  EXPECT_LE(*fixture.at(TracePoint::dial_done), *start);
  expect_fired_on_time(*start, outcome.finished, options.settings.proxy_connect);
  // Never retried, and no TLS was tried.
  EXPECT_EQ(proxy.accepted(), 1);
  EXPECT_FALSE(fixture.at(TracePoint::tls_handshake_start));
  const auto heads = seen.all();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0],
            "CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n"
            "User-Agent: tunedhttp/0.1\r\n\r\n");
}

TEST(ProxyConnect, AnAnswerWithinTheLimitEndsTheTimer) {
  ScriptedServer proxy([](Peer& peer) {
    peer.read_headers(Clock::now() + 5s);
    std::this_thread::sleep_for(100ms);  // the proxy's own pace: what the limit must allow
    peer.write("HTTP/1.1 200 Connection established\r\n\r\n");
    peer.close();  // no TLS server behind it: the handshake that follows fails
  });
  auto options = through(proxy);
  options.settings.proxy_connect = 1s;
  ClientFixture fixture(options);

  const auto outcome = fixture.request(get("https://origin.test/"));

  ASSERT_TRUE(outcome.completed) << "the request hung";
  EXPECT_NE(outcome.error, errc::proxy_connect_timeout);
  const auto done = fixture.events(TracePoint::proxy_connect_done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].error) << done[0].error.message();
  EXPECT_EQ(done[0].detail, "200");
  EXPECT_TRUE(fixture.at(TracePoint::tls_handshake_start));
  EXPECT_GE(done[0].at - *fixture.at(TracePoint::proxy_connect_start), 100ms);
}

TEST(ProxyConnect, ARefusalNamesTheStatusAndIsNotRetried) {
  ScriptedServer proxy([](Peer& peer) {
    peer.read_headers(Clock::now() + 5s);
    peer.write(
        "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
        "realm=\"corp\"\r\nContent-Length: 5\r\n\r\ndenied");
  });
  ClientFixture fixture(through(proxy));

  const auto outcome = fixture.request(get("https://origin.test/"));

  ASSERT_TRUE(outcome.completed) << "the request hung";
  EXPECT_EQ(error_name(outcome.error), "proxy_connect_failed") << outcome.error.message();
  EXPECT_EQ(outcome.error, proxy_connect_failed(407));
  EXPECT_NE(outcome.error.message().find("407 Proxy Authentication Required"), std::string::npos);
  EXPECT_EQ(proxy.accepted(), 1);
  EXPECT_FALSE(fixture.at(TracePoint::tls_handshake_start));
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
  EXPECT_EQ(fixture.client().pool_stats().dials, 0u);
}

TEST(Proxy, AnUnusableProxyFailsTheRequestWithoutADial) {
  ClientOptions options;
  options.proxy.source = ProxyOptions::Source::url;
  options.proxy.url = "socks5://127.0.0.1:1080";
  EXPECT_NE(proxy_problem(options.proxy).find("socks5"), std::string::npos);
  ClientFixture fixture(options);
  const auto outcome = fixture.request(get("http://origin.test/"));
  EXPECT_EQ(outcome.error, errc::invalid_proxy) << outcome.error.message();
  EXPECT_FALSE(fixture.at(TracePoint::dial_start));
}

}  // namespace
}  // namespace tunedhttp::testing
