#pragma once
// The write side of an exchange whose request has a body, as a machine without I/O. Go's
// writeLoop and readLoop run side by side: the body is written while the response is already
// being read, and what the end of one means for the other is decided here. The exchange
// (exchange.cpp) tells the machine what happened and carries out the step it returns; the
// timers are the exchange's, the machine only hears whether a wait ended in time.

#include <boost/system/error_code.hpp>
#include <tunedhttp/error.hpp>

namespace tunedhttp::detail {

/// What the exchange does next.
enum class BodyStep {
  wait_for_continue,  ///< up to expect_continue for `100 Continue` (or the reader's end)
  write_body,         ///< start the body writer beside the reader, then wait_for_progress
  wait_for_progress,  ///< until the first of: the body written, the reader's end
  wait_for_headers,   ///< the body is written: up to response_header for the reader's end
  stop_reader,        ///< close the connection, wait for the reader to end, then finish
  finish,             ///< the exchange's result is error()
};

/// One request body's exchange: Expect: 100-continue, an early final response, a failed write.
class BodyExchange {
 public:
  /// `waits_for_continue`: the headers went first, with `Expect: 100-continue`, and the body
  /// waits for `100 Continue` (waits_for_continue() in exchange_rules.hpp).
  explicit BodyExchange(bool waits_for_continue) : waits_for_continue_(waits_for_continue) {}

  /// The first step, once the reader runs: wait for `100 Continue`, or write the body now.
  BodyStep start() const {
    return waits_for_continue_ ? BodyStep::wait_for_continue : BodyStep::write_body;
  }

  /// The reader ended: the final response's headers are in (`read_error` empty) or it failed.
  void reader_done(boost::system::error_code read_error) {
    reader_done_ = true;
    read_error_ = read_error;
  }

  /// The body writer ended (`write_error` empty: the whole body went). Go's rule: a response
  /// that came before the request was fully written leaves the connection in an unknown state
  /// (the server may not read the rest), so it is decided here, the moment the write ends.
  void body_done(boost::system::error_code write_error) {
    body_done_ = true;
    write_error_ = write_error;
    if (reader_done_) answered_early_ = true;
  }

  /// The wait for `100 Continue` ended: a `100 Continue`, expect_continue passing (Go then
  /// sends the body anyway), or the reader's end. A final status (or an error) before
  /// `100 Continue` means the body is not sent, and since the server may or may not read it,
  /// the connection cannot be trusted to be in sync.
  BodyStep continue_wait_ended() {
    if (!reader_done_) return BodyStep::write_body;
    body_skipped_ = true;
    return finish(read_error_);
  }

  /// The body writer started; the exchange waits for progress.
  BodyStep body_started() const { return BodyStep::wait_for_progress; }

  /// The wait for progress ended. The final response (or a read error) while the body is still
  /// being written, as when a server answers 413 and stops reading: like Go, hand the response
  /// over now rather than wait on a write that may never finish; the writer is stopped when the
  /// response is read, and the connection is not reused.
  BodyStep progress() {
    if (!body_done_) {
      answered_early_ = true;
      return finish(read_error_);
    }
    if (write_error_) return stop_reader(write_error_);
    return BodyStep::wait_for_headers;
  }

  /// The wait for the final headers (response_header, armed when the body was written) ended,
  /// `in_time` or not.
  BodyStep header_wait_ended(bool in_time) {
    if (!in_time) return stop_reader(boost::system::error_code{errc::response_header_timeout});
    return finish(read_error_);
  }

  /// The exchange's error, once the step is finish (or after stop_reader).
  boost::system::error_code error() const { return error_; }
  /// A final status came before `100 Continue`: the body was not sent.
  bool body_skipped() const { return body_skipped_; }
  /// The response came before the body was fully written.
  bool answered_early() const { return answered_early_; }

 private:
  BodyStep finish(boost::system::error_code error) {
    error_ = error;
    return BodyStep::finish;
  }
  BodyStep stop_reader(boost::system::error_code error) {
    error_ = error;
    return BodyStep::stop_reader;
  }

  const bool waits_for_continue_;
  bool reader_done_ = false;
  bool body_done_ = false;
  boost::system::error_code read_error_;
  boost::system::error_code write_error_;
  boost::system::error_code error_;
  bool body_skipped_ = false;
  bool answered_early_ = false;
};

}  // namespace tunedhttp::detail
