#pragma once
// A streamed response body (BodyReader's inside): the connection, the reader fed from it, and
// what decides, at the end of the body, whether the connection goes back to the pool.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tunedhttp/client.hpp>
#include <tuple>

#include "body_pace.hpp"
#include "connection.hpp"
#include "exchange_rules.hpp"
#include "idle_conn_pool.hpp"
#include "response_reader.hpp"
#include "tracer.hpp"

namespace tunedhttp::detail {

/// Puts `connection` back into the pool when `reusable` (else closes it), and records
/// put_idle_conn with the reason it was not kept, if any. The end of every successful exchange.
void give_back(IdleConnPool& pool, const std::shared_ptr<Connection>& connection, bool reusable,
               Tracer& tracer);

/// One streamed body. Lives as long as its BodyReader and any read in flight; every member is
/// touched only on `strand`.
struct BodyStream {
  BodyStream(boost::asio::any_io_executor strand_in, std::shared_ptr<const void> owner_in,
             std::shared_ptr<IdleConnPool> pool_in, const ClientOptions& options_in)
      : strand(std::move(strand_in)),
        owner(std::move(owner_in)),
        pool(std::move(pool_in)),
        options(options_in) {}

  /// Reads some of the body into `buffer` (see BodyReader::async_read_some).
  boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(
      boost::asio::mutable_buffer buffer);
  /// The caller is done with the body: closes the connection unless it was read to the end.
  void close();

  boost::asio::any_io_executor strand;
  std::shared_ptr<const void> owner;  ///< keeps the client's options and trace hook alive
  std::shared_ptr<IdleConnPool> pool;
  const ClientOptions& options;
  std::shared_ptr<Connection> connection;  ///< null once given back or closed
  std::optional<StreamingResponseReader> reader;
  std::optional<Tracer> tracer;
  std::optional<BodyPace> pace;  ///< body_read_idle and low_speed, from the headers on
  ReuseFacts facts;              ///< the exchange's part; the reader's is added at the end
  std::string piece;             ///< body bytes parsed and not yet handed to the caller
  std::size_t piece_used = 0;
  std::uint64_t bytes_read = 0;
  bool finished = false;              ///< read to the end
  boost::system::error_code failure;  ///< sticky: every later read fails with it

 private:
  void finish();
  void fail(boost::system::error_code error);
};

}  // namespace tunedhttp::detail
