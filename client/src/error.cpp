#include <openssl/err.h>
#include <openssl/x509.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <set>
#include <tunedhttp/error.hpp>
#include <tunedhttp/settings_table.hpp>
#include <vector>

namespace tunedhttp {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tunedhttp"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::connect_timeout:
        return "dial tcp: i/o timeout (connect timeout)";
      case errc::tls_handshake_timeout:
        return "net/http: TLS handshake timeout";
      case errc::response_header_timeout:
        return "net/http: timeout awaiting response headers";
      case errc::invalid_url:
        return "invalid URL: the request target must be an absolute http:// or https:// URL";
      case errc::unsupported_scheme:
        return "unsupported protocol scheme (use http or https)";
      case errc::server_closed_connection:
        return "net/http: server closed the connection before a complete response";
      case errc::malformed_response:
        return "net/http: malformed HTTP response";
      case errc::response_too_large:
        return "net/http: response headers or body exceed the client's limit";
      case errc::too_many_informational:
        return "net/http: too many 1xx informational responses";
      case errc::invalid_request:
        return "net/http: invalid request: a method, target, header field name or value breaks "
               "RFC 9110 (nothing was sent)";
      case errc::invalid_tls_options:
        return "tls: the client's CA file or PEM holds no usable certificate";
      case errc::proxy_connect_timeout:
        return "proxyconnect: timeout awaiting the proxy's answer to CONNECT";
      case errc::invalid_proxy:
        return "invalid proxy address: want http://[user:password@]host[:port]";
      case errc::body_read_idle_timeout:
        return "net/http: timeout reading the response body: no byte for body_read_idle";
      case errc::low_speed_timeout:
        return "net/http: response body too slow: below low_speed for its whole period";
      case errc::request_write_idle_timeout:
        return "net/http: timeout writing the request body: the server took no byte for "
               "request_write_idle";
    }
    return "unknown tunedhttp error";
  }

  bool equivalent(int value,
                  const boost::system::error_condition& condition) const noexcept override {
    // A setting's timeout (a row of the settings table) is a timeout.
    const bool timeout = setting_of_timeout(static_cast<errc>(value)) != nullptr;
    if (timeout && condition == boost::system::errc::timed_out) return true;
    return default_error_condition(value) == condition;
  }
};

struct Named {
  boost::system::error_code code;
  const char* name;
};

// System and library errors with a stable name of their own.
const std::vector<Named>& known_errors() {
  namespace asio_error = boost::asio::error;
  static const std::vector<Named> known{
      {asio_error::connection_refused, "connection_refused"},
      {asio_error::connection_reset, "connection_reset"},
      {asio_error::connection_aborted, "connection_aborted"},
      {asio_error::host_not_found, "host_not_found"},
      {asio_error::host_not_found_try_again, "host_not_found"},
      {asio_error::network_unreachable, "network_unreachable"},
      {asio_error::host_unreachable, "host_unreachable"},
      {asio_error::timed_out, "timed_out"},
      {asio_error::eof, "eof"},
      {asio_error::broken_pipe, "broken_pipe"},
      {asio_error::operation_aborted, "operation_aborted"},
      {boost::asio::ssl::error::stream_truncated, "tls_stream_truncated"},
      {asio_error::no_descriptors, "too_many_open_files"},
      {boost::system::errc::make_error_code(boost::system::errc::too_many_files_open_in_system),
       "too_many_open_files"},
      {asio_error::no_buffer_space, "no_buffer_space"},
      {asio_error::no_memory, "out_of_memory"},
      {boost::system::errc::make_error_code(boost::system::errc::address_not_available),
       "address_not_available"},
  };
  return known;
}

// A proxy's refusal of CONNECT: the value is the HTTP status, so the message can name it.
class ProxyConnectCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tunedhttp.proxy_connect"; }
  std::string message(int value) const override {
    const auto reason =
        boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(value));
    // Go's error is the status line's text after the code; the code is kept for the reader.
    return "proxyconnect: the proxy refused CONNECT: " + std::to_string(value) + " " +
           std::string(reason);
  }
};

const boost::system::error_category& proxy_connect_category() {
  static const ProxyConnectCategory category;
  return category;
}

constexpr const char* proxy_connect_failed_name = "proxy_connect_failed";

// Names of the TLS library's errors (error_name's last resort before "category:value").
constexpr const char* certificate_verify_failed = "certificate_verify_failed";
constexpr const char* tls_error = "tls_error";

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

boost::system::error_code proxy_connect_failed(unsigned status) noexcept {
  return {static_cast<int>(status), proxy_connect_category()};
}

std::string error_name(const boost::system::error_code& ec) {
  if (!ec) return {};
  if (ec.category() == error_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::connect_timeout:
        return "connect_timeout";
      case errc::tls_handshake_timeout:
        return "tls_handshake_timeout";
      case errc::response_header_timeout:
        return "response_header_timeout";
      case errc::invalid_url:
        return "invalid_url";
      case errc::unsupported_scheme:
        return "unsupported_scheme";
      case errc::server_closed_connection:
        return "server_closed_connection";
      case errc::malformed_response:
        return "malformed_response";
      case errc::response_too_large:
        return "response_too_large";
      case errc::too_many_informational:
        return "too_many_informational";
      case errc::invalid_request:
        return "invalid_request";
      case errc::invalid_tls_options:
        return "invalid_tls_options";
      case errc::proxy_connect_timeout:
        return "proxy_connect_timeout";
      case errc::invalid_proxy:
        return "invalid_proxy";
      case errc::body_read_idle_timeout:
        return "body_read_idle_timeout";
      case errc::low_speed_timeout:
        return "low_speed_timeout";
      case errc::request_write_idle_timeout:
        return "request_write_idle_timeout";
    }
  }
  if (ec.category() == proxy_connect_category()) return proxy_connect_failed_name;
  for (const auto& entry : known_errors()) {
    // By condition, so EMFILE is named alike from the system and the generic category.
    if (ec == entry.code || ec.default_error_condition() == entry.code.default_error_condition()) {
      return entry.name;
    }
  }
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      return certificate_verify_failed;
    }
    return tls_error;
  }
  if (ec.category() ==
      boost::beast::http::make_error_code(boost::beast::http::error::end_of_stream).category()) {
    return "malformed_response";
  }
  return ec.category().name() + std::string(":") + std::to_string(ec.value());
}

std::set<std::string> error_names() {
  std::set<std::string> names{certificate_verify_failed, tls_error, proxy_connect_failed_name};
  for (const auto e : all_errcs) names.insert(error_name(make_error_code(e)));
  for (const auto& entry : known_errors()) names.insert(entry.name);
  return names;
}

}  // namespace tunedhttp
