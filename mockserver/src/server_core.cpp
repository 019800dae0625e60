// The server's state: checking what it is given, the faults' plans, fault changes while it
// runs, and the accept loop that hands each connection its plan.
#include "server_core.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/serial_executor.hpp>

#include "connection.hpp"
#include "tls_certificate.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

namespace ssl = asio::ssl;

/// Throws std::invalid_argument when a route cannot be sent as it is.
void check_route(const std::string& where, const Route& route) {
  if (auto problem = route_problem(route); !problem.empty()) {
    throw std::invalid_argument(where + ": " + problem);
  }
}

/// Writes each fault's listener target as make_address().to_string() does, the way listeners
/// are named, so that matching is a string comparison on every accept and request.
std::vector<ActiveFault> normalize_listeners(std::vector<ActiveFault> faults) {
  for (auto& fault : faults) {
    auto& listener = fault.config.target.listener;
    if (!listener) continue;
    boost::system::error_code error;
    const auto address = asio::ip::make_address(*listener, error);
    if (!error) listener = address.to_string();  // validate() checked it parses
  }
  return faults;
}

/// Whether a fault acts on the connection numbered `connection` (by the server, from 1).
bool connection_matches(const ActiveFault& fault, std::uint64_t connection) {
  const auto& target = fault.config.target;
  return in_target_range(target.connection, target.connection_last, connection,
                         fault.connections_before);
}

bool target_matches(const ActiveFault& fault, const RequestInfo& info) {
  const auto& target = fault.config.target;
  if (!listener_matches(target, info.listener)) return false;
  if (!connection_matches(fault, info.connection)) return false;
  if (!in_target_range(target.request, target.request_last, info.request, fault.requests_before)) {
    return false;
  }
  if (target.path && *target.path != info.path) return false;
  return true;
}

}  // namespace

bool listener_matches(const FaultTarget& target, const std::string& listener) {
  return !target.listener || *target.listener == listener;
}

std::vector<ActiveFault> make_checked_faults(const std::vector<FaultConfig>& configs,
                                             const ServerOptions& options) {
  auto faults = normalize_listeners(make_faults(configs));
  for (const auto& fault : faults) {
    if (requirements_of(fault.config.name).tls && !options.tls) {
      throw std::invalid_argument(fault.config.name + ": needs a TLS server (tls: true, --tls)");
    }
    if (requirements_of(fault.config.name).proxy && !options.proxy) {
      throw std::invalid_argument(fault.config.name +
                                  ": needs a proxy server (proxy: true, --proxy)");
    }
  }
  return faults;
}

std::vector<FaultEntry> entries_of(const std::vector<ActiveFault>& faults) {
  std::vector<FaultEntry> entries;
  for (const auto& fault : faults) entries.push_back(FaultEntry{fault.id, fault.config});
  return entries;
}

ServerCore::ServerCore(asio::any_io_executor executor, ServerOptions server_options)
    : serial(serial_executor(executor)), options(std::move(server_options)) {
  auto initial = make_checked_faults(options.faults, options);
  for (auto& fault : initial) fault.id = next_fault_id++;
  faults = std::make_shared<const FaultList>(std::move(initial));
  check_route("the default route", options.default_route);
  for (const auto& [path, route] : options.routes) {
    if (!is_valid_request_target(path)) {
      throw std::invalid_argument("route " + quote(path) +
                                  ": a path has no spaces or control characters");
    }
    check_route("route " + quote(path), route);
  }
  if (options.tls) {
    const auto certificate = make_server_certificate();
    ca = certificate.ca_pem;
    tls_context.emplace(ssl::context::tls_server);
    tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3);
    tls_context->use_certificate_chain(asio::buffer(certificate.certificate_pem));
    tls_context->use_private_key(asio::buffer(certificate.private_key_pem), ssl::context::pem);
  }
}

void ServerCore::record(EventKind kind, std::uint64_t connection, std::uint64_t request,
                        std::string detail) {
  events.record(Event{kind, Clock::now(), connection, request, std::move(detail)});
}

AcceptPlan ServerCore::plan_accept(Listener& listener) {
  std::lock_guard lock{faults_mutex};
  const std::uint64_t next_connection = accepted + 1;
  AcceptPlan plan;
  for (const auto& fault : *faults) {
    if (fault.level != FaultLevel::accept) continue;
    if (listener.accept_fault_done.contains(fault.id)) continue;
    if (!listener_matches(fault.config.target, listener.address)) continue;
    if (!connection_matches(fault, next_connection)) continue;
    fault.fault->shape_accept(plan);
    listener.accept_fault_done.insert(fault.id);  // an accept fault acts once per listener
    ++fired[fault.config.name];
  }
  return plan;
}

std::pair<std::uint64_t, ConnectionPlan> ServerCore::take_connection(const std::string& listener) {
  std::lock_guard lock{faults_mutex};
  const std::uint64_t connection = ++accepted;
  ConnectionPlan plan;
  for (const auto& fault : *faults) {
    if (fault.level != FaultLevel::connection) continue;
    if (!listener_matches(fault.config.target, listener)) continue;
    if (!connection_matches(fault, connection)) continue;
    fault.fault->shape_connection(plan);
    ++fired[fault.config.name];
  }
  return {connection, plan};
}

RequestPlan ServerCore::take_request(RequestInfo& info) {
  std::lock_guard lock{faults_mutex};
  info.request = ++requests;
  RequestPlan plan;
  for (const auto& fault : *faults) {
    if (fault.level != FaultLevel::request) continue;
    if (!target_matches(fault, info)) continue;
    fault.fault->shape_request(plan);
    ++fired[fault.config.name];
  }
  return plan;
}

std::vector<FaultEntry> ServerCore::install(std::vector<ActiveFault> made, bool keep_current) {
  std::string specs;
  {
    std::lock_guard lock{faults_mutex};
    auto next = keep_current ? std::make_shared<FaultList>(*faults) : std::make_shared<FaultList>();
    for (auto& fault : made) {
      fault.id = next_fault_id++;
      fault.connections_before = accepted;
      fault.requests_before = requests;
      next->push_back(fault);
    }
    faults = std::move(next);
    specs = specs_in_force();
  }
  record(EventKind::faults_changed, 0, 0, std::move(specs));
  replan_accepts();
  return entries_of(made);
}

std::string ServerCore::specs_in_force() const {
  std::string specs;
  for (const auto& fault : *faults) {
    specs += (specs.empty() ? "" : " ") + format_fault_spec(fault.config);
  }
  return specs;
}

bool ServerCore::uninstall(std::uint64_t id) {
  bool found = false;
  std::string specs;
  {
    std::lock_guard lock{faults_mutex};
    auto next = std::make_shared<FaultList>();
    for (const auto& fault : *faults) {
      if (fault.id == id) {
        found = true;
      } else {
        next->push_back(fault);
      }
    }
    faults = std::move(next);
    specs = specs_in_force();
  }
  if (found) {
    record(EventKind::faults_changed, 0, 0, std::move(specs));
    replan_accepts();
  }
  return found;
}

const Route& ServerCore::route_for(const std::string& path) const {
  auto found = options.routes.find(path);
  return found == options.routes.end() ? options.default_route : found->second;
}

awaitable<void> ServerCore::accept_loop(Listener& listener) {
  auto self = shared_from_this();
  while (!stopping) {
    co_await stall_if_planned(listener);
    if (stopping) break;
    auto [error, socket] = co_await listener.acceptor.async_accept(as_tuple_awaitable);
    if (stopping || !listener.acceptor.is_open()) break;
    if (error == asio::error::operation_aborted) continue;  // a fault change: stall first
    if (error) {
      // Out of descriptors or an aborted handshake: try again a little later.
      listener.stall_timer.expires_after(std::chrono::milliseconds(10));
      co_await listener.stall_timer.async_wait(as_tuple_awaitable);
      continue;
    }
    boost::system::error_code endpoint_error;
    const auto remote = socket.remote_endpoint(endpoint_error);
    if (!endpoint_error && listener.filler_ports.erase(remote.port()) > 0) continue;  // a filler

    // Responses go out as headers then body: without this, Nagle holds the body until the
    // client's delayed ACK (~40 ms per request on a kept connection).
    socket.set_option(tcp::no_delay(true), endpoint_error);
    auto [number, plan] = take_connection(listener.address);
    // Before the next client can slip in: stall the next accept if a fault says so.
    prepare_next_accept(listener);
    auto connection = std::make_shared<Connection>(self, number, std::move(socket),
                                                   listener.address, std::move(plan));
    connections[number] = connection;
    asio::co_spawn(serial, connection->run(), [self, number, connection](std::exception_ptr) {
      self->connections.erase(number);
    });
  }
}

void ServerCore::shutdown_now() {
  stopping = true;
  boost::system::error_code ignored;
  for (auto& listener : listeners) {
    listener->acceptor.close(ignored);
    listener->stall_timer.cancel();
    for (auto& filler : listener->fillers) filler.close(ignored);
    listener->fillers.clear();
  }
  for (auto& [number, weak] : connections) {
    if (auto connection = weak.lock()) connection->abort("server stopped");
  }
}

}  // namespace tunedhttp::mockserver::detail
