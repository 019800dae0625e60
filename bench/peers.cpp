// The peers measured beside tunedhttp against the same server in the same run: libcurl (an easy
// handle reused, or a fresh one per request), a minimal synchronous Boost.Beast client, and the
// floor — a blocking socket (or blocking OpenSSL) loop writing a fixed request and reading the
// fixed response, which no HTTP client on this machine can beat — and the same exchange through
// Asio's event loop, which no client built on Asio's reactor can beat.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "request_loop.hpp"

namespace tunedhttp::bench {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// ---- libcurl -------------------------------------------------------------------------------

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

struct CurlHandle {
  explicit CurlHandle(const BenchServer& server) : handle(curl_easy_init()) {
    const std::string url = server.base_url();
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
    if (!server.ca_pem().empty()) {
      curl_blob blob{const_cast<char*>(server.ca_pem().data()), server.ca_pem().size(),
                     CURL_BLOB_COPY};
      curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &blob);
    }
  }
  ~CurlHandle() { curl_easy_cleanup(handle); }
  CurlHandle(const CurlHandle&) = delete;
  CurlHandle& operator=(const CurlHandle&) = delete;

  std::string perform() {
    body.clear();
    if (const CURLcode code = curl_easy_perform(handle); code != CURLE_OK) {
      return std::string("curl: ") + curl_easy_strerror(code);
    }
    return body.size() == 13 ? "" : "curl: unexpected body";
  }

  CURL* handle;
  std::string body;
};

void curl_reused(benchmark::State& state, bool tls) {
  CurlHandle curl(shared_server(tls));
  run_request_loop(state, [&] { return curl.perform(); });
}

void curl_fresh(benchmark::State& state, bool tls) {
  const BenchServer& server = shared_server(tls);
  run_request_loop(state, [&] {
    CurlHandle curl(server);
    return curl.perform();
  });
}

// ---- minimal synchronous Boost.Beast client --------------------------------------------------

http::request<http::empty_body> beast_request(const BenchServer& server) {
  http::request<http::empty_body> request{http::verb::get, "/", 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(server.port()));
  request.set(http::field::user_agent, "beast");
  return request;
}

// One connection: a socket, TLS over it when asked, and the read buffer.
struct BeastConnection {
  BeastConnection(asio::io_context& context, ssl::context* tls, const tcp::endpoint& endpoint)
      : socket(context) {
    socket.connect(endpoint);
    socket.set_option(tcp::no_delay(true));
    if (tls) {
      stream.emplace(socket, *tls);
      stream->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
      stream->handshake(ssl::stream_base::client);
    }
  }

  template <class Request>
  std::string exchange(const Request& request) {
    http::response<http::string_body> response;
    boost::system::error_code ec;
    if (stream) {
      http::write(*stream, request, ec);
      if (!ec) http::read(*stream, buffer, response, ec);
    } else {
      http::write(socket, request, ec);
      if (!ec) http::read(socket, buffer, response, ec);
    }
    if (ec) return "beast: " + ec.message();
    return response.body().size() == 13 ? "" : "beast: unexpected body";
  }

  tcp::socket socket;
  std::optional<ssl::stream<tcp::socket&>> stream;
  boost::beast::flat_buffer buffer;
};

std::unique_ptr<ssl::context> beast_tls_context(const BenchServer& server) {
  if (server.ca_pem().empty()) return nullptr;
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  context->set_verify_mode(ssl::verify_peer);
  context->add_certificate_authority(asio::buffer(server.ca_pem()));
  return context;
}

void beast_sync(benchmark::State& state, bool tls, bool fresh) {
  const BenchServer& server = shared_server(tls);
  asio::io_context context;
  const auto tls_context = beast_tls_context(server);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), server.port());
  const auto request = beast_request(server);
  std::optional<BeastConnection> connection;
  run_request_loop(state, [&]() -> std::string {
    try {
      if (fresh || !connection) connection.emplace(context, tls_context.get(), endpoint);
      return connection->exchange(request);
    } catch (const std::exception& e) {
      return std::string("beast: ") + e.what();
    }
  });
}

// ---- the floor: a blocking socket writing a fixed request, reading a fixed response ---------

class RawConnection {
 public:
  RawConnection(unsigned short port, SSL_CTX* tls) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      error_ = std::string("connect: ") + std::strerror(errno);
      return;
    }
    if (tls) {
      ssl_ = SSL_new(tls);
      SSL_set_fd(ssl_, fd_);
      if (SSL_connect(ssl_) != 1) error_ = "SSL_connect failed";
    }
  }
  ~RawConnection() {
    if (ssl_) SSL_free(ssl_);
    ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  const std::string& error() const { return error_; }

  std::string exchange(const std::string& request) {
    const bool wrote = ssl_ ? SSL_write(ssl_, request.data(), static_cast<int>(request.size())) ==
                                  static_cast<int>(request.size())
                            : ::send(fd_, request.data(), request.size(), 0) ==
                                  static_cast<ssize_t>(request.size());
    if (!wrote) return "raw: write failed";
    std::size_t received = 0;
    while (received < fixed_response.size()) {
      const auto n =
          ssl_ ? SSL_read(ssl_, buffer_, sizeof buffer_) : ::recv(fd_, buffer_, sizeof buffer_, 0);
      if (n <= 0) return "raw: read failed";
      received += static_cast<std::size_t>(n);
    }
    return received == fixed_response.size() ? "" : "raw: unexpected response";
  }

 private:
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string error_;
  char buffer_[4096];
};

struct SslContextDeleter {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};

std::unique_ptr<SSL_CTX, SslContextDeleter> raw_tls_context(const BenchServer& server) {
  if (server.ca_pem().empty()) return nullptr;
  std::unique_ptr<SSL_CTX, SslContextDeleter> context(SSL_CTX_new(TLS_client_method()));
  BIO* bio = BIO_new_mem_buf(server.ca_pem().data(), static_cast<int>(server.ca_pem().size()));
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(context.get()), certificate);
  X509_free(certificate);
  BIO_free(bio);
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(context.get()), "127.0.0.1");
  return context;
}

void raw_socket(benchmark::State& state, bool tls, bool fresh) {
  const BenchServer& server = shared_server(tls);
  const auto context = raw_tls_context(server);
  const std::string request = fixed_request(server.port());
  std::optional<RawConnection> connection;
  run_request_loop(state, [&]() -> std::string {
    if (fresh || !connection) {
      connection.emplace(server.port(), context.get());
      if (!connection->error().empty()) return connection->error();
    }
    return connection->exchange(request);
  });
}

// ---- the event-loop floor: the raw exchange through Asio's reactor ---------------------------

// The fixed request written in place (non-blocking, as tunedhttp writes a request), then the fixed
// response read with async_read_some on one io_context run by this thread: what an event loop
// costs before any HTTP is done (a speculative recv, epoll_wait, a handler). No client built on
// Asio's reactor can beat it; the raw floor above blocks in recv instead.
class EventLoopConnection {
 public:
  EventLoopConnection(asio::io_context& context, unsigned short port) : socket_(context) {
    socket_.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    socket_.set_option(tcp::no_delay(true));
    socket_.non_blocking(true);
  }

  std::string exchange(asio::io_context& context, const std::string& request) {
    boost::system::error_code ec;
    if (socket_.write_some(asio::buffer(request), ec) != request.size()) {
      return "event loop: write failed";
    }
    received_ = 0;
    failed_ = false;
    read();
    context.restart();
    while (!failed_ && received_ < fixed_response.size()) {
      if (context.run_one() == 0) return "event loop: stopped";
    }
    return failed_ || received_ != fixed_response.size() ? "event loop: read failed" : "";
  }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [this](const boost::system::error_code& ec, std::size_t n) {
                              received_ += n;
                              if (ec) {
                                failed_ = true;
                              } else if (received_ < fixed_response.size()) {
                                read();
                              }
                            });
  }

  tcp::socket socket_;
  char buffer_[4096];
  std::size_t received_ = 0;
  bool failed_ = false;
};

void event_loop_floor(benchmark::State& state) {
  const BenchServer& server = shared_server(false);
  const std::string request = fixed_request(server.port());
  asio::io_context context{1};
  EventLoopConnection connection(context, server.port());
  run_request_loop(state, [&] { return connection.exchange(context, request); });
}

}  // namespace

void register_peer_benchmarks() {
  benchmark::RegisterBenchmark("requests/plain/reused/event_loop_floor", event_loop_floor)
      ->UseRealTime();
  for (const bool tls : {false, true}) {
    const std::string security = tls ? "tls" : "plain";
    benchmark::RegisterBenchmark(("requests/" + security + "/reused/curl").c_str(), curl_reused,
                                 tls)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("requests/" + security + "/fresh/curl").c_str(), curl_fresh, tls)
        ->UseRealTime();
    for (const bool fresh : {false, true}) {
      const std::string mode = fresh ? "fresh" : "reused";
      benchmark::RegisterBenchmark(("requests/" + security + "/" + mode + "/beast_sync").c_str(),
                                   beast_sync, tls, fresh)
          ->UseRealTime();
      benchmark::RegisterBenchmark(("requests/" + security + "/" + mode + "/raw_socket").c_str(),
                                   raw_socket, tls, fresh)
          ->UseRealTime();
    }
  }
}

}  // namespace tunedhttp::bench
