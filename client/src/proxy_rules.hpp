#pragma once
// Which proxy a request goes through, by Go's rules (golang.org/x/net/http/httpproxy, which
// net/http's ProxyFromEnvironment uses): HTTP_PROXY, HTTPS_PROXY and NO_PROXY, their
// lowercase forms, the CGI guard, and NO_PROXY's domains, `.suffix`, `*.`, IPs, CIDRs and
// ports. Pure functions over strings. Go's proxyForURL (the choice per request) is
// ProxySelector::route_to (proxy_route.hpp); tests/client/proxy_rules_test.cpp runs Go's own
// tables through it.
// Not yet Go's: internationalised host names are compared as written (no IDNA/punycode step).

#include <array>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tunedhttp::detail {

/// Go's httpproxy.Config: the raw values.
struct ProxyEnvironment {
  std::string http_proxy;   ///< HTTP_PROXY, else http_proxy
  std::string https_proxy;  ///< HTTPS_PROXY, else https_proxy
  std::string no_proxy;     ///< NO_PROXY, else no_proxy
  bool cgi = false;         ///< REQUEST_METHOD is set: HTTP_PROXY may be attacker-supplied
};

/// Go's FromEnvironment, reading variables through `lookup` (getenv by default): the uppercase
/// name wins when both are set and non-empty.
ProxyEnvironment proxy_environment(const std::function<const char*(const char*)>& lookup =
                                       [](const char* name) {
                                         return static_cast<const char*>(std::getenv(name));
                                       });

/// Go's parseProxy: a value without a scheme (`proxy:3128`) means `http://proxy:3128`. Empty
/// stays empty.
std::string proxy_url_from(std::string_view value);

/// NO_PROXY compiled once (Go's config.init), asked per request (Go's useProxy).
class NoProxyList {
 public:
  /// `list`: comma-separated entries; blanks and malformed entries (":1") are ignored.
  /// `loopback_direct`: Go's rule for the environment's proxies, which never carry requests to
  /// `localhost` or a loopback address; a proxy chosen explicitly (curl's -x) carries them.
  explicit NoProxyList(std::string_view list, bool loopback_direct = true);

  /// Whether a request to `host` (without brackets) on `port` goes through the proxy.
  bool use_proxy(std::string_view host, std::string_view port) const;

 private:
  using Address = std::array<std::uint8_t, 16>;  ///< IPv4 as IPv4-mapped IPv6
  struct IpRule {
    Address address;
    unsigned prefix_bits;  ///< 128 for one address
    std::string port;      ///< empty: any port
  };
  struct DomainRule {
    std::string suffix;  ///< ".example.com"
    std::string port;
    bool match_host;  ///< "example.com" also matches example.com itself
  };
  bool loopback_direct_ = true;
  bool match_all_ = false;
  std::vector<IpRule> ip_rules_;
  std::vector<DomainRule> domain_rules_;
};

}  // namespace tunedhttp::detail
