// Links the installed client and mock server: one request from the one to the other.
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <tunedhttp/client.hpp>
#include <tunedhttp/mockserver/server.hpp>

int main() {
  boost::asio::io_context io;
  tunedhttp::mockserver::Server server(io.get_executor(), {});
  server.start();
  tunedhttp::Client client(io.get_executor());
  int status = 0;
  client.async_request(tunedhttp::make_request(boost::beast::http::verb::get, server.base_url()),
                       [&](boost::system::error_code ec, tunedhttp::Response response) {
                         if (ec) std::cerr << "got " << tunedhttp::error_name(ec) << "; want 200\n";
                         status = response.result_int();
                         server.stop();
                         client.close_idle_connections();
                       });
  io.run();
  std::cout << "status " << status << "\n";
  return status == 200 ? 0 : 1;
}
