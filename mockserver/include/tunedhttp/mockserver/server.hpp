#pragma once
// The fault-injecting mock HTTP/1.1 server.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tunedhttp/mockserver/event_log.hpp>
#include <tunedhttp/mockserver/fault_config.hpp>
#include <tunedhttp/mockserver/route.hpp>
#include <vector>

namespace tunedhttp::mockserver {

/// How a server is made.
struct ServerOptions {
  std::string listen_address = "127.0.0.1";  ///< numeric address to bind.
  /// Several numeric addresses to listen on, all on one port (e.g. "::1" and "127.0.0.1", for
  /// a dual-stack host); when set, it replaces listen_address. Faults can target one of them
  /// (FaultTarget::listener).
  std::vector<std::string> listen_addresses;
  unsigned short port = 0;  ///< 0 = an ephemeral port (the same one for every address).
  bool tls = false;         ///< TLS with a certificate made at start.
  /// A forward proxy as well (docs/faults.md, "The mock server as a forward proxy"): an
  /// absolute-form request (`GET http://host:port/path`) is forwarded to its target, over an
  /// upstream connection kept per target for the client's connection, and `CONNECT host:port` is
  /// answered `200 Connection established` and tunnelled (bytes relayed both ways until either
  /// side closes). Origin-form requests are still answered by the routes, so one server can be
  /// a test's proxy and its origin. Events `proxy_forward` and `proxy_connect` name the targets.
  bool proxy = false;
  std::vector<FaultConfig> faults;      ///< faults, applied in order.
  std::map<std::string, Route> routes;  ///< path → answer; others get `default_route`.
  Route default_route;
  /// How long a client may take to send a request's head (request line and headers), as Go's
  /// Server.ReadHeaderTimeout: from the connection's start (after TLS) for its first request,
  /// and from the first byte for the next ones, so a keep-alive connection may idle between
  /// requests. On expiry the server closes the connection (event `closed_by_server`, detail
  /// "header_read_timeout"): a slowloris client cannot hold it forever. Faults that hold on
  /// purpose act after the head is read and are not limited by it. 0 = no limit.
  std::chrono::nanoseconds header_read_timeout = std::chrono::seconds{30};

  /// The addresses to listen on: listen_addresses, or listen_address alone.
  std::vector<std::string> addresses() const;
};

/// A fault as a running server holds it.
struct FaultEntry {
  std::uint64_t id = 0;  ///< the server's number for it, from 1, never reused
  FaultConfig config;
};

/// What a server has done since it started.
struct ServerStats {
  std::uint64_t connections = 0;  ///< accepted
  std::uint64_t requests = 0;     ///< request heads read
  /// By fault name: how many times a fault acted on an accept, a connection or a request.
  std::map<std::string, std::uint64_t> faults_fired;
};

/// A mock server on an executor (in-process), answering HTTP/1.1 with keep-alive, honouring
/// `Expect: 100-continue`, injecting faults and logging every connection's events.
/// Thread safety: start/stop/accessors and the fault changes may be called from any thread.
class Server {
 public:
  /// Prepares a server; nothing is bound until start(). Throws std::invalid_argument when a
  /// fault config is invalid (the message names the fault and the bad parameter) or a route
  /// cannot be sent as it is (route_problem(): the message names the path and the field).
  Server(boost::asio::any_io_executor executor, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds every address (on one port), listens and starts accepting. Throws
  /// boost::system::system_error on a bad address or a bind failure.
  void start();
  /// Stops accepting and closes every connection (logged as closed_by_server, detail
  /// "server stopped"). The closing runs on the server's executor: inline when called from it,
  /// otherwise posted, so stop() never blocks; wait for the closed_by_server events if needed.
  /// Idempotent. The destructor calls it. Destroy the Server before its execution context.
  void stop();

  /// The bound port (after start()).
  unsigned short port() const;
  /// "127.0.0.1:PORT" or "[::1]:PORT": the host and port a client connects to, for the first
  /// address (a wildcard address is given as the loopback of its family).
  std::string authority() const;
  /// "http://" or "https://", authority(), "/".
  std::string base_url() const;
  /// PEM of the CA that signed the server certificate (TLS only; empty otherwise).
  std::string ca_pem() const;

  /// The event log, shared and thread-safe.
  EventLog& events();

  /// The faults in force, in the order they apply.
  std::vector<FaultEntry> faults() const;
  /// Replaces every fault. All are checked first: on a bad one this throws
  /// std::invalid_argument (the message names the fault) and nothing changes. A change applies
  /// to the connections accepted and the requests read after the call returns; the new faults'
  /// targets count connections and requests from then on (FaultTarget). Any thread.
  std::vector<FaultEntry> set_faults(const std::vector<FaultConfig>& configs);
  /// Adds one fault after the others (as set_faults() for that one).
  FaultEntry add_fault(const FaultConfig& config);
  /// Removes the fault with that id; false when there is none. A stall_accept already stalling
  /// ends.
  bool remove_fault(std::uint64_t id);
  /// Calls `done` on the server's executor once every fault change made before this call is in
  /// force there too. The plans of connections and requests follow a change when set_faults()
  /// returns; the accept queue follows on the executor: a stall_accept added stalls it, a
  /// removed one releases it. Wait for this before letting a client in after such a change.
  void after_changes(std::function<void()> done);
  /// Counters since start. Any thread.
  ServerStats stats() const;

  /// When start() was called (the origin of the times `serve --events` prints).
  std::chrono::steady_clock::time_point started_at() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tunedhttp::mockserver
