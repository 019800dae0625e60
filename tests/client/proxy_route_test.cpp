// How a request reaches its target through a proxy (proxy_route.hpp), without sockets: the
// proxy URL's parts, Go's connectMethodKey, the CONNECT request's exact bytes, the verdict on
// its answer, and which proxy ProxySelector picks from options and an environment.
#include "proxy_route.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tunedhttp/error.hpp>

namespace tunedhttp::detail {
namespace {

Url url(const std::string& text) {
  boost::system::error_code ec;
  Url parsed = parse_url(text, ec);
  EXPECT_FALSE(ec) << text;
  return parsed;
}

ProxyEndpoint proxy(const std::string& text) {
  std::string problem;
  auto parsed = parse_proxy(text, problem);
  EXPECT_TRUE(parsed) << text << ": " << problem;
  return parsed.value_or(ProxyEndpoint{});
}

TEST(ProxyRoute, ParsesAProxyUrlAndItsCredentials) {
  const auto plain = proxy("proxy.corp:3128");  // no scheme: http
  EXPECT_EQ(plain.address.host, "proxy.corp");
  EXPECT_EQ(plain.address.port, "3128");
  EXPECT_FALSE(plain.address.tls);
  EXPECT_TRUE(plain.authorization.empty());
  EXPECT_EQ(proxy("http://proxy.corp").address.port, "80");
  EXPECT_EQ(proxy("http://[::1]:8080/").address.host, "::1");

  // RFC 7617's example; the userinfo is percent-decoded first.
  const auto with_credentials = proxy("http://Aladdin:open%20sesame@proxy.corp:3128");
  EXPECT_EQ(with_credentials.user, "Aladdin");
  EXPECT_EQ(with_credentials.authorization, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(proxy("http://user@p:1").authorization, "Basic dXNlcjo=");  // "user:"
}

TEST(ProxyRoute, RefusesProxiesItCannotSpeak) {
  for (const std::string bad : {"https://p:3128", "socks5://p:1080", "http://p:99999",
                                "http://u:%zz@p:1", "http://:3128", "http://p:port"}) {
    std::string problem;
    EXPECT_FALSE(parse_proxy(bad, problem)) << bad;
    EXPECT_EQ(problem.rfind("invalid proxy address " + bad, 0), 0u) << problem;
  }
}

TEST(ProxyRoute, KeysConnectionsAsGoesConnectMethodKeyDoes) {
  const Route direct{url("https://example.com/a"), std::nullopt};
  EXPECT_EQ(direct.key(), "https://example.com:443");
  EXPECT_FALSE(direct.tunnel());
  EXPECT_FALSE(direct.absolute_form());
  EXPECT_EQ(direct.dial_address().host, "example.com");

  // Every http target shares the proxy's connections; each https target has its own tunnels.
  const Route http{url("http://example.com:8080/a"), proxy("http://user:pw@p:3128")};
  EXPECT_EQ(http.key(), "http://user@p:3128|http|");
  EXPECT_EQ(Route(url("http://other.example/"), proxy("http://user:pw@p:3128")).key(), http.key());
  EXPECT_TRUE(http.absolute_form());
  EXPECT_EQ(http.dial_address().host, "p");

  const Route https{url("https://[2001:db8::1]/a"), proxy("p:3128")};
  EXPECT_EQ(https.key(), "http://p:3128|https|[2001:db8::1]:443");
  EXPECT_TRUE(https.tunnel());
}

TEST(ProxyRoute, WritesAbsoluteFormAndConnectAsGoDoes) {
  EXPECT_EQ(absolute_target(url("http://example.com/a?b=c")), "http://example.com/a?b=c");
  EXPECT_EQ(absolute_target(url("http://example.com:8080")), "http://example.com:8080/");
  EXPECT_EQ(connect_request(Route{url("https://example.com/x"), proxy("p:3128")}),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
            "User-Agent: tunedhttp/0.1\r\n\r\n");
  EXPECT_EQ(connect_request(Route{url("https://[::1]:8443/"), proxy("http://a:b@p:3128")}),
            "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nUser-Agent: tunedhttp/0.1\r\n"
            "Proxy-Authorization: Basic YTpi\r\n\r\n");
}

TEST(ProxyRoute, OnlyA200OpensTheTunnel) {
  EXPECT_FALSE(tunnel_verdict(200));
  for (const unsigned status : {201u, 204u, 302u, 403u, 407u, 502u}) {
    const auto error = tunnel_verdict(status);
    EXPECT_EQ(error_name(error), "proxy_connect_failed") << status;
    EXPECT_EQ(error.value(), static_cast<int>(status));
  }
  EXPECT_NE(tunnel_verdict(407).message().find("407 Proxy Authentication Required"),
            std::string::npos)
      << tunnel_verdict(407).message();
}

// A ProxySelector reading `variables` instead of the process's environment.
ProxySelector selector(const ProxyOptions& options,
                       const std::map<std::string, std::string>& variables) {
  return ProxySelector(options, [&variables](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  });
}

std::string chosen(const ProxySelector& proxies, const std::string& target) {
  boost::system::error_code ec;
  const Route route = proxies.route_to(url(target), ec);
  if (ec) return error_name(ec);
  return route.proxy ? route.proxy->address.authority() : "direct";
}

TEST(ProxySelector, TheEnvironmentByGoesRules) {
  const std::map<std::string, std::string> environment{{"HTTP_PROXY", "http-proxy:1"},
                                                       {"https_proxy", "https-proxy:2"},
                                                       {"NO_PROXY", ".internal,10.0.0.0/8"}};
  const auto proxies = selector(ProxyOptions{}, environment);
  EXPECT_EQ(chosen(proxies, "http://example.com/"), "http-proxy:1");
  EXPECT_EQ(chosen(proxies, "https://example.com/"), "https-proxy:2");
  EXPECT_EQ(chosen(proxies, "https://db.internal/"), "direct");
  EXPECT_EQ(chosen(proxies, "http://10.1.2.3/"), "direct");
  // Never loopback, whatever NO_PROXY says.
  EXPECT_EQ(chosen(proxies, "http://localhost:8080/"), "direct");
  EXPECT_EQ(chosen(proxies, "http://127.0.0.1:8080/"), "direct");
  EXPECT_EQ(chosen(proxies, "https://[::1]/"), "direct");

  // A given no-proxy list replaces the environment's.
  ProxyOptions replaced;
  replaced.no_proxy = "example.com";
  const auto with_list = selector(replaced, environment);
  EXPECT_EQ(chosen(with_list, "https://example.com/"), "direct");
  EXPECT_EQ(chosen(with_list, "https://db.internal/"), "https-proxy:2");
}

TEST(ProxySelector, TheEnvironmentsBadValues) {
  // Go ignores a value that is not a URL, refuses HTTP_PROXY in a CGI program, and would use
  // an https or socks5 proxy, which this client cannot: the request fails instead.
  EXPECT_EQ(chosen(selector({}, {{"HTTP_PROXY", "http://p:notaport"}}), "http://example.com/"),
            "direct");
  EXPECT_EQ(chosen(selector({}, {{"HTTP_PROXY", "p:1"}, {"REQUEST_METHOD", "GET"}}),
                   "http://example.com/"),
            "invalid_proxy");
  EXPECT_EQ(chosen(selector({}, {{"HTTP_PROXY", "p:1"}, {"REQUEST_METHOD", "GET"}}),
                   "https://example.com/"),
            "direct");
  EXPECT_EQ(chosen(selector({}, {{"HTTPS_PROXY", "socks5://p:1080"}}), "https://example.com/"),
            "invalid_proxy");
}

TEST(ProxySelector, OneUrlCarriesLoopbackToo) {
  ProxyOptions options;
  options.source = ProxyOptions::Source::url;
  options.url = "http://p:3128";
  options.no_proxy = "skip.example";
  const auto proxies = selector(options, {{"HTTP_PROXY", "ignored:1"}});
  EXPECT_TRUE(proxies.problem().empty());
  EXPECT_EQ(chosen(proxies, "http://127.0.0.1:8080/"), "p:3128");
  EXPECT_EQ(chosen(proxies, "https://example.com/"), "p:3128");
  EXPECT_EQ(chosen(proxies, "https://skip.example/"), "direct");

  options.url = "socks5://p:1080";
  const auto unusable = selector(options, {});
  EXPECT_NE(unusable.problem().find("socks5"), std::string::npos) << unusable.problem();
  EXPECT_EQ(chosen(unusable, "http://example.com/"), "invalid_proxy");
}

TEST(ProxySelector, NoneIgnoresTheEnvironment) {
  ProxyOptions options;
  options.source = ProxyOptions::Source::none;
  EXPECT_EQ(chosen(selector(options, {{"HTTPS_PROXY", "p:1"}}), "https://example.com/"), "direct");
}

TEST(Destination, ResolvesDirectAndProxiedTargets) {
  boost::system::error_code ec;
  const auto direct = resolve("http://Example.com:8080/a?b#frag", selector({}, {}), ec);
  ASSERT_TRUE(direct) << ec.message();
  EXPECT_FALSE(direct->route.proxy);
  EXPECT_FALSE(direct->route_error);
  EXPECT_EQ(direct->key, "http://Example.com:8080");
  EXPECT_EQ(direct->wire_target, "/a?b");
  EXPECT_EQ(direct->host, "Example.com:8080");

  const auto tls_default_port = resolve("https://[::1]/", selector({}, {}), ec);
  ASSERT_TRUE(tls_default_port) << ec.message();
  EXPECT_EQ(tls_default_port->key, "https://[::1]:443");
  EXPECT_EQ(tls_default_port->host, "[::1]");

  ProxyOptions options;
  options.source = ProxyOptions::Source::url;
  options.url = "http://u:p@proxy:3128";
  const auto proxied = resolve("http://example.com/x", selector(options, {}), ec);
  ASSERT_TRUE(proxied) << ec.message();
  ASSERT_TRUE(proxied->route.proxy);
  EXPECT_EQ(proxied->wire_target, "http://example.com/x") << "absolute form to a proxy";
  EXPECT_EQ(proxied->key, proxied->route.key());
  const auto tunnelled = resolve("https://example.com/x", selector(options, {}), ec);
  ASSERT_TRUE(tunnelled) << ec.message();
  EXPECT_EQ(tunnelled->wire_target, "/x") << "origin form inside a tunnel";
}

TEST(Destination, KeepsTheRouteErrorAndRefusesABadUrl) {
  boost::system::error_code ec;
  const auto cgi = resolve("http://example.com/",
                           selector({}, {{"HTTP_PROXY", "p:1"}, {"REQUEST_METHOD", "GET"}}), ec);
  ASSERT_TRUE(cgi);
  EXPECT_EQ(cgi->route_error, errc::invalid_proxy);
  EXPECT_FALSE(resolve("ftp://example.com/", selector({}, {}), ec));
  EXPECT_EQ(ec, errc::unsupported_scheme);
  EXPECT_FALSE(resolve("http://exa mple.com/", selector({}, {}), ec));
  EXPECT_EQ(ec, errc::invalid_url);
}

}  // namespace
}  // namespace tunedhttp::detail
