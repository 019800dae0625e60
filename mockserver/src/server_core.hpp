#pragma once
// The server's shared state: its listeners, its faults and the plans they shape, its event log.
// One serial executor runs every accept and connection; the fault list may also change from other
// threads (the control API), under faults_mutex.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tunedhttp/mockserver/server.hpp>
#include <utility>
#include <vector>

#include "fault.hpp"

namespace tunedhttp::mockserver::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using asio::awaitable;

/// A stall "forever" is a timer this far away (cancelled by stop()).
inline constexpr std::chrono::hours forever{24 * 365};

class Connection;

/// One listening address: its acceptor and its own accept-queue stall (stall_accept).
struct Listener {
  Listener(const asio::any_io_executor& serial, std::string address_in)
      : address(std::move(address_in)), acceptor(serial), stall_timer(serial) {}
  std::string address;  ///< numeric, as make_address().to_string() writes it
  tcp::acceptor acceptor;
  asio::steady_timer stall_timer;
  std::optional<Wait> pending_stall;
  std::vector<tcp::socket> fillers;
  std::set<unsigned short> filler_ports;      // to recognise the fillers' server sides
  std::set<std::uint64_t> accept_fault_done;  // ids of the accept faults that acted here
};

/// The faults a server starts with (or is given), made, with their listener targets written
/// as listeners are named, and checked against the server (FaultDescriptor::requires_tls).
/// Throws std::invalid_argument naming the fault.
std::vector<ActiveFault> make_checked_faults(const std::vector<FaultConfig>& configs,
                                             const ServerOptions& options);

/// The public view of the faults in force.
std::vector<FaultEntry> entries_of(const std::vector<ActiveFault>& faults);

/// The server's state; Server::Impl is this.
struct ServerCore : std::enable_shared_from_this<ServerCore> {
  /// Checks the options (faults, routes) and makes the TLS context; throws
  /// std::invalid_argument on a bad fault or route.
  ServerCore(asio::any_io_executor executor, ServerOptions server_options);

  void record(EventKind kind, std::uint64_t connection, std::uint64_t request, std::string detail);

  // --- plans: ask the faults that target this point (server_core.cpp) ---
  // The fault list is swapped whole under faults_mutex (the control API changes it from its own
  // thread); numbering a connection or request and planning it happen under the same lock, so
  // a change is wholly before or after each of them and its targets count from the change.

  AcceptPlan plan_accept(Listener& listener);
  /// Numbers the connection just accepted and plans it.
  std::pair<std::uint64_t, ConnectionPlan> take_connection(const std::string& listener);
  /// Numbers the request whose head was just read (info.request) and plans it.
  RequestPlan take_request(RequestInfo& info);

  // --- changing the faults (any thread; server_core.cpp) ---

  /// Adds `made` (already checked) after the current faults, or in their place; returns them
  /// with their ids.
  std::vector<FaultEntry> install(std::vector<ActiveFault> made, bool keep_current);
  bool uninstall(std::uint64_t id);
  /// The SPECs of the faults in force, for the faults_changed event (under faults_mutex).
  std::string specs_in_force() const;

  const Route& route_for(const std::string& path) const;

  // --- accepting (server_core.cpp) and the accept-queue stall (accept_stall.cpp) ---

  awaitable<void> accept_loop(Listener& listener);
  /// stop() on the serial executor: closes the listeners and aborts every connection.
  void shutdown_now();

  /// After a change: a new stall_accept stalls the next accept, a removed one ends its stall.
  void replan_accepts();
  void replan_accept(Listener& listener);
  bool has_stall_accept(const Listener& listener) const;
  /// Checks the plan for the listener's next connection; when it stalls, fills the accept queue
  /// now, before the caller lets anything else happen, so that no client can slip in first.
  void prepare_next_accept(Listener& listener);
  /// Waits out a stall planned by prepare_next_accept(), if any, then lets clients in again.
  awaitable<void> stall_if_planned(Listener& listener);
  /// Connects the server's own filler connections until the kernel's accept queue is full.
  void fill_accept_queue(Listener& listener);
  void release_accept_queue(Listener& listener);

  /// Runs every accept and connection, one handler at a time: the executor the server was given
  /// when it is already serial (serial_executor.hpp), otherwise a strand over it.
  asio::any_io_executor serial;
  ServerOptions options;
  using FaultList = std::vector<ActiveFault>;
  mutable std::mutex faults_mutex;
  std::shared_ptr<const FaultList> faults;     // faults_mutex; swapped whole, never changed
  std::uint64_t next_fault_id = 1;             // faults_mutex
  std::uint64_t accepted = 0;                  // faults_mutex
  std::uint64_t requests = 0;                  // faults_mutex
  std::map<std::string, std::uint64_t> fired;  // faults_mutex: plans shaped, by fault name
  EventLog events;
  std::string ca;                                 // immutable after construction
  std::optional<asio::ssl::context> tls_context;  // immutable after construction
  std::atomic<unsigned short> bound_port{0};
  std::atomic<bool> stopping{false};
  std::atomic<Clock::rep> started{0};

  // Serial executor only from here on (the listeners are made by start(), before any handler runs).
  std::vector<std::unique_ptr<Listener>> listeners;
  std::map<std::uint64_t, std::weak_ptr<Connection>> connections;
};

/// `listener` is written as Listener::address is ("::1", not "0:0::1"): the faults' targets are
/// normalized once, when they are made (make_checked_faults).
bool listener_matches(const FaultTarget& target, const std::string& listener);

}  // namespace tunedhttp::mockserver::detail
