#pragma once
// The OpenSSL client context built from TlsOptions.

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <tunedhttp/client.hpp>

namespace tunedhttp::detail {

/// A TLS 1.2+ client context: peer verification against `options` CAs (or the system store),
/// unless `options.insecure`. Throws boost::system::system_error on a bad CA file or PEM.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const TlsOptions& options);

}  // namespace tunedhttp::detail
