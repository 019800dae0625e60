// Go's own tables for proxy selection (golang.org/x/net/http/httpproxy/proxy_test.go), run
// without sockets: proxyForURL's through the client's ProxySelector (the environment given as
// data), useProxy's against NoProxyList.
#include "proxy_rules.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tunedhttp/error.hpp>

#include "proxy_route.hpp"

namespace tunedhttp::detail {
namespace {

struct ProxyForRow {
  const char* http_proxy;
  const char* https_proxy;
  const char* no_proxy;
  bool cgi;
  const char* scheme;  ///< the request URL, split as Go's url.Parse and canonicalAddr split it
  const char* host;
  const char* port;
  const char* want;  ///< "" for no proxy
  const char* error;
};

// proxyForURLTests, in Go's order. Left out: the two rows that need IDNA (a punycode NO_PROXY
// entry against a Unicode host, and the reverse; host names are compared as written), and the
// ftp:// request (the client has no ftp URLs: parse_url refuses them).
const ProxyForRow proxy_for_rows[] = {
    {"127.0.0.1:8080", "", "", false, "http", "example.com", "80", "http://127.0.0.1:8080", ""},
    {"cache.corp.example.com:1234", "", "", false, "http", "example.com", "80",
     "http://cache.corp.example.com:1234", ""},
    {"cache.corp.example.com", "", "", false, "http", "example.com", "80",
     "http://cache.corp.example.com", ""},
    {"localhost", "", "", false, "http", "example.com", "80", "http://localhost", ""},
    {"https://cache.corp.example.com", "", "", false, "http", "example.com", "80",
     "https://cache.corp.example.com", ""},
    {"http://127.0.0.1:8080", "", "", false, "http", "example.com", "80", "http://127.0.0.1:8080",
     ""},
    {"https://127.0.0.1:8080", "", "", false, "http", "example.com", "80", "https://127.0.0.1:8080",
     ""},
    {"socks5://127.0.0.1", "", "", false, "http", "example.com", "80", "socks5://127.0.0.1", ""},
    {"foo://host", "", "", false, "http", "example.com", "80", "foo://host", ""},
    {"http.proxy.tld", "secure.proxy.tld", "", false, "http", "insecure.tld", "80",
     "http://http.proxy.tld", ""},
    {"http.proxy.tld", "secure.proxy.tld", "", false, "https", "secure.tld", "443",
     "http://secure.proxy.tld", ""},
    {"http.proxy.tld", "https://secure.proxy.tld", "", false, "https", "secure.tld", "443",
     "https://secure.proxy.tld", ""},
    {"http.proxy.tld", "", "", false, "https", "secure.tld", "443", "", ""},
    {"http://10.1.2.3:8080", "", "", true, "http", "example.com", "80", "",
     "refusing to use HTTP_PROXY value in CGI environment; see golang.org/s/cgihttpproxy"},
    {"", "https://secure.proxy.tld", "", true, "https", "secure.tld", "443",
     "https://secure.proxy.tld", ""},
    {"", "", "", false, "http", "example.com", "80", "", ""},
    {"proxy", "", "example.com", false, "http", "example.com", "80", "", ""},
    {"proxy", "", ".example.com", false, "http", "example.com", "80", "http://proxy", ""},
    {"proxy", "", "ample.com", false, "http", "example.com", "80", "http://proxy", ""},
    {"proxy", "", "example.com", false, "http", "foo.example.com", "80", "", ""},
    {"proxy", "", ".foo.com", false, "http", "example.com", "80", "http://proxy", ""},
    {"proxy", "", ".示例.com", false, "http", "www.示例.com", "80", "", ""},
    {"proxy", "", "example.com", false, "http", "1000::%.example.com", "123", "http://proxy", ""},
};

// Go's answer is a proxy URL. Ours is a route: through an http proxy at that address, or
// invalid_proxy for a proxy Go would use and we cannot (https, socks5, an unknown scheme), and
// for Go's refusal of HTTP_PROXY in a CGI program.
TEST(ProxyRules, GoProxyForURLTable) {
  for (const auto& row : proxy_for_rows) {
    const std::map<std::string, std::string> variables{{"HTTP_PROXY", row.http_proxy},
                                                       {"HTTPS_PROXY", row.https_proxy},
                                                       {"NO_PROXY", row.no_proxy},
                                                       {"REQUEST_METHOD", row.cgi ? "GET" : ""}};
    const ProxySelector selector(ProxyOptions{}, [&](const char* name) -> const char* {
      const auto found = variables.find(name);
      return found == variables.end() ? nullptr : found->second.c_str();
    });
    const Url target{std::string_view(row.scheme) == "https", row.host, row.port, "/"};
    boost::system::error_code ec;
    const Route route = selector.route_to(target, ec);
    const std::string want = row.want;
    const std::string context = std::string(row.scheme) + "://" + row.host +
                                " http_proxy=" + row.http_proxy +
                                " https_proxy=" + row.https_proxy + " no_proxy=" + row.no_proxy;
    if (*row.error != '\0' || (!want.empty() && !want.starts_with("http://"))) {
      EXPECT_EQ(ec, make_error_code(errc::invalid_proxy)) << context;
      EXPECT_FALSE(route.proxy) << context;
    } else if (want.empty()) {
      EXPECT_FALSE(ec) << context << ": " << ec.message();
      EXPECT_FALSE(route.proxy) << context;
    } else {
      EXPECT_FALSE(ec) << context << ": " << ec.message();
      ASSERT_TRUE(route.proxy) << context;
      std::string authority = want.substr(std::string_view("http://").size());
      if (authority.find(':') == std::string::npos) authority += ":80";
      EXPECT_EQ(route.proxy->address.authority(), authority) << context;
    }
  }
}

// UseProxyTests against Go's noProxy list; hosts are given to useProxy as "host:80".
constexpr const char* go_no_proxy =
    "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, "
    "10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, "
    "2002:db8:a::45/64";

struct UseProxyRow {
  const char* host;
  bool use_proxy;
};

const UseProxyRow use_proxy_rows[] = {
    {"localhost", false},
    {"127.0.0.1", false},
    {"127.0.0.2", false},
    {"::1", false},
    {"::2", true},                        // not a loopback address
    {"192.168.1.1", false},               // matches exact IPv4
    {"192.168.1.2", true},                // ports do not match
    {"192.168.1.3", false},               // matches exact IPv4:port
    {"192.168.1.4", true},                // no match
    {"10.0.0.2", false},                  // matches IPv4/CIDR
    {"2001:db8::52:0:1", false},          // matches exact IPv6
    {"2001:db8::52:0:2", true},           // no match (port 443 only)
    {"2001:db8::52:0:3", false},          // matches exact [IPv6]:port
    {"2002:db8:a::123", false},           // matches IPv6/CIDR
    {"fe80::424b:c8be:1643:a1b6", true},  // no match
    {"barbaz.net", true},                 // does not match as .barbaz.net
    {"www.barbaz.net", false},            // does match as .barbaz.net
    {"foobar.com", false},                // does match as foobar.com
    {"www.foobar.com", false},            // match because NO_PROXY includes "foobar.com"
    {"foofoobar.com", true},              // not match as a part of foobar.com
    {"baz.com", true},                    // not match as a part of barbaz.com
    {"localhost.net", true},              // not match as suffix of address
    {"local.localhost", true},            // not match as prefix as address
    {"barbarbaz.net", true},              // not match, wrong domain
    {"wildcard.io", true},                // does not match as *.wildcard.io
    {"nested.wildcard.io", false},        // match as *.wildcard.io
    {"awildcard.io", true},               // not a match because of '*'
};

TEST(ProxyRules, GoUseProxyTable) {
  const NoProxyList list(go_no_proxy);
  for (const auto& row : use_proxy_rows) {
    EXPECT_EQ(list.use_proxy(row.host, "80"), row.use_proxy) << row.host;
  }
}

TEST(ProxyRules, GoAllNoProxy) {
  const NoProxyList list("*");
  for (const auto& row : use_proxy_rows) EXPECT_FALSE(list.use_proxy(row.host, "80")) << row.host;
}

TEST(ProxyRules, GoInvalidNoProxyIsIgnored) {
  EXPECT_TRUE(NoProxyList(":1").use_proxy("example.com", "80"));
}

TEST(ProxyRules, CaseAndSpacesInNoProxy) {
  const NoProxyList list("  Example.COM ,,");
  EXPECT_FALSE(list.use_proxy("EXAMPLE.com", "80"));
  EXPECT_TRUE(list.use_proxy("example.org", "80"));
}

// TestFromEnvironment, TestFromEnvironmentWithRequestMethod, TestFromEnvironmentLowerCase.
ProxyEnvironment from(const std::map<std::string, std::string>& variables) {
  return proxy_environment([&](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  });
}

TEST(ProxyRules, GoFromEnvironment) {
  auto upper = from({{"HTTP_PROXY", "httpproxy"},
                     {"HTTPS_PROXY", "httpsproxy"},
                     {"NO_PROXY", "noproxy"},
                     {"REQUEST_METHOD", ""}});
  EXPECT_EQ(upper.http_proxy, "httpproxy");
  EXPECT_EQ(upper.https_proxy, "httpsproxy");
  EXPECT_EQ(upper.no_proxy, "noproxy");
  EXPECT_FALSE(upper.cgi);
  EXPECT_TRUE(from({{"REQUEST_METHOD", "PUT"}}).cgi);
  auto lower = from({{"http_proxy", "a"}, {"https_proxy", "b"}, {"no_proxy", "c"}});
  EXPECT_EQ(lower.http_proxy, "a");
  EXPECT_EQ(lower.https_proxy, "b");
  EXPECT_EQ(lower.no_proxy, "c");
  // The uppercase name wins when both are set; an empty one does not count.
  EXPECT_EQ(from({{"HTTP_PROXY", "upper"}, {"http_proxy", "lower"}}).http_proxy, "upper");
  EXPECT_EQ(from({{"HTTP_PROXY", ""}, {"http_proxy", "lower"}}).http_proxy, "lower");
}

}  // namespace
}  // namespace tunedhttp::detail
