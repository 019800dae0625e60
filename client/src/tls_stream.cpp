#include "tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <climits>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <tuple>

namespace tunedhttp::detail {

namespace asio = boost::asio;
using boost::system::error_code;

// The BIO between OpenSSL and a TlsStream's two buffers. Reading takes what the socket put in
// in_ (and asks to be retried when it is empty); writing appends to out_ and always succeeds.
struct TlsBio {
  static const BIO_METHOD* method() {
    static const BIO_METHOD* const made = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tunedhttp");
      if (m == nullptr) throw std::bad_alloc();
      BIO_meth_set_read_ex(m, &read);
      BIO_meth_set_write_ex(m, &write);
      BIO_meth_set_ctrl(m, &control);
      BIO_meth_set_create(m, [](BIO* bio) {
        BIO_set_init(bio, 1);
        return 1;
      });
      return m;
    }();
    return made;
  }

  static TlsStream& stream_of(BIO* bio) { return *static_cast<TlsStream*>(BIO_get_data(bio)); }

  static int read(BIO* bio, char* data, std::size_t size, std::size_t* read_bytes) {
    TlsStream& stream = stream_of(bio);
    BIO_clear_retry_flags(bio);
    const std::size_t available = stream.in_end_ - stream.in_begin_;
    if (available == 0) {
      BIO_set_retry_read(bio);
      *read_bytes = 0;
      return 0;
    }
    const std::size_t n = std::min(size, available);
    std::memcpy(data, stream.in_.get() + stream.in_begin_, n);
    stream.in_begin_ += n;
    if (stream.in_begin_ == stream.in_end_) stream.in_begin_ = stream.in_end_ = 0;
    *read_bytes = n;
    return 1;
  }

  static int write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
    BIO_clear_retry_flags(bio);
    stream_of(bio).out_.append(data, size);
    *written = size;
    return 1;
  }

  static long control(BIO*, int command, long, void*) {
    // A flush has nothing to do: the stream sends out_ itself. Nothing else is supported.
    return command == BIO_CTRL_FLUSH ? 1 : 0;
  }
};

TlsStream::TlsStream(asio::ip::tcp::socket& socket, SSL_CTX* context)
    : socket_(socket), ssl_(SSL_new(context)) {
  if (ssl_ == nullptr) throw std::bad_alloc();
  BIO* bio = BIO_new(TlsBio::method());
  if (bio == nullptr) {
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways; SSL_free frees it
  SSL_set_connect_state(ssl_);
  // As Go's default (tls.RenegotiateNever): a server's HelloRequest is refused.
  SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

void TlsStream::reshape_raw(std::size_t capacity) {
  const std::size_t unread = in_end_ - in_begin_;
  if (capacity != in_capacity_) {
    auto resized = std::make_unique_for_overwrite<char[]>(capacity);
    if (unread != 0) std::memcpy(resized.get(), in_.get() + in_begin_, unread);
    in_ = std::move(resized);
    in_capacity_ = capacity;
  } else if (in_begin_ != 0 && unread != 0) {
    std::memmove(in_.get(), in_.get() + in_begin_, unread);
  }
  in_begin_ = 0;
  in_end_ = unread;
}

asio::mutable_buffer TlsStream::prepare_raw() {
  if (in_capacity_ < raw_read_size || in_begin_ != 0) {
    reshape_raw(std::max(in_capacity_, raw_read_size));
  }
  return asio::buffer(in_.get() + in_end_, in_capacity_ - in_end_);
}

asio::mutable_buffer TlsStream::prepare_idle_raw() {
  const std::size_t wanted = std::max(idle_raw_size, in_end_ - in_begin_ + 512);
  if (in_capacity_ != wanted || in_begin_ != 0) reshape_raw(wanted);
  return asio::buffer(in_.get() + in_end_, in_capacity_ - in_end_);
}

void TlsStream::commit_raw(std::size_t n) { in_end_ += n; }

namespace {

// SSL_get_error needs an empty error queue before the call it judges. Emptying it costs a walk
// of all its slots; looking whether anything is queued is one read, and a failure drains it.
void clear_errors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

}  // namespace

error_code TlsStream::failure(int result) {
  const int kind = SSL_get_error(ssl_, result);
  if (kind == SSL_ERROR_ZERO_RETURN) return asio::error::eof;
  const unsigned long queued = ERR_get_error();
  ERR_clear_error();  // the rest of this failure's queue
  // OpenSSL 3 reports a socket EOF inside a record as this reason; Asio's stream names it so.
  if (queued == 0 || ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    return asio::ssl::error::stream_truncated;
  }
  return error_code(static_cast<int>(queued), asio::error::get_ssl_category());
}

error_code TlsStream::read_failure(const error_code& ec) {
  // The socket ended where OpenSSL expected more: no close_notify came first.
  if (ec == asio::error::eof) return asio::ssl::error::stream_truncated;
  return ec;
}

std::size_t TlsStream::read_buffered(asio::mutable_buffer buffer, error_code& ec) {
  ec = {};
  if (buffer.size() == 0) return 0;
  clear_errors();
  std::size_t n = 0;
  const int result = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &n);
  if (result == 1) return n;
  if (SSL_get_error(ssl_, result) == SSL_ERROR_WANT_READ) {
    ec = asio::error::would_block;
    return 0;
  }
  ec = failure(result);
  return 0;
}

void TlsStream::seal(asio::const_buffer plaintext, error_code& ec) {
  clear_errors();
  std::size_t n = 0;
  const int result = SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &n);
  if (result != 1) ec = failure(result);
}

void TlsStream::send_now(error_code& ec) {
  const std::size_t n = socket_.write_some(asio::buffer(out_), ec);
  out_.erase(0, n);
  // What the socket could not take now stays pending for flush().
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
}

asio::const_buffer TlsStream::start_sending() {
  sending_.swap(out_);
  return asio::buffer(sending_);
}

asio::awaitable<error_code> TlsStream::flush() {
  if (out_.empty()) co_return error_code{};
  auto [ec, n] =
      co_await asio::async_write(socket_, start_sending(), asio::as_tuple(asio::use_awaitable));
  sent();
  co_return ec;
}

asio::awaitable<error_code> TlsStream::handshake() {
  for (;;) {
    clear_errors();
    const int result = SSL_do_handshake(ssl_);
    const error_code failed = result == 1 || SSL_get_error(ssl_, result) == SSL_ERROR_WANT_READ
                                  ? error_code{}
                                  : failure(result);
    // What OpenSSL wrote goes first: the next flight, or the alert that explains a failure.
    const error_code flushed = co_await flush();
    if (failed) co_return failed;
    if (flushed) co_return flushed;
    if (result == 1) co_return error_code{};
    auto [ec, n] =
        co_await socket_.async_read_some(prepare_raw(), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return read_failure(ec);
    commit_raw(n);
  }
}

bool TlsStream::has_unread() {
  if (SSL_pending(ssl_) > 0) return true;
  return in_begin_ != in_end_ && !absorb_idle_records();
}

bool TlsStream::absorb_idle_records() {
  clear_errors();
  char byte = 0;
  std::size_t n = 0;
  // Peeked, not read: application data here is unsolicited either way, and the caller closes.
  const int result = SSL_peek_ex(ssl_, &byte, 1, &n);
  return result != 1 && SSL_get_error(ssl_, result) == SSL_ERROR_WANT_READ;
}

}  // namespace tunedhttp::detail
