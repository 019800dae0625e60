// The client's response handling: the fuzz input is written, as the whole response, by an
// in-process peer on a loopback listener, which then closes. One request per input: a GET, a PUT
// with a body, or a PUT with `Expect: 100-continue` (chosen by the input's size, so every input
// stays a plain response); the client must end with a response or a clear error, never crash,
// hang or leak. The PUTs exercise the reader that runs beside the body writer, and responses
// that come before the body is written. One listener and io_context
// serve every input; one Client too, whose idle connections are closed after each input, so no
// connection is shared between inputs.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <tunedhttp/client.hpp>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

struct Harness {
  asio::io_context context;
  tcp::acceptor acceptor{context, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  std::string response;  // what every connection accepted now is answered with
  int serving = 0;       // connections being answered
  std::string url;

  Harness() {
    url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/fuzz";
    asio::co_spawn(context, accept_loop(), asio::detached);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) continue;
      ++serving;
      asio::co_spawn(context, serve(std::move(socket)), asio::detached);
    }
  }

  // Reads the request's headers, writes the input, closes (unread body bytes make that a reset).
  asio::awaitable<void> serve(tcp::socket socket) {
    std::string request;
    auto [read_error, n] = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(request), "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (!read_error) {
      auto [write_error, written] = co_await asio::async_write(socket, asio::buffer(response),
                                                               asio::as_tuple(asio::use_awaitable));
      (void)write_error;
      (void)written;
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_send, ignored);
    }
    boost::system::error_code ignored;
    socket.close(ignored);
    --serving;
  }
};

tunedhttp::Request request_for(std::size_t input_size, const std::string& url) {
  namespace http = boost::beast::http;
  switch (input_size % 3) {
    case 0:
      return tunedhttp::make_request(http::verb::get, url);
    case 1:
      return tunedhttp::make_request(http::verb::put, url, std::string(4096, 'b'));
    default: {
      auto request = tunedhttp::make_request(http::verb::put, url, std::string(4096, 'b'));
      request.set(http::field::expect, "100-continue");
      return request;
    }
  }
}

asio::awaitable<void> one_request(tunedhttp::Client& client, tunedhttp::Request request,
                                  bool& done) {
  asio::steady_timer deadline(co_await asio::this_coro::executor, 3s);
  auto result =
      co_await (client.async_request(std::move(request), asio::as_tuple(asio::use_awaitable)) ||
                deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (result.index() == 1) __builtin_trap();  // the request hung past the caller's deadline
  done = true;
}

tunedhttp::ClientOptions fuzz_options() {
  tunedhttp::ClientOptions options;
  options.settings.response_header = 1s;
  options.settings.connect = 1s;
  options.settings.expect_continue = 100ms;
  options.header_limit = 64 * 1024;
  options.body_limit = 1024 * 1024;
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  // One client for every input (making one loads the CA store: slow under ASan); its idle
  // connections are closed after each input, so the next one always dials afresh.
  static tunedhttp::Client client(harness.context.get_executor(), fuzz_options());
  harness.response.assign(reinterpret_cast<const char*>(data), size);
  bool done = false;
  asio::co_spawn(harness.context, one_request(client, request_for(size, harness.url), done),
                 asio::detached);
  while (!done) harness.context.run_one();
  client.close_idle_connections();
  // Let the peer finish with this input before the next one replaces it.
  while (harness.serving > 0) harness.context.run_one();
  harness.context.poll();
  return 0;
}
