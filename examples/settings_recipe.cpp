// The AWS SDK for Go V2 "custom HTTP client" recipe, in C++: a struct of the eight settings, a
// function that builds a client from it, and a call made with that client. The call goes to an
// in-process mock server on 127.0.0.1 so the example runs offline; point the URL at your own
// service instead.
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>
#include <tunedhttp/client.hpp>
#include <tunedhttp/mockserver/server.hpp>

namespace {

using namespace std::chrono_literals;

// The guide's HTTPClientSettings, field by field (Go name in the comment).
struct HttpClientSettings {
  std::chrono::nanoseconds connect;          // Connect: net.Dialer.Timeout
  std::chrono::nanoseconds conn_keep_alive;  // ConnKeepAlive: net.Dialer.KeepAlive
  std::chrono::nanoseconds expect_continue;  // ExpectContinue: Transport.ExpectContinueTimeout
  std::chrono::nanoseconds idle_conn;        // IdleConn: Transport.IdleConnTimeout
  int max_all_idle_conns;                    // MaxAllIdleConns: Transport.MaxIdleConns
  int max_host_idle_conns;                   // MaxHostIdleConns: Transport.MaxIdleConnsPerHost
  std::chrono::nanoseconds response_header;  // ResponseHeader: Transport.ResponseHeaderTimeout
  std::chrono::nanoseconds tls_handshake;    // TLSHandshake: Transport.TLSHandshakeTimeout
};

// The guide's NewHTTPClientWithSettings: every field goes to the setting of the same meaning.
std::unique_ptr<tunedhttp::Client> make_client(boost::asio::any_io_executor executor,
                                               const HttpClientSettings& http_settings) {
  tunedhttp::Settings settings;
  settings.connect = http_settings.connect;
  settings.conn_keep_alive = http_settings.conn_keep_alive;
  settings.expect_continue = http_settings.expect_continue;
  settings.idle_conn = http_settings.idle_conn;
  settings.max_all_idle_conns = http_settings.max_all_idle_conns;
  settings.max_host_idle_conns = http_settings.max_host_idle_conns;
  settings.response_header = http_settings.response_header;
  settings.tls_handshake = http_settings.tls_handshake;
  return std::make_unique<tunedhttp::Client>(std::move(executor), settings);
}

}  // namespace

int main() {
  // One io_context for the mock server and the client, run by one thread.
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });

  // The mock server stands in for a real service: plain HTTP, no faults, "ok\n" on every path.
  tunedhttp::mockserver::Server server(io.get_executor(), {});
  server.start();

  // The guide's values.
  auto client = make_client(io.get_executor(), HttpClientSettings{
                                                   .connect = 5s,
                                                   .conn_keep_alive = 30s,
                                                   .expect_continue = 1s,
                                                   .idle_conn = 90s,
                                                   .max_all_idle_conns = 100,
                                                   .max_host_idle_conns = 10,
                                                   .response_header = 5s,
                                                   .tls_handshake = 5s,
                                               });

  // Two calls: the second reuses the connection the first put back in the idle pool.
  int exit_code = 0;
  for (int call = 1; call <= 2; ++call) {
    auto request =
        tunedhttp::make_request(boost::beast::http::verb::get, server.base_url() + "hello");
    auto reply = client->async_request(std::move(request), boost::asio::use_future);
    try {
      tunedhttp::Response response = reply.get();
      std::cout << "call " << call << ": " << response.result_int() << " " << response.body();
    } catch (const boost::system::system_error& error) {
      std::cerr << "call " << call << ": " << tunedhttp::error_name(error.code()) << ": "
                << error.what() << "\n";
      exit_code = 1;
    }
  }
  const auto stats = client->pool_stats();
  std::cout << "dials: " << stats.dials << ", reuses: " << stats.reuses << "\n";
  if (exit_code == 0 && stats.reuses != 1) {
    std::cerr << "got " << stats.reuses << " reuses; want 1\n";
    exit_code = 1;
  }

  // Shut down in order: client, server, then the thread running them.
  client.reset();
  server.stop();
  work.reset();
  io.stop();  // the server's stop is posted; pending handlers are destroyed with io
  runner.join();
  return exit_code;
}
