#include "proxy_route.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <tunedhttp/error.hpp>

namespace tunedhttp::detail {
namespace {

std::string lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      group = (group << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out += j <= n ? alphabet[(group >> (18 - 6 * j)) & 0x3f] : '=';
    }
  }
  return out;
}

// Go's url.PathUnescape for userinfo: "%XX" decoded; a malformed escape is an error.
std::optional<std::string> percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::strtoul(std::string(text.substr(i + 1, 2)).c_str(), nullptr, 16));
    i += 2;
  }
  return out;
}

// A proxy URL with a scheme other than http. Go uses any proxy value that parses as a URL: it
// speaks https and socks5 proxies (this client does not), and an unknown scheme fails at the
// dial. Either way the request fails rather than going around the proxy.
bool other_scheme(std::string_view value) {
  const auto scheme_end = value.find("://");
  return scheme_end != std::string_view::npos && lowercase(value.substr(0, scheme_end)) != "http";
}

}  // namespace

std::optional<ProxyEndpoint> parse_proxy(std::string_view value, std::string& problem) {
  const std::string text = proxy_url_from(value);
  const auto scheme_end = text.find("://");
  const std::string scheme = lowercase(std::string_view(text).substr(0, scheme_end));
  if (scheme != "http") {
    problem = "invalid proxy address " + std::string(value) + ": scheme " + scheme +
              " is not supported (want http://)";
    return std::nullopt;
  }
  ProxyEndpoint proxy;
  const std::string_view rest = std::string_view(text).substr(scheme_end + 3);
  const std::string_view host_part = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = host_part.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = host_part.substr(0, at);
    const auto colon = userinfo.find(':');
    auto user = percent_decoded(userinfo.substr(0, colon));
    auto password = colon == std::string_view::npos ? std::optional<std::string>{std::string{}}
                                                    : percent_decoded(userinfo.substr(colon + 1));
    if (!user || !password) {
      problem = "invalid proxy address " + std::string(value) + ": malformed %-escape in userinfo";
      return std::nullopt;
    }
    proxy.user = *user;
    proxy.authorization = "Basic " + base64(*user + ":" + *password);
  }
  boost::system::error_code ec;
  proxy.address = parse_url(text, ec);
  if (ec) {
    problem = "invalid proxy address " + std::string(value) + ": want host[:port]";
    return std::nullopt;
  }
  return proxy;
}

std::string Route::key() const {
  if (!proxy) return target.key();
  // (The user, not the password: connections are shared per user, keys are traced.)
  const std::string user = proxy->user.empty() ? "" : proxy->user + "@";
  return "http://" + user + proxy->address.authority() + "|" + (target.tls ? "https" : "http") +
         "|" + (target.tls ? target.authority() : "");
}

std::string absolute_target(const Url& target) {
  return (target.tls ? "https://" : "http://") + target.host_header() + target.target;
}

std::string connect_request(const Route& route) {
  const std::string address = route.target.authority();
  std::string request =
      "CONNECT " + address + " HTTP/1.1\r\nHost: " + address + "\r\nUser-Agent: tunedhttp/0.1\r\n";
  if (route.proxy && !route.proxy->authorization.empty()) {
    request += "Proxy-Authorization: " + route.proxy->authorization + "\r\n";
  }
  return request + "\r\n";
}

boost::system::error_code tunnel_verdict(unsigned status) {
  return status == 200 ? boost::system::error_code{} : proxy_connect_failed(status);
}

ProxySelector::Choice ProxySelector::choose(std::string_view value, std::string& problem) {
  Choice choice;
  if (value.empty()) return choice;
  choice.endpoint = parse_proxy(value, problem);
  choice.invalid = !choice.endpoint;
  return choice;
}

ProxySelector::ProxySelector(const ProxyOptions& options,
                             const std::function<const char*(const char*)>& lookup)
    : source_(options.source),
      no_proxy_(options.no_proxy.value_or(""), options.source != ProxyOptions::Source::url) {
  switch (options.source) {
    case ProxyOptions::Source::none:
      return;
    case ProxyOptions::Source::url:
      http_ = choose(options.url, url_problem_);
      if (options.url.empty()) {
        http_.invalid = true;
        url_problem_ = "invalid proxy address: empty";
      }
      https_ = http_;
      return;
    case ProxyOptions::Source::environment:
      break;
  }
  const auto environment = lookup ? proxy_environment(lookup) : proxy_environment();
  std::string ignored;
  // Go ignores a value that does not parse as a URL but uses any that does; a proxy scheme we
  // cannot speak (https, socks5, or one Go cannot either) fails the request rather than going
  // around the proxy.
  const auto from_environment = [&ignored](const std::string& value) {
    Choice choice = choose(value, ignored);
    if (choice.invalid && !other_scheme(value)) choice = Choice{};
    return choice;
  };
  http_ = from_environment(environment.http_proxy);
  // Go refuses HTTP_PROXY in a CGI program: the request's own "Proxy:" header sets it there.
  if (http_.endpoint && environment.cgi) http_ = Choice{std::nullopt, true};
  https_ = from_environment(environment.https_proxy);
  if (!options.no_proxy) no_proxy_ = NoProxyList(environment.no_proxy);
}

Route ProxySelector::route_to(const Url& target, boost::system::error_code& ec) const {
  ec = {};
  Route route{target, std::nullopt};
  if (source_ == ProxyOptions::Source::none) return route;
  const Choice& choice = target.tls ? https_ : http_;
  // (Go refuses a CGI program's HTTP_PROXY before it looks at NO_PROXY.)
  if (choice.invalid) {
    ec = errc::invalid_proxy;
    return route;
  }
  if (!choice.endpoint || !no_proxy_.use_proxy(target.host, target.port)) return route;
  route.proxy = choice.endpoint;
  return route;
}

std::optional<Destination> resolve(std::string_view target, const ProxySelector& proxies,
                                   boost::system::error_code& ec) {
  // A target with a space or control character is a bad URL (Go's url.Parse refuses it too).
  const Url url = parse_url(target, ec);
  if (ec) return std::nullopt;
  Destination destination;
  destination.route = proxies.route_to(url, destination.route_error);
  destination.key = destination.route.key();
  destination.wire_target =
      destination.route.absolute_form() ? absolute_target(url) : destination.route.target.target;
  destination.host = url.host_header();
  return destination;
}

}  // namespace tunedhttp::detail
