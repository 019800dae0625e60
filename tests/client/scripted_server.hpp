#pragma once
// Small blocking servers for the client's tests: each accepted connection runs a script on its
// own thread with plain POSIX sockets (optionally TLS through OpenSSL), so a test can misbehave
// exactly as a broken server would, without the mock server library.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using ssl_st = struct ssl_st;
using ssl_ctx_st = struct ssl_ctx_st;

namespace tunedhttp::testing {

using Clock = std::chrono::steady_clock;

/// One accepted connection as a script sees it. Every read takes a deadline and never blocks
/// past it; all reads and writes go through TLS when the server is a TLS one.
class Peer {
 public:
  Peer(int fd, ssl_st* tls);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  /// Reads up to and including the blank line that ends a request's headers. Empty on EOF or
  /// deadline.
  std::string read_headers(Clock::time_point deadline);
  /// Reads exactly `n` bytes (fewer on EOF or deadline).
  std::string read_exactly(std::size_t n, Clock::time_point deadline);
  /// Waits until the client sends something or closes; returns the time it did, or nullopt.
  std::optional<Clock::time_point> wait_readable(Clock::time_point deadline);
  /// True when the client closed its side (read returns EOF) before the deadline.
  bool wait_eof(Clock::time_point deadline);
  /// Writes all of `data`.
  void write(const std::string& data);
  /// Closes the connection now.
  void close();
  /// TLS 1.3 only: sends a new session ticket now, unasked, as servers do after a handshake.
  void send_session_ticket();
  /// TLS only: sends close_notify, and leaves the TCP connection open.
  void send_close_notify();
  /// Writes `data` to the socket itself, past TLS: what a broken or hostile TLS server sends.
  void write_raw(const std::string& data);
  /// Bytes already read past the last read_headers(), e.g. the start of a body.
  std::string& pending() { return pending_; }

 private:
  long read_some(char* data, std::size_t size, Clock::time_point deadline);
  int fd_;
  ssl_st* tls_;
  std::string pending_;
};

/// Certificate and key made for a test with the openssl command, valid for `names`.
struct TlsMaterial {
  std::string certificate_pem;
  std::string key_pem;
  /// Self-signed, so the certificate is its own CA: give `certificate_pem` to the client.
  static TlsMaterial make(const std::string& subject_alt_names);
};

/// A certificate for "localhost" and 127.0.0.1, made once per test binary.
const TlsMaterial& localhost_material();

/// A server on 127.0.0.1:ephemeral that runs `script` for each accepted connection.
class ScriptedServer {
 public:
  using Script = std::function<void(Peer&)>;

  /// A plain server. With `tls`, connections are TLS with that certificate and key, the
  /// handshake done before the script runs.
  explicit ScriptedServer(Script script, std::optional<TlsMaterial> tls = std::nullopt);
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  unsigned short port() const { return port_; }
  /// "http://127.0.0.1:PORT/path" (https for TLS).
  std::string url(const std::string& path = "/") const;
  /// Connections accepted so far.
  int accepted() const { return accepted_.load(); }

 private:
  void accept_loop();
  Script script_;
  ssl_ctx_st* tls_context_ = nullptr;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex peers_mutex_;
  std::vector<int> peer_fds_;
  std::vector<std::thread> peer_threads_;
};

/// A listener whose accept queue is full (backlog 0, filled by our own connections), so the
/// kernel drops further SYNs and a client's connect stays pending.
class StalledListener {
 public:
  StalledListener();
  ~StalledListener();
  unsigned short port() const { return port_; }

 private:
  int listener_ = -1;
  unsigned short port_ = 0;
  std::vector<int> fillers_;
};

/// A listener that accepts TCP connections and then never reads or writes (a TLS handshake
/// with it never completes).
class SilentServer {
 public:
  SilentServer();
  ~SilentServer();
  unsigned short port() const { return server_->port(); }

 private:
  std::unique_ptr<ScriptedServer> server_;
};

/// The number of open file descriptors of this process.
int open_fd_count();

/// A plain "HTTP/1.1 200 OK" response with this body and Content-Length.
std::string ok_response(const std::string& body = "ok", const std::string& extra_headers = "");

}  // namespace tunedhttp::testing
