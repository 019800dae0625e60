#include <boost/asio/io_context.hpp>
#include <tunedhttp/client.hpp>

namespace tunedhttp {

struct BlockingClient::Impl {
  explicit Impl(ClientOptions options) : client(context.get_executor(), std::move(options)) {}
  // One thread at a time, as BlockingClient's contract says, so the reactor need not lock a
  // socket's state for each operation (three locks per pooled request). Requests need no strand
  // of their own (is_serial). The scheduler keeps its lock: a name resolution completes from
  // Asio's resolver thread.
  boost::asio::io_context context{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  Client client;
};

BlockingClient::BlockingClient(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->client.start_requests_in_line();
}

BlockingClient::~BlockingClient() = default;

Response BlockingClient::request(Request request, boost::system::error_code& ec) {
  Response response;
  // The response is assigned in place when the request ends: no completion handler, whose type
  // erasure would move it twice more (Client::Delivery).
  Client::Delivery into;
  into.response = &response;
  impl_->client.start_request(std::move(request), nullptr, TraceHook{}, {}, &into);
  // One handler at a time until the request has ended: idle connections keep reads and timers
  // pending, so the context never runs out of work, and nothing has to stop it (a stop and a
  // restart per request cost more than the rest of the loop).
  while (!into.done) {
    if (impl_->context.run_one() == 0) {
      // Out of work, which leaves the context stopped: ready it for the next call here, rather
      // than asking stopped() (a lock) at the start of every call.
      impl_->context.restart();
      break;
    }
  }
  ec = into.error;
  return response;
}

Client& BlockingClient::client() { return impl_->client; }

}  // namespace tunedhttp
