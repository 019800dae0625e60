#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <tunedhttp/serial_executor.hpp>

namespace tunedhttp {

namespace asio = boost::asio;

bool is_serial(const asio::any_io_executor& executor) {
  if (executor.target<asio::strand<asio::io_context::executor_type>>() != nullptr ||
      executor.target<asio::strand<asio::any_io_executor>>() != nullptr) {
    return true;
  }
  if (const auto* io = executor.target<asio::io_context::executor_type>()) {
    return asio::use_service<asio::detail::scheduler>(io->context()).concurrency_hint() == 1;
  }
  return false;
}

bool running_in_this_thread(const asio::any_io_executor& executor) {
  if (const auto* io = executor.target<asio::io_context::executor_type>()) {
    return io->running_in_this_thread();
  }
  if (const auto* strand = executor.target<asio::strand<asio::io_context::executor_type>>()) {
    return strand->running_in_this_thread();
  }
  if (const auto* strand = executor.target<asio::strand<asio::any_io_executor>>()) {
    return strand->running_in_this_thread();
  }
  return false;
}

asio::any_io_executor serial_executor(const asio::any_io_executor& executor) {
  if (is_serial(executor)) return executor;
  return asio::make_strand(executor);
}

}  // namespace tunedhttp
