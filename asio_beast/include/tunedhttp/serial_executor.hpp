#pragma once
// Running handlers one at a time without paying for a strand when the executor already does:
// shared by the client (a request's coroutines) and the mock server (its accepts and
// connections).

#include <boost/asio/any_io_executor.hpp>

namespace tunedhttp {

/// Whether handlers on `executor` never run at the same time: a strand, or an io_context told it
/// runs on one thread (concurrency hint 1, as `tunedhttp serve`'s, or a hint without the
/// scheduler's or the reactor I/O's locking, such as BlockingClient's
/// BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO: Asio requires one thread at a time for those).
bool is_serial(const boost::asio::any_io_executor& executor);

/// Whether the calling thread is running a handler of `executor` (one of the serial kinds
/// is_serial() knows): work started here runs in line with the executor's handlers. False for
/// any other executor.
bool running_in_this_thread(const boost::asio::any_io_executor& executor);

/// `executor` itself when it is serial, otherwise a new strand over it. A strand on a serial
/// executor would only add its allocation, its lock and a dispatch to every handler.
boost::asio::any_io_executor serial_executor(const boost::asio::any_io_executor& executor);

}  // namespace tunedhttp
