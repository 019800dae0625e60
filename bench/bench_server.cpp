#include "bench_server.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace tunedhttp::bench {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

void check(bool ok, const char* what) {
  if (ok) return;
  char reason[256] = "unknown error";
  if (const auto code = ERR_get_error(); code != 0) ERR_error_string_n(code, reason, sizeof reason);
  throw std::runtime_error(std::string("bench server TLS: ") + what + ": " + reason);
}

std::string pem_of(auto write) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(bio != nullptr, "BIO_new");
  const bool ok = write(bio) == 1;
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  check(ok, "PEM_write");
  return text;
}

// Counts complete request heads ("\r\n\r\n") in a byte stream, across reads.
class RequestCounter {
 public:
  std::size_t feed(const char* data, std::size_t size) {
    static constexpr char pattern[] = "\r\n\r\n";
    std::size_t complete = 0;
    for (std::size_t i = 0; i < size; ++i) {
      const char c = data[i];
      if (c == pattern[matched_]) {
        if (++matched_ == 4) {
          ++complete;
          matched_ = 0;
        }
      } else {
        matched_ = c == '\r' ? 1 : 0;
      }
    }
    return complete;
  }

 private:
  int matched_ = 0;
};

template <class Stream>
asio::awaitable<void> serve_requests(Stream& stream) {
  std::array<char, 8192> input;
  std::string output;
  RequestCounter counter;
  for (;;) {
    auto [read_error, n] = co_await stream.async_read_some(asio::buffer(input), as_tuple_awaitable);
    if (read_error) co_return;
    const std::size_t requests = counter.feed(input.data(), n);
    if (requests == 0) continue;
    output.clear();
    for (std::size_t i = 0; i < requests; ++i) output.append(fixed_response);
    auto [write_error, written] =
        co_await asio::async_write(stream, asio::buffer(output), as_tuple_awaitable);
    if (write_error) co_return;
  }
}

asio::awaitable<void> serve_plain(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));
  co_await serve_requests(socket);
}

asio::awaitable<void> serve_tls(tcp::socket socket, ssl::context& context) {
  socket.set_option(tcp::no_delay(true));
  ssl::stream<tcp::socket> stream(std::move(socket), context);
  auto [error] = co_await stream.async_handshake(ssl::stream_base::server, as_tuple_awaitable);
  if (error) co_return;
  co_await serve_requests(stream);
}

}  // namespace

Certificate make_certificate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  check(key != nullptr, "EVP_EC_gen");
  X509* certificate = X509_new();
  check(certificate != nullptr, "X509_new");
  X509_set_version(certificate, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 7L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tunedhttp bench"), -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  X509_set_pubkey(certificate, key);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    check(extension != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
  }
  check(X509_sign(certificate, key, EVP_sha256()) > 0, "X509_sign");
  Certificate made;
  made.certificate_pem = pem_of([&](BIO* bio) { return PEM_write_bio_X509(bio, certificate); });
  made.key_pem = pem_of([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
  X509_free(certificate);
  EVP_PKEY_free(key);
  return made;
}

struct BenchServer::Impl {
  explicit Impl(bool tls_in) : tls(tls_in), acceptor(context) {
    if (tls) {
      const auto made = make_certificate();
      ca_pem = made.certificate_pem;
      tls_context.use_certificate_chain(asio::buffer(made.certificate_pem));
      tls_context.use_private_key(asio::buffer(made.key_pem), ssl::context::pem);
    }
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    port = acceptor.local_endpoint().port();
    asio::co_spawn(context, accept_loop(), asio::detached);
    thread = std::thread([this] { context.run(); });
  }

  ~Impl() {
    context.stop();
    thread.join();
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [error, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
      if (error == asio::error::operation_aborted) co_return;
      if (error) continue;  // e.g. EMFILE: the benchmark reports the client-side error
      accepted.fetch_add(1, std::memory_order_relaxed);
      if (tls) {
        asio::co_spawn(context, serve_tls(std::move(socket), tls_context), asio::detached);
      } else {
        asio::co_spawn(context, serve_plain(std::move(socket)), asio::detached);
      }
    }
  }

  const bool tls;
  asio::io_context context{1};
  ssl::context tls_context{ssl::context::tls_server};
  tcp::acceptor acceptor;
  unsigned short port = 0;
  std::string ca_pem;
  std::atomic<std::uint64_t> accepted{0};
  std::thread thread;
};

BenchServer::BenchServer(bool tls) : impl_(std::make_unique<Impl>(tls)) {}
BenchServer::~BenchServer() = default;
unsigned short BenchServer::port() const { return impl_->port; }
std::string BenchServer::base_url() const {
  return std::string(impl_->tls ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(impl_->port) + "/";
}
const std::string& BenchServer::ca_pem() const { return impl_->ca_pem; }
std::uint64_t BenchServer::accepted() const {
  return impl_->accepted.load(std::memory_order_relaxed);
}

int serve_until_stdin_closes(bool tls) {
  BenchServer server(tls);
  std::cout << server.port() << "\n" << server.ca_pem() << "READY" << std::endl;
  std::string ignored;
  while (std::getline(std::cin, ignored)) {
  }
  return 0;
}

}  // namespace tunedhttp::bench
