// `tunedhttp request` through a proxy nobody here wrote: Debian's tinyproxy in front of Debian's
// nginx. http targets go in absolute form, https ones through a CONNECT tunnel; credentials come
// from the proxy URL; Go's environment rules keep loopback direct, curl's -x does not.
#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>

#include "program_test_support.hpp"

namespace tunedhttp::program::testing {
namespace {

// "Request (file descriptor N): GET http://... HTTP/1.1": tinyproxy relayed this request line.
bool relayed(const Tinyproxy& proxy, const std::string& request_line) {
  return proxy.log().find("): " + request_line) != std::string::npos;
}

// The request line an http target is sent with through a proxy.
std::string absolute_form(const Nginx& nginx) { return "GET " + nginx.url() + " HTTP/1.1"; }

// "CONNECT 127.0.0.1:PORT HTTP/1.1" for an https target.
std::string connect_line(const Nginx& nginx) {
  const std::string url = nginx.url();
  const auto authority = url.substr(url.find("://") + 3);
  return "CONNECT " + authority.substr(0, authority.size() - 1) + " HTTP/1.1";
}

TEST(RequestProxy, HttpGoesInAbsoluteFormThroughTheProxy) {
  START_NGINX(nginx);
  START_TINYPROXY(proxy);
  const auto run = run_request({nginx.url(), "-x", proxy.url(), "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  EXPECT_EQ(run.lines[0]["status"], 200) << run.lines[0].dump();
  EXPECT_EQ(run.lines[0]["bytes"], std::string("hello from nginx\n").size());
  EXPECT_FALSE(run.lines[0]["trace"].contains("proxy_connect_start")) << run.lines[0].dump();
  EXPECT_TRUE(relayed(proxy, absolute_form(nginx))) << proxy.log();
}

TEST(RequestProxy, HttpsGoesThroughAConnectTunnelUnderTls) {
  START_NGINX(nginx, NginxOptions{.tls = true});
  START_TINYPROXY(proxy);
  const auto run =
      run_request({nginx.url(), "-x", proxy.url(), "--cacert", nginx.certificate(), "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  const auto& line = run.lines[0];
  EXPECT_EQ(line["status"], 200) << line.dump();
  // The tunnel is asked for after TCP to the proxy, and TLS to nginx runs through it.
  EXPECT_LE(trace_ms(line, "dial_done"), trace_ms(line, "proxy_connect_start"));
  EXPECT_LE(trace_ms(line, "proxy_connect_start"), trace_ms(line, "proxy_connect_done"));
  EXPECT_LE(trace_ms(line, "proxy_connect_done"), trace_ms(line, "tls_handshake_start"));
  EXPECT_TRUE(relayed(proxy, connect_line(nginx))) << proxy.log();
}

TEST(RequestProxy, ATunnelIsPooledAndReused) {
  START_NGINX(nginx, NginxOptions{.tls = true});
  START_TINYPROXY(proxy);
  const auto run = run_request(
      {nginx.url(), "-x", proxy.url(), "--cacert", nginx.certificate(), "--count", "2", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 2u) << run.out;
  EXPECT_EQ(run.lines[0]["status"], 200) << run.lines[0].dump();
  EXPECT_EQ(run.lines[1]["status"], 200) << run.lines[1].dump();
  EXPECT_EQ(run.lines[0]["reused"], false);
  EXPECT_EQ(run.lines[1]["reused"], true) << "the tunnel was not reused: " << run.lines[1].dump();
  EXPECT_FALSE(run.lines[1]["trace"].contains("proxy_connect_start")) << run.lines[1].dump();
  // One CONNECT for both requests.
  const std::string log = proxy.log();
  const auto first = log.find(connect_line(nginx));
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(connect_line(nginx), first + 1), std::string::npos) << log;
}

TEST(RequestProxy, ReachesTunedhttpServeBothWays) {
  START_TINYPROXY(proxy);
  Serve plain(TUNEDHTTP_BINARY, {});
  Serve secure(TUNEDHTTP_BINARY, {"--tls"}, /*tls=*/true);
  ASSERT_FALSE(plain.url.empty());
  ASSERT_FALSE(secure.url.empty());
  const auto http = run_request({plain.url, "-x", proxy.url(), "--json"});
  ASSERT_EQ(http.lines.size(), 1u) << http.out << http.err;
  EXPECT_EQ(http.lines[0]["status"], 200) << http.lines[0].dump();
  EXPECT_TRUE(relayed(proxy, "GET " + plain.url + " HTTP/1.1")) << proxy.log();
  const auto https =
      run_request({secure.url, "-x", proxy.url(), "--cacert", secure.ca_path, "--json"});
  ASSERT_EQ(https.lines.size(), 1u) << https.out << https.err;
  EXPECT_EQ(https.lines[0]["status"], 200) << https.lines[0].dump();
  EXPECT_TRUE(https.lines[0]["trace"].contains("proxy_connect_done")) << https.lines[0].dump();
}

// The machine's own name and its IPv4 address: a name that is not `localhost` and not a loopback
// literal, so Go's rules send it through HTTPS_PROXY (and tinyproxy can resolve it).
std::pair<std::string, std::string> own_name_and_address() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* found = nullptr;
  if (::getaddrinfo(name, nullptr, &hints, &found) != 0 || found == nullptr) return {name, ""};
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr, text,
              sizeof text);
  ::freeaddrinfo(found);
  return {name, text};
}

TEST(RequestProxy, HttpsProxyFromTheEnvironmentCarriesANamedHost) {
  const auto [name, address] = own_name_and_address();
  ASSERT_FALSE(address.empty()) << "this machine's name " << name << " does not resolve";
  START_NGINX(nginx, NginxOptions{.tls = true, .also_named = name, .also_listen = address});
  START_TINYPROXY(proxy);
  std::string url = nginx.url();
  url.replace(url.find("127.0.0.1"), 9, name);
  const auto run = run_program({"/usr/bin/env", "HTTPS_PROXY=" + proxy.url(), TUNEDHTTP_BINARY,
                                "request", url, "--cacert", nginx.certificate(), "--json"},
                               20s, /*prepend_binary=*/false);
  ASSERT_EQ(run.lines.size(), 1u) << run.out << run.err;
  EXPECT_EQ(run.lines[0]["status"], 200) << run.lines[0].dump();
  EXPECT_TRUE(run.lines[0]["trace"].contains("proxy_connect_done")) << run.lines[0].dump();
  const auto port = url.substr(url.rfind(':') + 1, url.size() - url.rfind(':') - 2);
  EXPECT_TRUE(relayed(proxy, "CONNECT " + name + ":" + port + " HTTP/1.1")) << proxy.log();
}

TEST(RequestProxy, CredentialsComeFromTheProxyUrl) {
  START_NGINX(plain);
  START_NGINX(secure, NginxOptions{.tls = true});
  START_TINYPROXY(proxy, TinyproxyOptions{.user = "aws", .password = "p4ss"});
  // The userinfo is percent-decoded before it is sent: "p%34ss" is "p4ss".
  const std::string with_credentials = proxy.url("aws:p%34ss");
  const auto http = run_request({plain.url(), "-x", with_credentials, "--json"});
  ASSERT_EQ(http.lines.size(), 1u) << http.out << http.err;
  EXPECT_EQ(http.lines[0]["status"], 200) << http.lines[0].dump();
  const auto https = run_request(
      {secure.url(), "-x", with_credentials, "--cacert", secure.certificate(), "--json"});
  ASSERT_EQ(https.lines.size(), 1u) << https.out << https.err;
  EXPECT_EQ(https.lines[0]["status"], 200) << https.lines[0].dump();

  // Without them: the proxy's 407 is the http request's answer, and fails the https dial.
  const auto refused_http = run_request({plain.url(), "-x", proxy.url(), "--json"});
  ASSERT_EQ(refused_http.lines.size(), 1u) << refused_http.out << refused_http.err;
  EXPECT_EQ(refused_http.lines[0]["status"], 407) << refused_http.lines[0].dump();
  const auto refused_https =
      run_request({secure.url(), "-x", proxy.url(), "--cacert", secure.certificate(), "--json"});
  ASSERT_EQ(refused_https.lines.size(), 1u) << refused_https.out << refused_https.err;
  const auto& line = refused_https.lines[0];
  EXPECT_EQ(line["error"], "proxy_connect_failed") << line.dump();
  EXPECT_NE(line["message"].get<std::string>().find("407 Proxy Authentication Required"),
            std::string::npos)
      << line.dump();
  EXPECT_FALSE(line["trace"].contains("tls_handshake_start")) << line.dump();
}

TEST(RequestProxy, TheEnvironmentNeverProxiesLoopbackButDashXDoes) {
  START_NGINX(nginx);
  START_TINYPROXY(proxy);
  // Go's rule for HTTP_PROXY: loopback targets are reached directly.
  const auto from_environment = run_program({"/usr/bin/env", "HTTP_PROXY=" + proxy.url(),
                                             TUNEDHTTP_BINARY, "request", nginx.url(), "--json"},
                                            20s, /*prepend_binary=*/false);
  EXPECT_EQ(from_environment.exit_code, 0) << from_environment.err;
  EXPECT_FALSE(relayed(proxy, absolute_form(nginx))) << proxy.log();
  // --noproxy names hosts that skip even -x.
  const auto skipped =
      run_request({nginx.url(), "-x", proxy.url(), "--noproxy", "127.0.0.1", "--json"});
  EXPECT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_FALSE(relayed(proxy, absolute_form(nginx))) << proxy.log();
  const auto through = run_request({nginx.url(), "-x", proxy.url(), "--json"});
  EXPECT_EQ(through.exit_code, 0) << through.err;
  EXPECT_TRUE(relayed(proxy, absolute_form(nginx))) << proxy.log();
}

TEST(RequestProxy, AProxyWeCannotSpeakIsAUsageError) {
  for (const std::string bad : {"socks5://127.0.0.1:1080", "https://127.0.0.1:3128",
                                "http://127.0.0.1:99999", "http://u:%zz@127.0.0.1:1"}) {
    const auto run = run_request({"http://127.0.0.1:1/", "-x", bad});
    EXPECT_EQ(run.exit_code, 2) << bad << ": " << run.err;
    EXPECT_NE(run.err.find("--proxy: invalid proxy address"), std::string::npos)
        << bad << ": " << run.err;
  }
}

}  // namespace
}  // namespace tunedhttp::program::testing
