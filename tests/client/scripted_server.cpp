#include "scripted_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tunedhttp::testing {
namespace {

int poll_timeout_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

int listen_on_loopback(int backlog, unsigned short& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, backlog) != 0) {
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return fd;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Peer::Peer(int fd, ssl_st* tls) : fd_(fd), tls_(tls) {}

Peer::~Peer() {
  if (tls_) SSL_free(tls_);
}

long Peer::read_some(char* data, std::size_t size, Clock::time_point deadline) {
  if (tls_ && SSL_pending(tls_) > 0) return SSL_read(tls_, data, static_cast<int>(size));
  pollfd waiting{fd_, POLLIN, 0};
  if (::poll(&waiting, 1, poll_timeout_ms(deadline)) <= 0) return -1;
  if (tls_) {
    const int n = SSL_read(tls_, data, static_cast<int>(size));
    return n > 0 ? n : 0;
  }
  return ::recv(fd_, data, size, 0);
}

std::string Peer::read_headers(Clock::time_point deadline) {
  char chunk[4096];
  for (;;) {
    if (const auto end = pending_.find("\r\n\r\n"); end != std::string::npos) {
      std::string headers = pending_.substr(0, end + 4);
      pending_.erase(0, end + 4);
      return headers;
    }
    const long n = read_some(chunk, sizeof chunk, deadline);
    if (n <= 0) return {};
    pending_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string Peer::read_exactly(std::size_t n, Clock::time_point deadline) {
  char chunk[4096];
  while (pending_.size() < n) {
    const long got = read_some(chunk, sizeof chunk, deadline);
    if (got <= 0) break;
    pending_.append(chunk, static_cast<std::size_t>(got));
  }
  std::string out = pending_.substr(0, n);
  pending_.erase(0, out.size());
  return out;
}

std::optional<Clock::time_point> Peer::wait_readable(Clock::time_point deadline) {
  if (!pending_.empty()) return Clock::now();
  pollfd waiting{fd_, POLLIN, 0};
  if (::poll(&waiting, 1, poll_timeout_ms(deadline)) <= 0) return std::nullopt;
  return Clock::now();
}

bool Peer::wait_eof(Clock::time_point deadline) {
  char chunk[4096];
  for (;;) {
    pollfd waiting{fd_, POLLIN, 0};
    if (::poll(&waiting, 1, poll_timeout_ms(deadline)) <= 0) return false;
    const long n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return true;
  }
}

void Peer::write(const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const long n = tls_ ? SSL_write(tls_, data.data() + done, static_cast<int>(data.size() - done))
                        : ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

void Peer::close() { ::shutdown(fd_, SHUT_RDWR); }

void Peer::send_session_ticket() {
  // Queued by SSL_new_session_ticket and written by the handshake call (OpenSSL 3).
  if (tls_ && SSL_new_session_ticket(tls_) == 1) SSL_do_handshake(tls_);
}

void Peer::write_raw(const std::string& data) {
  ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
}

void Peer::send_close_notify() {
  if (tls_) SSL_shutdown(tls_);
}

const TlsMaterial& localhost_material() {
  static const TlsMaterial material = TlsMaterial::make("DNS:localhost,IP:127.0.0.1");
  return material;
}

TlsMaterial TlsMaterial::make(const std::string& subject_alt_names) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tunedhttp-test-" + std::to_string(::getpid()) + "-" +
                    std::to_string(Clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=tunedhttp-test -addext subjectAltName=" +
      subject_alt_names + " -keyout " + (dir / "key.pem").string() + " -out " +
      (dir / "cert.pem").string() + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
  TlsMaterial material{read_file(dir / "cert.pem"), read_file(dir / "key.pem")};
  std::filesystem::remove_all(dir);
  return material;
}

ScriptedServer::ScriptedServer(Script script, std::optional<TlsMaterial> tls)
    : script_(std::move(script)) {
  if (tls) {
    // OpenSSL writes through write(2), which raises SIGPIPE on a connection the client closed
    // (a TLS 1.3 server writes its session tickets at its first read): a server ignores it.
    std::signal(SIGPIPE, SIG_IGN);
    tls_context_ = SSL_CTX_new(TLS_server_method());
    BIO* cert_bio =
        BIO_new_mem_buf(tls->certificate_pem.data(), static_cast<int>(tls->certificate_pem.size()));
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    BIO* key_bio = BIO_new_mem_buf(tls->key_pem.data(), static_cast<int>(tls->key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    SSL_CTX_use_certificate(tls_context_, cert);
    SSL_CTX_use_PrivateKey(tls_context_, key);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(cert_bio);
    BIO_free(key_bio);
  }
  listener_ = listen_on_loopback(64, port_);
  acceptor_ = std::thread([this] { accept_loop(); });
}

ScriptedServer::~ScriptedServer() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  {
    std::lock_guard lock(peers_mutex_);
    for (int fd : peer_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& thread : peer_threads_) thread.join();
  for (int fd : peer_fds_) ::close(fd);
  if (tls_context_) SSL_CTX_free(tls_context_);
}

std::string ScriptedServer::url(const std::string& path) const {
  return std::string(tls_context_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
         path;
}

void ScriptedServer::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    // As Go's and nginx's servers: a response is not held back by Nagle behind the TLS session
    // tickets written just before it, waiting for the client's delayed ACK.
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    ++accepted_;
    std::lock_guard lock(peers_mutex_);
    peer_fds_.push_back(fd);
    peer_threads_.emplace_back([this, fd] {
      ssl_st* tls = nullptr;
      if (tls_context_) {
        tls = SSL_new(tls_context_);
        SSL_set_fd(tls, fd);
        if (SSL_accept(tls) != 1) {
          SSL_free(tls);
          ::shutdown(fd, SHUT_RDWR);
          return;
        }
      }
      Peer peer(fd, tls);
      script_(peer);
      ::shutdown(fd, SHUT_RDWR);
    });
  }
}

StalledListener::StalledListener() {
  listener_ = listen_on_loopback(0, port_);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port_);
  // Linux queues backlog + 1 connections; two fillers make sure the queue is full, then SYNs
  // from anyone else are dropped. The first filler's completed connect proves the queue took it.
  for (int i = 0; i < 2; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    fillers_.push_back(fd);
  }
  pollfd first{fillers_.front(), POLLOUT, 0};
  ::poll(&first, 1, 2000);
}

StalledListener::~StalledListener() {
  for (int fd : fillers_) ::close(fd);
  ::close(listener_);
}

SilentServer::SilentServer() {
  server_ = std::make_unique<ScriptedServer>([](Peer& peer) {
    // Wait for the client to give up (EOF), so its handshake timer is what ends it.
    peer.wait_eof(Clock::now() + std::chrono::seconds(10));
  });
}

SilentServer::~SilentServer() = default;

int open_fd_count() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

std::string ok_response(const std::string& body, const std::string& extra_headers) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

}  // namespace tunedhttp::testing
