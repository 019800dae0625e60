#pragma once
// Shared helpers for the ports of Go's net/http transport tests: the mock server on its own
// thread, a caller's deadline (Go's Client.Timeout), and small waits that always have a deadline.

#include <memory>
#include <string>
#include <tunedhttp/mockserver/server.hpp>

#include "client_fixture.hpp"

namespace tunedhttp::conformance {

using namespace std::chrono_literals;
using testing::ClientFixture;
using testing::Clock;
using testing::expect_fired_on_time;
using testing::get;
using testing::ok_response;
using testing::Outcome;
using testing::Peer;
using testing::ScriptedServer;
namespace http = boost::beast::http;

/// A mockserver::Server on its own io_context thread; stopped and joined at the end.
class MockServer {
 public:
  explicit MockServer(mockserver::ServerOptions options);
  ~MockServer();
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  mockserver::Server& server();
  mockserver::EventLog& events() { return server().events(); }
  /// "http://127.0.0.1:PORT/path".
  std::string url(const std::string& path = "/");
  /// How many events of `kind` the log holds now.
  std::size_t count(mockserver::EventKind kind);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A fault by name, with parameters and an optional path target.
mockserver::FaultConfig fault(std::string name, std::map<std::string, std::string> parameters = {},
                              std::string path = {});

/// A TLS mock server for Go's getConn races: the second connection's TLS handshake is held for
/// `held_dial`, and `slow_path` answers a 2 KiB body in 1 KiB drips every `drip_every`, so one
/// request is still in flight on connection 1 while another dials.
mockserver::ServerOptions held_second_dial(const std::string& held_dial,
                                           const std::string& slow_path,
                                           const std::string& drip_every);

/// Client TLS options that trust `server`'s CA.
TlsOptions trusting(MockServer& server);

/// Starts `request` without running the io_context; `outcome` is filled on completion.
void start_request(ClientFixture& fixture, Request request, Outcome& outcome);

/// Runs the fixture's io_context until `done()` or `limit`, returning done().
bool run_until(ClientFixture& fixture, const std::function<bool()>& done,
               std::chrono::milliseconds limit = 3000ms);

/// The got_conn event of request `request` (numbered from 1), if any.
std::optional<TraceEvent> got_conn(const ClientFixture& fixture, std::uint64_t request);

/// How many connections the pool closed for `reason`.
inline std::uint64_t closes(const PoolStats& stats, CloseReason reason) {
  return stats.closes(reason);
}

/// Keep-alive server script: answers every request with `ok_response(body_of(n))`, where n is
/// the connection's accept number (from 1), until the client closes.
ScriptedServer::Script keep_alive_script(std::atomic<int>& accepted);

}  // namespace tunedhttp::conformance
