// The client's OpenSSL context (client/src/tls_context.hpp): which certificates it trusts, and
// that the system's are read once per process rather than once per client.
#include "tls_context.hpp"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tunedhttp::detail {
namespace {

X509_STORE* store_of(boost::asio::ssl::context& context) {
  return SSL_CTX_get_cert_store(context.native_handle());
}

int certificates_in(X509_STORE* store) {
  int count = 0;
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    if (X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i)) != nullptr) ++count;
  }
  return count;
}

// The system bundle OpenSSL trusts by default, or "" when this machine has none.
std::string system_bundle() {
  std::ifstream file(X509_get_default_cert_file());
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Every client without CAs of its own trusts the system's: one store, parsed once, shared.
TEST(TlsContext, ClientsWithoutTheirOwnCasShareTheSystemStore) {
  const auto first = make_tls_context(TlsOptions{});
  const auto second = make_tls_context(TlsOptions{});
  EXPECT_EQ(store_of(*first), store_of(*second));
  if (system_bundle().empty()) GTEST_SKIP() << "no system CA bundle on this machine";
  EXPECT_GT(certificates_in(store_of(*first)), 0);
}

// Given CAs, a client trusts those only: a store of its own, not the shared one.
TEST(TlsContext, GivenCasAreTheOnlyOnesTrusted) {
  const std::string bundle = system_bundle();
  if (bundle.empty()) GTEST_SKIP() << "no system CA bundle to take a certificate from";
  const std::string end_marker = "-----END CERTIFICATE-----\n";
  const std::string one_certificate = bundle.substr(0, bundle.find(end_marker) + end_marker.size());
  TlsOptions options;
  options.ca_pem = one_certificate;
  const auto own = make_tls_context(options);
  const auto shared = make_tls_context(TlsOptions{});
  EXPECT_NE(store_of(*own), store_of(*shared));
  EXPECT_EQ(certificates_in(store_of(*own)), 1);
}

}  // namespace
}  // namespace tunedhttp::detail
