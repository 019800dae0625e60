#pragma once
// One client connection: a TCP socket, optionally wrapped in TLS, and its read buffer.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "idle_read.hpp"
#include "tls_stream.hpp"

namespace tunedhttp::detail {

/// The size of the first read of a plain response (timed as its first byte), and of the read an
/// idle plain connection has in flight, which the next request adopts as that first read.
constexpr std::size_t first_read_size = 16 * 1024;

/// A connection owned by one request at a time, or by the idle pool in between.
struct Connection {
  explicit Connection(const boost::asio::any_io_executor& executor)
      : socket(executor), idle_timer(executor) {}
  /// Closed first: the members are destroyed before the socket, and a read in flight (the idle
  /// read) must be gone from the reactor before its buffer (`buffer`, or the TLS stream's) is.
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Closes the socket, ignoring errors: closing is best effort and always final.
  void close() {
    boost::system::error_code ignored;
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  /// Whether bytes were read past the last response: the connection is then not reused. Not a
  /// pure query over TLS: records already read are run through OpenSSL first, so that a session
  /// ticket that came with the response is absorbed rather than counted. Called once per
  /// response, while the connection is still the request's.
  bool has_unread() { return buffer.size() != 0 || (tls && tls->has_unread()); }

  /// Shapes the read buffers for the read an idle connection keeps in flight, giving back what
  /// it does not need. A plain connection reads into `buffer` and keeps first_read_size of it
  /// (the next response's first read is this one); a larger response's buffer goes back. A TLS
  /// connection reads ciphertext into its stream's buffer (brought down to its idle size), and
  /// keeps no `buffer` at all. Called as the connection goes back to the pool, before the pool's
  /// lock is taken, so that freeing and allocating happen outside it.
  void ready_for_idle() {
    const std::size_t kept = tls ? 0 : first_read_size;
    if (buffer.capacity() > kept) buffer.shrink_to_fit();
    (void)idle_read_buffer();
  }

  /// Where the read an idle connection keeps in flight goes. After ready_for_idle(), nothing is
  /// allocated here.
  boost::asio::mutable_buffer idle_read_buffer() {
    if (tls) return tls->prepare_idle_raw();
    return buffer.prepare(first_read_size);
  }

  std::uint64_t id = 0;
  std::string key;  ///< pool key: scheme://host:port
  /// The socket read in flight while the connection is idle, adopted by the request that takes
  /// it: into `buffer` (plain), or into the TLS stream's ciphertext buffer.
  IdleRead idle_read;
  boost::asio::ip::tcp::socket socket;
  std::unique_ptr<TlsStream> tls;
  /// Response bytes read (decrypted, for TLS) and not yet parsed.
  boost::beast::flat_buffer buffer;
  /// The head of a request without a body, formatted here (format_request_head) and written
  /// from here: kept for the next request, and alive while a write of it is in flight.
  std::string head;

  /// The idle pool's timer for this connection, guarded by the pool's mutex. It outlives a
  /// take (its handler ignores a connection in use) and is cancelled only when the connection
  /// is closed.
  boost::asio::steady_timer idle_timer;
  bool idle_timer_armed = false;  ///< the idle timer is pending
  bool reused = false;            ///< the current request took it from the pool
};

}  // namespace tunedhttp::detail
