#pragma once
// How a request reaches its target (Go's connectMethod): directly, or through an HTTP proxy in
// absolute form (http targets) or through a CONNECT tunnel (https targets). The choice, the pool
// key, the CONNECT request's bytes and the verdict on its answer, without I/O; the dialer and
// the exchange carry them out. tests/client/proxy_route_test.cpp drives them with strings.

#include <boost/system/error_code.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tunedhttp/client.hpp>

#include "proxy_rules.hpp"
#include "url.hpp"

namespace tunedhttp::detail {

/// A proxy, parsed once.
struct ProxyEndpoint {
  Url address;                ///< where to dial: host and port (plain TCP)
  std::string user;           ///< the userinfo's user name, decoded; part of the pool key
  std::string authorization;  ///< "Basic ..." for Proxy-Authorization; empty without userinfo
};

/// Go's parseProxy plus url.Parse for a proxy value: `http://[user[:password]@]host[:port]`, or
/// `host:port` without a scheme. Port 80 by default. Userinfo is percent-decoded. Nullopt (and
/// `problem` set) for another scheme (https, socks5: not supported), a missing host, a path
/// other than "/", or a malformed port.
std::optional<ProxyEndpoint> parse_proxy(std::string_view value, std::string& problem);

/// Go's connectMethod: the target and the proxy, if any, between us and it.
struct Route {
  Url target;
  std::optional<ProxyEndpoint> proxy;

  /// Whether the connection is a CONNECT tunnel (an https target through a proxy).
  bool tunnel() const { return proxy && target.tls; }
  /// Whether requests are written in absolute form to the proxy (an http target through one).
  bool absolute_form() const { return proxy && !target.tls; }
  /// Where the dial goes: the proxy, or the target.
  const Url& dial_address() const { return proxy ? proxy->address : target; }
  /// The pool key (Go's connectMethodKey): the target's "scheme://host:port" when direct;
  /// "http://[user@]proxy:port|scheme|host:port" through a proxy, where every http target
  /// shares the proxy's connections ("...|http|"), as in Go.
  std::string key() const;
};

/// The request target in absolute form, "http://host[:port]/path?query", for a proxy.
std::string absolute_target(const Url& target);

/// The CONNECT request for a tunnel to `route`'s target, as Go writes it: `CONNECT host:port
/// HTTP/1.1`, Host, User-Agent and, with credentials, Proxy-Authorization.
std::string connect_request(const Route& route);

/// The verdict on a proxy's answer to CONNECT (Go's dialConn): only 200 opens the tunnel;
/// anything else is proxy_connect_failed(status).
boost::system::error_code tunnel_verdict(unsigned status);

/// ProxyOptions compiled once (Go's envProxyFunc reads the environment once): which proxy, if
/// any, each request goes through.
class ProxySelector {
 public:
  /// Reads the environment through `lookup` (getenv by default) when the source is the
  /// environment.
  explicit ProxySelector(const ProxyOptions& options,
                         const std::function<const char*(const char*)>& lookup = {});

  /// The route to `target`; errc::invalid_proxy when its proxy cannot be used (a malformed
  /// URL, or HTTP_PROXY in a CGI program).
  Route route_to(const Url& target, boost::system::error_code& ec) const;

  /// Why the configured proxy cannot be used (for Source::url), or empty.
  const std::string& problem() const { return url_problem_; }

 private:
  /// A proxy for one scheme: none, one, or unusable.
  struct Choice {
    std::optional<ProxyEndpoint> endpoint;
    bool invalid = false;
  };
  static Choice choose(std::string_view value, std::string& problem);

  ProxyOptions::Source source_;
  Choice http_;
  Choice https_;
  std::string url_problem_;
  NoProxyList no_proxy_;
};

/// A request target resolved once for every request sent to it: the URL parsed, the route
/// chosen, and what the request carries on the wire. Immutable, so requests share one.
struct Destination {
  Route route;
  boost::system::error_code route_error;  ///< the route could not be chosen (invalid_proxy)
  std::string key;                        ///< route.key(): the pool's
  std::string wire_target;                ///< origin form; absolute form when written to a proxy
  std::string host;                       ///< the Host header's value
};

/// Resolves `target` (an absolute http or https URL) for `proxies`; nullopt with `ec` set
/// (errc::invalid_url, errc::unsupported_scheme) when it is not one.
std::optional<Destination> resolve(std::string_view target, const ProxySelector& proxies,
                                   boost::system::error_code& ec);

}  // namespace tunedhttp::detail
