#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <tunedhttp/serial_executor.hpp>
#include <type_traits>

namespace tunedhttp {

namespace asio = boost::asio;

namespace {

// Calls `visit` with `executor`'s target when it is one of the kinds this file knows (an
// io_context's executor, or a strand over one or over any executor); false for any other.
template <class Visit>
bool visit_known(const asio::any_io_executor& executor, Visit visit) {
  if (const auto* strand = executor.target<asio::strand<asio::io_context::executor_type>>()) {
    return visit(*strand);
  }
  if (const auto* strand = executor.target<asio::strand<asio::any_io_executor>>()) {
    return visit(*strand);
  }
  if (const auto* io = executor.target<asio::io_context::executor_type>()) return visit(*io);
  return false;
}

}  // namespace

bool is_serial(const asio::any_io_executor& executor) {
  return visit_known(executor, [](const auto& known) {
    if constexpr (std::is_same_v<std::decay_t<decltype(known)>, asio::io_context::executor_type>) {
      // Asio's own test for "one thread" (the scheduler's one_thread_): hint 1, or a hint that
      // turns off the scheduler's or the reactor I/O's locking, which both require it.
      const int hint =
          asio::use_service<asio::detail::scheduler>(known.context()).concurrency_hint();
      return hint == 1 || !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint) ||
             !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(REACTOR_IO, hint);
    } else {
      return true;  // a strand
    }
  });
}

bool running_in_this_thread(const asio::any_io_executor& executor) {
  return visit_known(executor, [](const auto& known) { return known.running_in_this_thread(); });
}

asio::any_io_executor serial_executor(const asio::any_io_executor& executor) {
  if (is_serial(executor)) return executor;
  return asio::make_strand(executor);
}

}  // namespace tunedhttp
