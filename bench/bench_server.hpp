#pragma once
// A small, fast HTTP/1.1 server for the benchmarks: one thread, one io_context, a fixed response
// to every request, plain or TLS. No faults and no event log, so that its cost per request stays
// as low as possible and does not grow with the number of requests served.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tunedhttp::bench {

/// The response every request gets (keep-alive, 13-byte body).
inline constexpr std::string_view fixed_response =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n";

/// A self-signed certificate (ECDSA P-256) for 127.0.0.1 and localhost, made in memory.
struct Certificate {
  std::string certificate_pem;
  std::string key_pem;
};
Certificate make_certificate();

/// Runs on its own thread from construction to destruction. Answers every request (up to the
/// empty line; request bodies are not expected) with `fixed_response`; pipelining works.
class BenchServer {
 public:
  /// Binds 127.0.0.1 on an ephemeral port and starts the thread. With `tls`, makes a
  /// certificate first.
  explicit BenchServer(bool tls);
  ~BenchServer();
  BenchServer(const BenchServer&) = delete;
  BenchServer& operator=(const BenchServer&) = delete;

  unsigned short port() const;
  /// "http://127.0.0.1:PORT/" or "https://127.0.0.1:PORT/".
  std::string base_url() const;
  /// The certificate to trust (TLS only; empty otherwise).
  const std::string& ca_pem() const;
  /// Connections accepted so far (all threads may read it).
  std::uint64_t accepted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// `bench --serve plain|tls` in a child process: prints the port on the first line, then (TLS)
/// the certificate PEM, then "READY", and serves until stdin closes.
int serve_until_stdin_closes(bool tls);

}  // namespace tunedhttp::bench
