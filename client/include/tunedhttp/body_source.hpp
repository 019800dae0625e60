#pragma once
// A request body that is read as it is written (a file, a callback), never held whole.

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <functional>
#include <string>

namespace tunedhttp {

/// A request body produced piece by piece while the request is written. The request goes out
/// with `Content-Length: size`; the client reads the source into a buffer of its own and writes
/// each piece under `request_write_idle` (and `expect_continue`, as for any body).
///
/// Retries follow Go's GetBody rule: a request that failed on a reused connection may be sent
/// again (Client::async_request's rule) only if its source was not read yet, or `rewind`
/// starts it again from its first byte. Without `rewind`, a request whose body was started is
/// never replayed.
struct BodySource {
  /// Fills `buffer` with the next bytes of the body and returns how many; 0 only at the end.
  /// An error in `ec` ends the request with that error (its connection closed). Called on the
  /// request's strand, one call at a time; must not block for long.
  std::function<std::size_t(boost::asio::mutable_buffer buffer, boost::system::error_code& ec)>
      read;
  /// Go's Request.GetBody: starts the body again from its first byte; false when it cannot.
  /// Empty: the body cannot be sent twice.
  std::function<bool()> rewind;
  /// The body's length in bytes, sent as Content-Length; read() must produce exactly this many.
  std::uint64_t size = 0;
};

/// A body read from the file at `path`, its size taken when it is opened, rewindable (it reads
/// the file again from the start). Sets `ec` (and returns an empty source) when the file cannot
/// be opened or is not a regular file.
BodySource file_body(const std::string& path, boost::system::error_code& ec);

}  // namespace tunedhttp
