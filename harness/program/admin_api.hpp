#pragma once
// `tunedhttp serve --admin ADDR`: the mock server's control API (docs/control-api.md), JSON over
// HTTP/1.1 on its own listener, which no fault ever touches.

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>
#include <tunedhttp/mockserver/server.hpp>

namespace tunedhttp::program {

/// The control API of one mock server, served on `executor` until stop() or destruction.
class AdminApi {
 public:
  /// Binds `address:port` (numeric address; port 0 = ephemeral) and starts answering. Throws
  /// boost::system::system_error when it cannot listen. `server` must outlive this.
  AdminApi(boost::asio::any_io_executor executor, mockserver::Server& server,
           const std::string& address, unsigned short port);
  ~AdminApi();
  AdminApi(const AdminApi&) = delete;
  AdminApi& operator=(const AdminApi&) = delete;

  /// "http://HOST:PORT/" of the bound listener.
  std::string url() const;
  /// Stops accepting and closes the API's connections (on its executor). Idempotent.
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tunedhttp::program
