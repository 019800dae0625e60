#include <boost/asio/io_context.hpp>
#include <tunedhttp/client.hpp>

namespace tunedhttp {

struct BlockingClient::Impl {
  explicit Impl(ClientOptions options) : client(context.get_executor(), std::move(options)) {}
  boost::asio::io_context context{1};  // one thread: requests need no strand of their own
  Client client;
};

BlockingClient::BlockingClient(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

BlockingClient::~BlockingClient() = default;

Response BlockingClient::request(Request request, boost::system::error_code& ec) {
  bool done = false;
  Response response;
  impl_->client.async_request(std::move(request),
                              [&](boost::system::error_code result, Response received) {
                                ec = result;
                                response = std::move(received);
                                done = true;
                                impl_->context.stop();
                              });
  // Idle connections keep reads and timers pending, so run() returns only when stopped.
  impl_->context.restart();
  while (!done && impl_->context.run() > 0) {
  }
  return response;
}

Client& BlockingClient::client() { return impl_->client; }

}  // namespace tunedhttp
