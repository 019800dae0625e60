#pragma once
// Races an operation against a steady_timer: the one mechanism for the client's deadlines.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>

namespace tunedhttp::detail {

/// Runs `operation`; if `limit` is positive and passes first, the operation is cancelled
/// (per-operation cancellation, waited for) and the result is nullopt. The timer starts when
/// this is called, so callers record the governing trace point before calling.
/// A limit of zero or less means no limit.
template <class T>
boost::asio::awaitable<std::optional<T>> with_timeout(boost::asio::awaitable<T> operation,
                                                      std::chrono::nanoseconds limit) {
  using namespace boost::asio::experimental::awaitable_operators;
  if (limit <= std::chrono::nanoseconds::zero()) co_return co_await std::move(operation);
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, limit);
  auto result = co_await (std::move(operation) ||
                          timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
  if (result.index() == 0) co_return std::move(std::get<0>(result));
  co_return std::nullopt;
}

/// Runs `operation` until `deadline`: as with_timeout, with an absolute time.
template <class T>
boost::asio::awaitable<std::optional<T>> with_deadline(
    boost::asio::awaitable<T> operation, std::chrono::steady_clock::time_point deadline) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
  auto result = co_await (std::move(operation) ||
                          timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
  if (result.index() == 0) co_return std::move(std::get<0>(result));
  co_return std::nullopt;
}

}  // namespace tunedhttp::detail
