#include "url.hpp"

#include <algorithm>
#include <cctype>
#include <tunedhttp/error.hpp>

namespace tunedhttp::detail {

std::string Url::authority() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

std::string Url::key() const { return (tls ? "https://" : "http://") + authority(); }

std::string Url::host_header() const {
  const std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const bool default_port = (tls && port == "443") || (!tls && port == "80");
  return default_port ? bracketed : bracketed + ":" + port;
}

Url parse_url(std::string_view text, boost::system::error_code& ec) {
  Url url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    ec = errc::invalid_url;
    return url;
  }
  std::string scheme{text.substr(0, scheme_end)};
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https") {
    ec = errc::unsupported_scheme;
    return url;
  }
  url.tls = scheme == "https";
  text.remove_prefix(scheme_end + 3);
  const auto authority_end = text.find_first_of("/?#");
  std::string_view authority = text.substr(0, authority_end);
  std::string_view rest =
      authority_end == std::string_view::npos ? std::string_view{} : text.substr(authority_end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // user info is not sent as a header by us
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      ec = errc::invalid_url;
      return url;
    }
    url.host = std::string{authority.substr(1, close - 1)};
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        ec = errc::invalid_url;
        return url;
      }
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    url.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  const bool port_ok =
      std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) &&
      port.size() <= 5;
  const bool host_ok =
      !url.host.empty() && std::none_of(url.host.begin(), url.host.end(), [](unsigned char c) {
        return std::isspace(c) != 0 || std::iscntrl(c) != 0;
      });
  if (!port_ok || !host_ok || (!port.empty() && std::stoul(std::string{port}) > 65535)) {
    ec = errc::invalid_url;
    return url;
  }
  url.port = port.empty() ? (url.tls ? "443" : "80") : std::string{port};
  if (const auto fragment = rest.find('#'); fragment != std::string_view::npos) {
    rest = rest.substr(0, fragment);
  }
  url.target = rest.empty() || rest.front() != '/' ? "/" + std::string{rest} : std::string{rest};
  if (std::any_of(url.target.begin(), url.target.end(),
                  [](unsigned char c) { return std::isspace(c) != 0 || std::iscntrl(c) != 0; })) {
    ec = errc::invalid_url;
    return url;
  }
  ec = {};
  return url;
}

}  // namespace tunedhttp::detail
