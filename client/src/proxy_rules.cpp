#include "proxy_rules.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

namespace tunedhttp::detail {
namespace {

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// An IPv4 or IPv6 literal as 16 bytes (IPv4 mapped into IPv6, as Go's net.IP holds it). An
// IPv6 zone ("fe80::1%eth0") is dropped, as netip.ParseAddr accepts it.
std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view text) {
  std::array<std::uint8_t, 16> address{};
  const std::string literal(text.substr(0, text.find('%')));
  if (literal.size() != text.size() && literal.find(':') == std::string::npos) return std::nullopt;
  in_addr v4{};
  if (::inet_pton(AF_INET, literal.c_str(), &v4) == 1) {
    address[10] = address[11] = 0xff;
    std::copy_n(reinterpret_cast<const std::uint8_t*>(&v4), 4, address.begin() + 12);
    return address;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, literal.c_str(), &v6) == 1) {
    std::copy_n(reinterpret_cast<const std::uint8_t*>(&v6), 16, address.begin());
    return address;
  }
  return std::nullopt;
}

bool is_ipv4_mapped(const std::array<std::uint8_t, 16>& address) {
  return std::all_of(address.begin(), address.begin() + 10, [](auto b) { return b == 0; }) &&
         address[10] == 0xff && address[11] == 0xff;
}

bool is_loopback(const std::array<std::uint8_t, 16>& address) {
  if (is_ipv4_mapped(address)) return address[12] == 127;
  return std::all_of(address.begin(), address.begin() + 15, [](auto b) { return b == 0; }) &&
         address[15] == 1;
}

bool same_prefix(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b,
                 unsigned bits) {
  for (unsigned i = 0; i < 16 && bits > 0; ++i) {
    const unsigned take = std::min(bits, 8u);
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

// Go's net.SplitHostPort, for NO_PROXY entries: "host:port" or "[v6]:port". Nullopt when the
// entry has no port (or is not of that form).
std::optional<std::pair<std::string, std::string>> split_host_port(const std::string& entry) {
  if (!entry.empty() && entry.front() == '[') {
    const auto close = entry.find(']');
    if (close == std::string::npos || close + 1 >= entry.size() || entry[close + 1] != ':') {
      return std::nullopt;
    }
    return std::pair{entry.substr(1, close - 1), entry.substr(close + 2)};
  }
  const auto colon = entry.find(':');
  if (colon == std::string::npos || entry.find(':', colon + 1) != std::string::npos) {
    return std::nullopt;  // no port, or a bare IPv6 address
  }
  return std::pair{entry.substr(0, colon), entry.substr(colon + 1)};
}

}  // namespace

ProxyEnvironment proxy_environment(const std::function<const char*(const char*)>& lookup) {
  const auto any = [&](const char* upper, const char* lower) {
    for (const char* name : {upper, lower}) {
      if (const char* value = lookup(name); value != nullptr && *value != '\0')
        return std::string(value);
    }
    return std::string();
  };
  ProxyEnvironment environment;
  environment.http_proxy = any("HTTP_PROXY", "http_proxy");
  environment.https_proxy = any("HTTPS_PROXY", "https_proxy");
  environment.no_proxy = any("NO_PROXY", "no_proxy");
  const char* method = lookup("REQUEST_METHOD");
  environment.cgi = method != nullptr && *method != '\0';
  return environment;
}

std::string proxy_url_from(std::string_view value) {
  if (value.empty()) return {};
  // Go: a value that does not parse as scheme://host is taken as host[:port] over http.
  const auto scheme_end = value.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0 || scheme_end + 3 >= value.size()) {
    return "http://" + std::string(value);
  }
  return std::string(value);
}

NoProxyList::NoProxyList(std::string_view list, bool loopback_direct)
    : loopback_direct_(loopback_direct) {
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = std::min(list.find(',', start), list.size());
    const std::string entry = lower_trimmed(list.substr(start, comma - start));
    start = comma + 1;
    if (entry.empty()) continue;
    if (entry == "*") {
      match_all_ = true;
      return;
    }
    // IPv4/CIDR, IPv6/CIDR
    if (const auto slash = entry.find('/'); slash != std::string::npos) {
      const auto network = parse_ip(entry.substr(0, slash));
      const std::string bits_text = entry.substr(slash + 1);
      char* end = nullptr;
      const unsigned long bits = std::strtoul(bits_text.c_str(), &end, 10);
      if (network && !bits_text.empty() && *end == '\0') {
        const bool v4 = is_ipv4_mapped(*network) && entry.find(':') == std::string::npos;
        if (bits <= (v4 ? 32u : 128u)) {
          ip_rules_.push_back({*network, static_cast<unsigned>(bits) + (v4 ? 96u : 0u), ""});
          continue;
        }
      }
    }
    std::string host = entry;
    std::string port;
    if (auto split = split_host_port(entry)) {
      if (split->first.empty()) continue;  // ":1": malformed, ignored
      host = split->first;
      port = split->second;
    }
    if (const auto ip = parse_ip(host)) {
      ip_rules_.push_back({*ip, 128, port});
      continue;
    }
    if (host.empty()) continue;
    // "*.example.com" is ".example.com"; "example.com" matches itself and its subdomains.
    if (host.rfind("*.", 0) == 0) host.erase(0, 1);
    const bool match_host = host.front() != '.';
    if (match_host) host.insert(0, ".");
    domain_rules_.push_back({host, port, match_host});
  }
}

bool NoProxyList::use_proxy(std::string_view host_in, std::string_view port) const {
  const auto ip = parse_ip(host_in);
  if (loopback_direct_ && (host_in == "localhost" || (ip && is_loopback(*ip)))) return false;
  if (match_all_) return false;
  const std::string host = lower_trimmed(host_in);
  if (ip) {
    for (const auto& rule : ip_rules_) {
      if (same_prefix(rule.address, *ip, rule.prefix_bits) &&
          (rule.port.empty() || rule.port == port)) {
        return false;
      }
    }
    return true;  // domain entries never match an address
  }
  for (const auto& rule : domain_rules_) {
    const bool matches =
        ends_with(host, rule.suffix) || (rule.match_host && host == rule.suffix.substr(1));
    if (matches && (rule.port.empty() || rule.port == port)) return false;
  }
  return true;
}

}  // namespace tunedhttp::detail
