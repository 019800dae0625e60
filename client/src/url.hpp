#pragma once
// The parts of an absolute http(s) URL that the client needs.

#include <boost/system/error_code.hpp>
#include <string>
#include <string_view>

namespace tunedhttp::detail {

/// An absolute URL split for dialing and for the request line.
struct Url {
  bool tls = false;    ///< https
  std::string host;    ///< name or address, IPv6 without brackets
  std::string port;    ///< explicit or the scheme's default
  std::string target;  ///< origin form: "/path?query" ("/" when empty)

  /// The pool key: scheme + host + port, e.g. "https://example.com:443".
  std::string key() const;
  /// "host:port", IPv6 in brackets (Go's canonicalAddr): a CONNECT target.
  std::string authority() const;
  /// The Host header value: host, plus ":port" when not the scheme's default.
  std::string host_header() const;
};

/// Splits `text`; sets `ec` to errc::invalid_url or errc::unsupported_scheme on failure.
Url parse_url(std::string_view text, boost::system::error_code& ec);

}  // namespace tunedhttp::detail
