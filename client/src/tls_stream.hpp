#pragma once
// The client's TLS stream: OpenSSL over the connection's own TCP socket, through a BIO of ours
// that reads ciphertext from a buffer the socket fills and writes ciphertext to a buffer the
// socket drains. It replaces Asio's ssl::stream for three reasons:
// - an idle TLS connection can keep a plain socket read in flight, as a plain one does
//   (idle_read.hpp), because that read touches the socket and a byte buffer, never the SSL
//   object that the next request's write uses on another thread;
// - no fixed buffers: Asio's stream holds four 17 KiB buffers (its own two and a BIO pair) for
//   the connection's whole life, which was two thirds of an idle TLS connection's memory;
// - a request is one TLS record and one send: Asio's write_some encrypts only the first buffer
//   of a sequence, so a request head of several buffers became several records and sends.

#include <openssl/ssl.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>

namespace tunedhttp::detail {

/// A TLS client stream over a TCP socket owned by the caller. An AsyncReadStream,
/// AsyncWriteStream and SyncWriteStream (non-blocking: see write_some). One read and one write
/// may be in flight at once, from one strand, as with any Asio stream.
class TlsStream {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  using error_code = boost::system::error_code;

  /// How much ciphertext one read of the socket takes at most: a little over one full record.
  static constexpr std::size_t raw_read_size = 17 * 1024;
  /// The ciphertext buffer of an idle connection, for the read it has in flight: room for a
  /// small response's records (Go's bufio.Reader on a connection has 4 KiB). A larger response
  /// grows it for the rest of its reads.
  static constexpr std::size_t idle_raw_size = 4 * 1024;
  /// The decrypted bytes' buffer needs no more than this for a response's first read: OpenSSL
  /// keeps what does not fit for the next one.
  static constexpr std::size_t first_read_size = 4 * 1024;

  /// A client SSL object from `context` over `socket`, which must outlive this stream.
  TlsStream(boost::asio::ip::tcp::socket& socket, SSL_CTX* context);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  /// The SSL object, for settings made before the handshake (SNI, host name checks).
  SSL* native_handle() { return ssl_; }
  executor_type get_executor() { return socket_.get_executor(); }

  /// The client's side of the handshake. Cancelling it (per-operation) ends it with
  /// operation_aborted; failures are in Asio's SSL category, as Asio's stream reports them.
  boost::asio::awaitable<error_code> handshake();

  /// Decrypts into `buffer` what has already been read from the socket, without a system call.
  /// would_block when a whole record has not arrived yet; eof after the server's close_notify.
  std::size_t read_buffered(boost::asio::mutable_buffer buffer, error_code& ec);

  /// Encrypts up to 64 KiB of `buffers` (small buffers coalesced into one record) and sends the
  /// records now, without waiting (the socket is non-blocking). Returns the plaintext bytes
  /// taken. Ciphertext the socket could not take stays pending, to go first with the next
  /// asynchronous write or with flush(); meanwhile write_some takes nothing (would_block).
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, error_code& ec) {
    // Nothing more is encrypted while earlier records wait: memory stays bounded.
    if (output_pending()) {
      ec = boost::asio::error::would_block;
      return 0;
    }
    const std::size_t taken = encrypt(buffers, ec);
    if (!ec) send_now(ec);
    return ec ? 0 : taken;
  }

  /// As write_some(buffers, ec), throwing on failure (SyncWriteStream).
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    error_code ec;
    const std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  /// Whether encrypted bytes are waiting to be sent (after write_some or a read that produced a
  /// reply, such as a key update's).
  bool output_pending() const { return !out_.empty(); }

  /// Sends what is pending.
  boost::asio::awaitable<error_code> flush();

  /// Reads decrypted bytes into the first non-empty buffer of `buffers`: from what is buffered,
  /// else after reading the socket. Completes through the executor, never inside the call.
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
        ReadOp{*this, first_buffer<boost::asio::mutable_buffer>(buffers)}, token, socket_);
  }

  /// Encrypts up to 64 KiB of `buffers` and sends the records (with anything pending before
  /// them), then completes with the plaintext bytes taken.
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
        WriteOp<ConstBufferSequence>{*this, buffers}, token, socket_);
  }

  /// Where the socket's next read of ciphertext goes (up to raw_read_size); commit_raw() says
  /// how much arrived.
  boost::asio::mutable_buffer prepare_raw();
  /// As prepare_raw(), for the read an idle connection keeps in flight: the buffer is first
  /// brought down to idle_raw_size. Nothing else touches it until that read is adopted.
  boost::asio::mutable_buffer prepare_idle_raw();
  void commit_raw(std::size_t n);
  /// Whether application data was read that no read has returned yet: after a response, the
  /// server sent more than was asked for. Records already read are run through OpenSSL first:
  /// a session ticket sent right after a response often arrives with it, and is not data.
  bool has_unread();

  /// Runs the records that arrived while the connection was idle through OpenSSL. True when
  /// they were only TLS's own (TLS 1.3 session tickets, key updates): the connection can still
  /// be used. False for a close_notify, an error, or application data nobody asked for.
  bool absorb_idle_records();

 private:
  friend struct TlsBio;

  // One SSL call's outcome: done, wants more ciphertext, or failed (error set).
  enum class Progress { done, want_read, failed };

  template <class Buffer, class Sequence>
  static Buffer first_buffer(const Sequence& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (Buffer buffer(*it); buffer.size() != 0) return buffer;
    }
    return Buffer{};
  }

  template <class ConstBufferSequence>
  std::size_t encrypt(const ConstBufferSequence& buffers, error_code& ec) {
    // Small buffers (a request head's pieces) are gathered so that they go as one record.
    constexpr std::size_t limit = 64 * 1024;
    char gathered[4096];
    std::size_t gathered_size = 0;
    std::size_t taken = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && taken < limit && !ec; ++it) {
      boost::asio::const_buffer piece(*it);
      piece = boost::asio::buffer(piece, limit - taken);
      if (piece.size() == 0) continue;
      if (gathered_size + piece.size() <= sizeof gathered) {
        std::memcpy(gathered + gathered_size, piece.data(), piece.size());
        gathered_size += piece.size();
      } else {
        if (gathered_size != 0) seal(boost::asio::buffer(gathered, gathered_size), ec);
        gathered_size = 0;
        if (!ec) seal(piece, ec);
      }
      taken += piece.size();
    }
    if (!ec && gathered_size != 0) seal(boost::asio::buffer(gathered, gathered_size), ec);
    return ec ? 0 : taken;
  }

  // Encrypts all of `plaintext` into out_ (the BIO never blocks, so SSL_write takes it all).
  void seal(boost::asio::const_buffer plaintext, error_code& ec);
  // Sends what out_ holds as far as the socket takes it now.
  void send_now(error_code& ec);
  // Moves out_ into sending_ for an asynchronous write, and returns what to send.
  boost::asio::const_buffer start_sending();
  void sent() { sending_.clear(); }
  // The error for an SSL call that returned `result`.
  error_code failure(int result);
  // The error for a socket read's `ec` while OpenSSL waited for more.
  static error_code read_failure(const error_code& ec);

  struct ReadOp {
    ReadOp(TlsStream& s, boost::asio::mutable_buffer b) : stream(s), buffer(b) {}
    TlsStream& stream;
    boost::asio::mutable_buffer buffer;
    enum class State { starting, reading, posted } state = State::starting;
    error_code result;
    std::size_t bytes = 0;

    template <class Self>
    void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
      if (state == State::posted) return self.complete(result, bytes);
      if (state == State::reading) {
        if (ec) return self.complete(read_failure(ec), 0);
        stream.commit_raw(n);
      }
      bytes = stream.read_buffered(buffer, result);
      if (result == boost::asio::error::would_block) {
        state = State::reading;
        stream.socket_.async_read_some(stream.prepare_raw(), std::move(self));
        return;
      }
      if (state == State::reading) return self.complete(result, bytes);
      // Nothing was awaited yet: the completion must not run inside the initiating call.
      state = State::posted;
      boost::asio::post(stream.socket_.get_executor(), std::move(self));
    }
  };

  template <class ConstBufferSequence>
  struct WriteOp {
    WriteOp(TlsStream& s, const ConstBufferSequence& b) : stream(s), buffers(b) {}
    TlsStream& stream;
    ConstBufferSequence buffers;
    enum class State { starting, sending, posted } state = State::starting;
    std::size_t taken = 0;
    error_code result;

    template <class Self>
    void operator()(Self& self, error_code ec = {}, std::size_t = 0) {
      switch (state) {
        case State::starting:
          taken = stream.encrypt(buffers, result);
          if (result) {
            // Failed before anything was awaited: not completed inside the initiating call.
            state = State::posted;
            boost::asio::post(stream.socket_.get_executor(), std::move(self));
            return;
          }
          state = State::sending;
          boost::asio::async_write(stream.socket_, stream.start_sending(), std::move(self));
          return;
        case State::sending:
          stream.sent();
          return self.complete(ec, ec ? 0 : taken);
        case State::posted:
          return self.complete(result, 0);
      }
    }
  };

  boost::asio::ip::tcp::socket& socket_;
  SSL* ssl_ = nullptr;
  // Moves the unread ciphertext to the front of a buffer of `capacity` bytes.
  void reshape_raw(std::size_t capacity);

  // Ciphertext read from the socket and not yet taken by OpenSSL: in_[in_begin_, in_end_).
  std::unique_ptr<char[]> in_;
  std::size_t in_capacity_ = 0;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  // Ciphertext OpenSSL wrote and nobody has sent yet.
  std::string out_;
  // Ciphertext an asynchronous write is sending (out_ keeps collecting meanwhile).
  std::string sending_;
};

}  // namespace tunedhttp::detail
