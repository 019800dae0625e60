#pragma once
// The tunedhttp error category: every failure the client itself decides on.

#include <boost/system/error_code.hpp>
#include <set>
#include <string>
#include <type_traits>

namespace tunedhttp {

/// Errors produced by the client. Timeouts compare equal to `std::errc::timed_out`.
/// Messages mirror Go's net/http texts, so logs read the same as a Go program's.
enum class errc : int {
  connect_timeout = 1,         ///< `connect` expired during name resolution or connect.
  tls_handshake_timeout,       ///< `tls_handshake` expired.
  response_header_timeout,     ///< `response_header` expired before the final response headers.
  invalid_url,                 ///< the request target is not an absolute http(s) URL.
  unsupported_scheme,          ///< a scheme other than http or https.
  server_closed_connection,    ///< the peer closed the connection before a whole response.
  malformed_response,          ///< the response could not be parsed as HTTP/1.x.
  response_too_large,          ///< headers or body exceed the client's defensive limits.
  too_many_informational,      ///< more 1xx responses than a sane server sends.
  invalid_request,             ///< a method, target, header name or value breaks RFC 9110
                               ///< (request_problem() says which, in Go's words); nothing sent.
  invalid_tls_options,         ///< the CA file or PEM in TlsOptions holds no usable certificate
                               ///< (Client::setup_error() has OpenSSL's reason); https only.
  proxy_connect_timeout,       ///< `proxy_connect` expired before the proxy answered CONNECT.
  invalid_proxy,               ///< the proxy URL (ClientOptions::proxy or the environment) is not
                               ///< an http://[user:password@]host[:port] URL, or the environment
                               ///< names HTTP_PROXY in a CGI program (Go refuses it there).
  body_read_idle_timeout,      ///< `body_read_idle` passed with no response body byte.
  low_speed_timeout,           ///< the body came slower than `low_speed` for its whole period.
  request_write_idle_timeout,  ///< `request_write_idle` passed with no request byte taken.
};

/// Every errc value, in declaration order (for tables and tests that must not miss a new one).
inline constexpr errc all_errcs[] = {
    errc::connect_timeout,         errc::tls_handshake_timeout,
    errc::response_header_timeout, errc::invalid_url,
    errc::unsupported_scheme,      errc::server_closed_connection,
    errc::malformed_response,      errc::response_too_large,
    errc::too_many_informational,  errc::invalid_request,
    errc::invalid_tls_options,     errc::proxy_connect_timeout,
    errc::invalid_proxy,           errc::body_read_idle_timeout,
    errc::low_speed_timeout,       errc::request_write_idle_timeout,
};

/// The error for a proxy that answered CONNECT with `status` other than 200 (Go accepts only
/// 200). Its name is `proxy_connect_failed`; its value is the status and its message names it
/// with Go's text ("407 Proxy Authentication Required").
boost::system::error_code proxy_connect_failed(unsigned status) noexcept;

/// The category of `errc`, named "tunedhttp".
const boost::system::error_category& error_category() noexcept;

/// Makes an error_code of the tunedhttp category.
boost::system::error_code make_error_code(errc e) noexcept;

/// The short name of an error, as the command line and the scenario files write it:
/// `response_header_timeout` for ours, and stable names for common system and TLS errors
/// (`connection_refused`, `host_not_found`, `certificate_verify_failed`, ...). Empty for success.
std::string error_name(const boost::system::error_code& ec);

/// Every stable name error_name() gives (not its "category:value" last resort), for checking
/// names users write, such as a scenario's `expect.error`.
std::set<std::string> error_names();

}  // namespace tunedhttp

namespace boost::system {
template <>
struct is_error_code_enum<tunedhttp::errc> : std::true_type {};
}  // namespace boost::system
