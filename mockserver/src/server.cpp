// The public face of the mock server: binding its listeners, stopping, and the thread-safe
// accessors and fault changes. The work is done by ServerCore (server_core.hpp) and Connection
// (connection.hpp) on the server's serial executor.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/mockserver/server.hpp>

#include "server_core.hpp"

namespace tunedhttp::mockserver {

namespace asio = boost::asio;
using detail::Clock;
using detail::tcp;

std::string route_problem(const Route& route) {
  if (route.status < 200 || route.status > 599) {
    return "status " + std::to_string(route.status) + ": a final status is 200 to 599";
  }
  for (const auto& [name, value] : route.headers) {
    if (auto problem = field_problem(name, value); !problem.empty()) return "header: " + problem;
  }
  return {};
}

struct Server::Impl : detail::ServerCore {
  using ServerCore::ServerCore;
};

Server::Server(boost::asio::any_io_executor executor, ServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

Server::~Server() { stop(); }

std::vector<std::string> ServerOptions::addresses() const {
  return listen_addresses.empty() ? std::vector<std::string>{listen_address} : listen_addresses;
}

void Server::start() {
  auto& impl = *impl_;
  const auto addresses = impl.options.addresses();
  // Every listener on one port: the first one's (ephemeral unless given); when another address
  // has that port taken already, all start again on a new one.
  constexpr int attempts = 20;
  for (int attempt = 1;; ++attempt) {
    impl.listeners.clear();
    unsigned short port = impl.options.port;
    boost::system::error_code error;
    for (const auto& text : addresses) {
      const auto address = asio::ip::make_address(text);  // throws on a bad address
      auto listener = std::make_unique<detail::Listener>(impl.serial, address.to_string());
      const tcp::endpoint endpoint{address, port};
      listener->acceptor.open(endpoint.protocol());
      listener->acceptor.set_option(tcp::acceptor::reuse_address(true));
      if (address.is_v6()) listener->acceptor.set_option(asio::ip::v6_only(true));
      listener->acceptor.bind(endpoint, error);
      if (error) break;
      port = listener->acceptor.local_endpoint().port();
      impl.listeners.push_back(std::move(listener));
    }
    if (!error) break;
    const bool retry = error == asio::error::address_in_use && impl.options.port == 0 &&
                       !impl.listeners.empty() && attempt < attempts;
    if (!retry) throw boost::system::system_error(error, "bind");
  }
  for (auto& listener : impl.listeners) {
    listener->acceptor.listen(
        impl.has_stall_accept(*listener) ? 0 : tcp::acceptor::max_listen_connections);
  }
  impl.bound_port = impl.listeners.front()->acceptor.local_endpoint().port();
  impl.started = Clock::now().time_since_epoch().count();
  for (auto& listener : impl.listeners) {
    impl.prepare_next_accept(*listener);
    asio::co_spawn(impl.serial, impl.accept_loop(*listener), asio::detached);
  }
}

void Server::stop() {
  if (impl_->stopping.exchange(true)) return;
  asio::dispatch(impl_->serial, [impl = impl_] { impl->shutdown_now(); });
}

unsigned short Server::port() const { return impl_->bound_port; }

std::string Server::authority() const {
  std::string host = impl_->options.addresses().front();
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(port());
}

std::string Server::base_url() const {
  return std::string(impl_->options.tls ? "https" : "http") + "://" + authority() + "/";
}

std::string Server::ca_pem() const { return impl_->ca; }

EventLog& Server::events() { return impl_->events; }

std::vector<FaultEntry> Server::faults() const {
  std::lock_guard lock{impl_->faults_mutex};
  return detail::entries_of(*impl_->faults);
}

std::vector<FaultEntry> Server::set_faults(const std::vector<FaultConfig>& configs) {
  return impl_->install(detail::make_checked_faults(configs, impl_->options), false);
}

FaultEntry Server::add_fault(const FaultConfig& config) {
  return impl_->install(detail::make_checked_faults({config}, impl_->options), true).front();
}

bool Server::remove_fault(std::uint64_t id) { return impl_->uninstall(id); }

void Server::after_changes(std::function<void()> done) {
  // The serial executor runs in order: every replan_accepts() posted before this runs first.
  asio::post(impl_->serial, std::move(done));
}

ServerStats Server::stats() const {
  std::lock_guard lock{impl_->faults_mutex};
  return ServerStats{impl_->accepted, impl_->requests, impl_->fired};
}

std::chrono::steady_clock::time_point Server::started_at() const {
  return Clock::time_point(Clock::duration(impl_->started.load()));
}

}  // namespace tunedhttp::mockserver
