#include "tls_certificate.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace tunedhttp::mockserver::detail {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};
using KeyPointer = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using CertificatePointer = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPointer = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using ExtensionPointer = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

[[noreturn]] void fail(const std::string& what) {
  char reason[256] = "unknown error";
  if (const auto code = ERR_get_error(); code != 0) ERR_error_string_n(code, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error("mock server TLS: " + what + ": " + reason);
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

KeyPointer make_key() {
  KeyPointer key{EVP_EC_gen("P-256")};
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  ExtensionPointer extension{X509V3_EXT_conf_nid(nullptr, &context, nid, value)};
  check(extension != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(certificate, extension.get(), -1) == 1, "X509_add_ext");
}

CertificatePointer make_certificate(EVP_PKEY* key, const char* common_name) {
  CertificatePointer certificate{X509_new()};
  check(certificate != nullptr, "X509_new");
  check(X509_set_version(certificate.get(), X509_VERSION_3) == 1, "X509_set_version");
  unsigned char serial_bytes[16];
  check(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "RAND_bytes");
  serial_bytes[0] &= 0x7f;  // a positive serial number
  std::unique_ptr<BIGNUM, Deleter<BN_free>> serial{
      BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr)};
  check(serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())),
        "serial number");
  check(X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -60 * 60) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 30L * 24 * 60 * 60) != nullptr,
        "notAfter");
  check(X509_set_pubkey(certificate.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(certificate.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("tunedhttp mock server"),
                                   -1, -1, 0) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                                       0) == 1,
        "subject name");
  return certificate;
}

std::string to_pem(X509* certificate) {
  BioPointer bio{BIO_new(BIO_s_mem())};
  check(bio && PEM_write_bio_X509(bio.get(), certificate) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string to_pem(EVP_PKEY* key) {
  BioPointer bio{BIO_new(BIO_s_mem())};
  check(bio && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

ServerCertificate make_server_certificate() {
  // The CA: self-signed, may sign certificates only.
  const auto ca_key = make_key();
  auto ca = make_certificate(ca_key.get(), "tunedhttp mock server CA");
  check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())) == 1, "issuer");
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "X509_sign (CA)");

  // The leaf: for localhost and 127.0.0.1, signed by the CA.
  const auto key = make_key();
  auto leaf = make_certificate(key.get(), "localhost");
  check(X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get())) == 1, "issuer");
  add_extension(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(leaf.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_extension(leaf.get(), ca.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  add_extension(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(leaf.get(), ca_key.get(), EVP_sha256()) > 0, "X509_sign (leaf)");

  return ServerCertificate{to_pem(ca.get()), to_pem(leaf.get()), to_pem(key.get())};
}

}  // namespace tunedhttp::mockserver::detail
