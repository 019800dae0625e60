#pragma once
// A certificate authority and a server certificate made in memory at start (OpenSSL 3 API):
// no certificate or key files anywhere.

#include <string>

namespace tunedhttp::mockserver::detail {

struct ServerCertificate {
  std::string ca_pem;           ///< the self-signed CA certificate a client should trust.
  std::string certificate_pem;  ///< the leaf certificate (SAN localhost, 127.0.0.1), CA-signed.
  std::string private_key_pem;  ///< the leaf's private key (EC P-256), PKCS#8 PEM.
};

/// Makes a fresh CA and leaf, valid from one hour ago for 30 days. Throws std::runtime_error
/// with OpenSSL's reason if anything fails.
ServerCertificate make_server_certificate();

}  // namespace tunedhttp::mockserver::detail
