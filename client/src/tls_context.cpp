#include "tls_context.hpp"

#include <boost/asio/buffer.hpp>

namespace tunedhttp::detail {

std::unique_ptr<boost::asio::ssl::context> make_tls_context(const TlsOptions& options) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // Idle pooled connections then give back OpenSSL's record buffers (~34 KiB each).
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  if (options.insecure) {
    context->set_verify_mode(ssl::verify_none);
    return context;
  }
  context->set_verify_mode(ssl::verify_peer);
  if (!options.ca_pem.empty()) {
    context->add_certificate_authority(boost::asio::buffer(options.ca_pem));
  }
  if (!options.ca_file.empty()) context->load_verify_file(options.ca_file);
  if (options.ca_pem.empty() && options.ca_file.empty()) context->set_default_verify_paths();
  return context;
}

}  // namespace tunedhttp::detail
