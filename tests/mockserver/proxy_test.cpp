// The mock server as a forward proxy (ServerOptions::proxy), driven by curl (`-x`, `-p`) and by
// raw sockets: forwarding, tunnels (plain and TLS), and each proxy fault seen from the client.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>

#include "curl_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

ServerOptions proxy_options(const std::vector<std::string>& specs = {}) {
  ServerOptions options;
  options.proxy = true;
  for (const auto& spec : specs) options.faults.push_back(parse_fault_spec(spec));
  return options;
}

std::string proxy_url(ServerThread& proxy) {
  return "http://127.0.0.1:" + std::to_string(proxy.server().port());
}

std::string authority(ServerThread& server) {
  return "127.0.0.1:" + std::to_string(server.server().port());
}

/// A CA's PEM in a file for curl's --cacert, removed at the end.
class PemFile {
 public:
  explicit PemFile(const std::string& pem) {
    static std::atomic<int> counter{0};
    path_ = ::testing::TempDir() + "proxy-test-ca-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++) + ".pem";
    std::ofstream{path_} << pem;
  }
  ~PemFile() { std::remove(path_.c_str()); }
  PemFile(const PemFile&) = delete;
  PemFile& operator=(const PemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// A raw client that has sent `CONNECT target` to the proxy; the proxy's answer is read next.
void send_connect(RawClient& client, const std::string& target) {
  client.write("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
}

TEST(Proxy, ForwardsAbsoluteFormRequestsOverOneUpstreamConnectionPerTarget) {
  SKIP_WITHOUT_CURL();
  ServerOptions origin_options;
  origin_options.routes["/hello"] = Route{201, "from the origin\n", 0, {{"X-Origin", "yes"}}};
  ServerThread origin{std::move(origin_options)};
  ServerThread proxy{proxy_options()};
  const std::string url = "http://" + authority(origin) + "/hello?x=1";
  auto result = curl({"--max-time", "5", "-x", proxy_url(proxy), url, url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 201);  // the origin's route, not the proxy's own default 200

  const auto forwarded = events_of(proxy.events(), EventKind::proxy_forward);
  ASSERT_EQ(forwarded.size(), 2u);
  EXPECT_EQ(forwarded[0].detail, url);
  // The origin saw origin-form requests, both on one connection from the proxy.
  ASSERT_TRUE(origin.events().wait_until(
      [](const Event& e) { return e.kind == EventKind::response_done && e.request == 2; },
      Clock::now() + 2s));
  const auto read = events_of(origin.events(), EventKind::request_headers_read);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].detail, "GET /hello?x=1");
  EXPECT_EQ(origin.server().stats().connections, 1u);
  EXPECT_EQ(proxy.server().stats().connections, 1u);
}

TEST(Proxy, TunnelsConnectAndNamesItsTarget) {
  SKIP_WITHOUT_CURL();
  ServerThread origin{ServerOptions{}};
  ServerThread proxy{proxy_options()};
  auto result = curl({"--max-time", "5", "-p", "-x", proxy_url(proxy),
                      "http://" + authority(origin) + "/through"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.connect_status, 200);
  const auto connects = events_of(proxy.events(), EventKind::proxy_connect);
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_EQ(connects[0].detail, authority(origin));
  EXPECT_TRUE(proxy.events().wait_until(
      [](const Event& e) {
        return e.kind == EventKind::response_headers_sent && e.detail == "200 tunnel";
      },
      Clock::now() + 2s));
  // The request went through the tunnel unchanged, in origin form.
  EXPECT_TRUE(origin.events().wait_until(
      [](const Event& e) {
        return e.kind == EventKind::request_headers_read && e.detail == "GET /through";
      },
      Clock::now() + 2s));
}

TEST(Proxy, TunnelsTlsToAnHttpsOrigin) {
  SKIP_WITHOUT_CURL();
  ServerOptions origin_options;
  origin_options.tls = true;
  ServerThread origin{std::move(origin_options)};
  PemFile ca{origin.server().ca_pem()};
  ServerThread proxy{proxy_options()};
  auto result = curl({"--max-time", "5", "--cacert", ca.path(), "-x", proxy_url(proxy),
                      "https://" + authority(origin) + "/"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.connect_status, 200);
  EXPECT_EQ(events_of(proxy.events(), EventKind::proxy_connect).size(), 1u);
  EXPECT_TRUE(origin.wait_for(EventKind::tls_done, 1));
}

TEST(Proxy, OriginFormRequestsAreAnsweredByTheRoutes) {
  ServerOptions options = proxy_options();
  options.routes["/own"] = Route{202, "mine\n", 0, {}};
  ServerThread proxy{std::move(options)};
  RawClient client;
  ASSERT_TRUE(client.connect(proxy.endpoint()));
  client.send_request("GET", "/own");
  auto head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(head);
  EXPECT_EQ(status_of(head->text), 202) << head->text;
  EXPECT_TRUE(events_of(proxy.events(), EventKind::proxy_forward).empty());
}

TEST(Proxy, ForwardsToItselfSoOneServerIsProxyAndOrigin) {
  SKIP_WITHOUT_CURL();
  ServerOptions options = proxy_options();
  options.routes["/own"] = Route{202, "mine\n", 0, {}};
  ServerThread proxy{std::move(options)};
  auto result = curl({"--max-time", "5", "-x", proxy_url(proxy), proxy_url(proxy) + "/own"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 202);
  EXPECT_EQ(events_of(proxy.events(), EventKind::proxy_forward).size(), 1u);
  // Connection 1 is the client's, connection 2 the proxy's own to itself as the origin.
  EXPECT_EQ(proxy.server().stats().connections, 2u);
  EXPECT_EQ(proxy.server().stats().requests, 2u);
}

TEST(Proxy, UnreachableTargetsGet502AndBadTargets400) {
  ServerThread proxy{proxy_options()};
  {
    // A port nobody listens on: bound and closed again.
    asio::io_context io;
    tcp::acceptor probe{io, {asio::ip::make_address("127.0.0.1"), 0}};
    const auto closed_port = probe.local_endpoint().port();
    probe.close();
    RawClient client;
    ASSERT_TRUE(client.connect(proxy.endpoint()));
    send_connect(client, "127.0.0.1:" + std::to_string(closed_port));
    auto head = client.read_head(Clock::now() + 2s);
    ASSERT_TRUE(head);
    EXPECT_EQ(status_of(head->text), 502) << head->text;
  }
  {
    RawClient client;
    ASSERT_TRUE(client.connect(proxy.endpoint()));
    send_connect(client, "no-port-here");
    auto head = client.read_head(Clock::now() + 2s);
    ASSERT_TRUE(head);
    EXPECT_EQ(status_of(head->text), 400) << head->text;
  }
}

TEST(ProxyFaults, StallConnectNeverAnswers) {
  SKIP_WITHOUT_CURL();
  ServerThread origin{ServerOptions{}};
  ServerThread proxy{proxy_options({"stall-connect"})};
  auto result = curl(
      {"--max-time", "0.5", "-p", "-x", proxy_url(proxy), "http://" + authority(origin) + "/"});
  expect_curl_timed_out(result, 500ms, "curl -p --max-time 0.5 through stall-connect");
  EXPECT_EQ(result.connect_status, 0);
  EXPECT_EQ(events_of(proxy.events(), EventKind::proxy_connect).size(), 1u);
  EXPECT_TRUE(events_of(proxy.events(), EventKind::response_headers_sent).empty());
  EXPECT_EQ(origin.server().stats().connections, 0u);
}

TEST(ProxyFaults, DelayConnectAnswersAfterTheDelay) {
  ServerThread origin{ServerOptions{}};
  ServerThread proxy{proxy_options({"delay-connect=300ms"})};
  RawClient client;
  ASSERT_TRUE(client.connect(proxy.endpoint()));
  const auto sent = client.write("CONNECT " + authority(origin) + " HTTP/1.1\r\n\r\n");
  auto head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(head);
  EXPECT_EQ(status_of(head->text), 200) << head->text;
  expect_elapsed(head->at - sent, 300ms, "CONNECT answered");
}

TEST(ProxyFaults, RejectConnectAnswersTheStatusAnd407AsksForCredentials) {
  ServerThread origin{ServerOptions{}};
  for (const unsigned status : {407u, 403u, 502u}) {
    ServerThread proxy{proxy_options({"reject-connect=" + std::to_string(status)})};
    RawClient client;
    ASSERT_TRUE(client.connect(proxy.endpoint()));
    send_connect(client, authority(origin));
    auto head = client.read_head(Clock::now() + 2s);
    ASSERT_TRUE(head);
    EXPECT_EQ(status_of(head->text), static_cast<int>(status)) << head->text;
    const bool challenge =
        head->text.find("Proxy-Authenticate: Basic realm=\"tunedhttp\"\r\n") != std::string::npos;
    EXPECT_EQ(challenge, status == 407) << head->text;
    EXPECT_NE(head->text.find("Connection: close"), std::string::npos) << head->text;
    EXPECT_TRUE(proxy.wait_for(EventKind::closed_by_server, 1));
  }
  EXPECT_EQ(origin.server().stats().connections, 0u);
}

TEST(ProxyFaults, RejectConnectIsWhatCurlReports) {
  SKIP_WITHOUT_CURL();
  ServerThread origin{ServerOptions{}};
  ServerThread proxy{proxy_options({"reject-connect=407"})};
  auto result =
      curl({"--max-time", "5", "-p", "-x", proxy_url(proxy), "http://" + authority(origin) + "/"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(result.connect_status, 407) << result.err;
}

TEST(ProxyFaults, CloseTunnelIdleClosesAnIdleTunnel) {
  ServerThread origin{ServerOptions{}};
  ServerThread proxy{proxy_options({"close-tunnel-idle=300ms"})};
  RawClient client;
  ASSERT_TRUE(client.connect(proxy.endpoint()));
  send_connect(client, authority(origin));
  auto head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(head);
  ASSERT_EQ(status_of(head->text), 200) << head->text;
  // A request through the tunnel: bytes both ways keep it open past the first 300 ms.
  client.send_request("GET", "/");
  auto answer = client.read_until("ok\n", Clock::now() + 2s);
  ASSERT_TRUE(answer);
  const auto last_byte = answer->at;
  auto closed = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(closed) << "the tunnel stayed open";
  // The proxy's idle time starts at the last byte it relayed, just before the client read it.
  expect_elapsed(closed->at - last_byte + 2ms, 300ms, "tunnel closed when idle");
  auto event = proxy.wait_for(EventKind::closed_by_server, 1);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->detail, "close_tunnel_idle");
}

TEST(ProxyFaults, WithholdContinueSwallowsTheOrigins100) {
  ServerThread origin{ServerOptions{}};  // sends 100 Continue
  for (const bool withheld : {false, true}) {
    ServerThread proxy{withheld ? proxy_options({"withhold-continue"}) : proxy_options()};
    RawClient client;
    ASSERT_TRUE(client.connect(proxy.endpoint()));
    client.write("POST http://" + authority(origin) + "/upload HTTP/1.1\r\nHost: " +
                 authority(origin) + "\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    auto interim = client.read_head(Clock::now() + 300ms);
    if (withheld) {
      EXPECT_FALSE(interim) << "the proxy relayed: " << interim->text;
    } else {
      ASSERT_TRUE(interim);
      EXPECT_EQ(status_of(interim->text), 100) << interim->text;
    }
    client.write("hello");
    auto head = client.read_head(Clock::now() + 2s);
    ASSERT_TRUE(head);
    EXPECT_EQ(status_of(head->text), 200) << head->text;
    const auto sent = events_of(proxy.events(), EventKind::continue_sent);
    EXPECT_EQ(sent.size(), withheld ? 0u : 1u);
  }
  // The origin sent its 100 each time.
  EXPECT_EQ(events_of(origin.events(), EventKind::continue_sent).size(), 2u);
}

TEST(ProxyFaults, WithholdContinueMakesCurlWaitItsExpect100Timeout) {
  SKIP_WITHOUT_CURL();
  ServerThread origin{ServerOptions{}};  // sends 100 Continue
  ServerThread proxy{proxy_options({"withhold-continue"})};
  auto result = curl({"--max-time", "5", "-x", proxy_url(proxy), "--expect100-timeout", "0.3", "-H",
                      "Expect: 100-continue", "--data-binary", "hello",
                      "http://" + authority(origin) + "/upload"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  // curl sent the body only when its 0.3 s wait ended: the origin's 100 never reached it.
  expect_elapsed(seconds(result.first_byte - result.connect) + curl_granularity, 300ms,
                 "curl's expect100 wait through the proxy");
  EXPECT_EQ(events_of(origin.events(), EventKind::continue_sent).size(), 1u);
}

TEST(ProxyFaults, HoldHeadersHoldsTheForwardedAnswer) {
  SKIP_WITHOUT_CURL();
  ServerThread origin{ServerOptions{}};
  ServerThread proxy{proxy_options({"hold-headers=300ms"})};
  auto result =
      curl({"--max-time", "5", "-x", proxy_url(proxy), "http://" + authority(origin) + "/"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  expect_elapsed(seconds(result.first_byte - result.connect), 300ms, "forwarded answer held");
}

TEST(ProxyFaults, StallAcceptStallsTheProxysAccept) {
  SKIP_WITHOUT_CURL();
  ServerThread origin{ServerOptions{}};
  ServerThread proxy{proxy_options({"stall-accept"})};
  auto result = curl(
      {"--connect-timeout", "0.5", "-x", proxy_url(proxy), "http://" + authority(origin) + "/"});
  expect_curl_timed_out(result, 500ms, "curl --connect-timeout 0.5 to a stalled proxy");
}

TEST(ProxyFaults, NeedAProxyServer) {
  for (const std::string spec :
       {"stall-connect", "delay-connect=1s", "reject-connect=407", "close-tunnel-idle=1s"}) {
    asio::io_context io;
    ServerOptions options;
    options.faults.push_back(parse_fault_spec(spec));
    try {
      Server server{io.get_executor(), options};
      ADD_FAILURE() << spec << ": accepted by a server that is not a proxy";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("needs a proxy server"), std::string::npos) << e.what();
    }
    options.proxy = true;
    EXPECT_NO_THROW((Server{io.get_executor(), options})) << spec;
  }
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
