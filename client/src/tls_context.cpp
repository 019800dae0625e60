#include "tls_context.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/buffer.hpp>
#include <new>

namespace tunedhttp::detail {
namespace {

// OpenSSL computes a certificate's extension data (its key identifiers, its flags) the first
// time a verification looks at it, and OpenSSL 3 does that racily: two handshakes on two threads
// may both find a trusted certificate unprocessed, and one rewrites the fields while the other
// compares them (openssl/openssl#32609; ThreadSanitizer saw it here, in a client shared by a
// thread pool). Doing it once now, before the context is shared, leaves verification reading
// only. Certificates a CA directory supplies later, one lookup at a time, are not covered.
void cache_trusted_certificates(X509_STORE* store) {
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    if (X509* certificate = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i))) {
      X509_check_purpose(certificate, -1, 0);
    }
  }
}

// The system's trusted certificates (OpenSSL's default paths: Debian's bundle and its hashed
// directory), loaded once per process and shared by every client's context, as Go loads its
// system roots once. Parsing the bundle (144 certificates on Debian 12) takes about 19 ms, which
// every Client paid when it was made, even one that never dialed TLS.
X509_STORE* system_trust_store() {
  static X509_STORE* const store = [] {
    X509_STORE* made = X509_STORE_new();
    if (made == nullptr) throw std::bad_alloc();
    // As SSL_CTX_set_default_verify_paths: a missing file or directory is not an error.
    X509_STORE_set_default_paths(made);
    ERR_clear_error();
    cache_trusted_certificates(made);
    return made;
  }();
  return store;
}

}  // namespace

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
  if (options.ca_pem.empty() && options.ca_file.empty()) {
    SSL_CTX_set1_cert_store(context->native_handle(), system_trust_store());
    return context;
  }
  if (!options.ca_pem.empty()) {
    context->add_certificate_authority(boost::asio::buffer(options.ca_pem));
  }
  if (!options.ca_file.empty()) context->load_verify_file(options.ca_file);
  cache_trusted_certificates(SSL_CTX_get_cert_store(context->native_handle()));
  return context;
}

}  // namespace tunedhttp::detail
