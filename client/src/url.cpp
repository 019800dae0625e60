#include "url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <tunedhttp/error.hpp>

namespace tunedhttp::detail {

namespace {

// Appends `host`, in brackets when it is an IPv6 address.
void append_host(std::string& out, const std::string& host) {
  const bool ipv6 = host.find(':') != std::string::npos;
  if (ipv6) out += '[';
  out += host;
  if (ipv6) out += ']';
}

// A space or a control character: never part of a host or a request target.
bool is_space_or_control(unsigned char c) { return c <= 0x20 || c == 0x7f; }

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == y;
  });
}

}  // namespace

std::string Url::authority() const {
  std::string out;
  append_host(out, host);
  out += ':';
  out += port;
  return out;
}

std::string Url::key() const { return (tls ? "https://" : "http://") + authority(); }

std::string Url::host_header() const {
  const bool default_port = (tls && port == "443") || (!tls && port == "80");
  std::string out;
  append_host(out, host);
  if (!default_port) {
    out += ':';
    out += port;
  }
  return out;
}

Url parse_url(std::string_view text, boost::system::error_code& ec) {
  Url url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    ec = errc::invalid_url;
    return url;
  }
  const std::string_view scheme = text.substr(0, scheme_end);
  url.tls = iequals(scheme, "https");
  if (!url.tls && !iequals(scheme, "http")) {
    ec = errc::unsupported_scheme;
    return url;
  }
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
      !url.host.empty() && std::none_of(url.host.begin(), url.host.end(), is_space_or_control);
  unsigned long port_number = 0;
  if (port_ok && !port.empty())
    std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (!port_ok || !host_ok || port_number > 65535) {
    ec = errc::invalid_url;
    return url;
  }
  url.port = port.empty() ? (url.tls ? "443" : "80") : std::string{port};
  if (const auto fragment = rest.find('#'); fragment != std::string_view::npos) {
    rest = rest.substr(0, fragment);
  }
  if (rest.empty() || rest.front() != '/') url.target = '/';
  url.target += rest;
  if (std::any_of(url.target.begin(), url.target.end(), is_space_or_control)) {
    ec = errc::invalid_url;
    return url;
  }
  ec = {};
  return url;
}

}  // namespace tunedhttp::detail
