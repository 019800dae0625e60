#include "conformance_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <thread>

namespace tunedhttp::conformance {

struct MockServer::Impl {
  explicit Impl(mockserver::ServerOptions options)
      : server(io.get_executor(), std::move(options)) {}
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  mockserver::Server server;
  std::thread thread;
};

MockServer::MockServer(mockserver::ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->server.start();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

MockServer::~MockServer() {
  impl_->server.stop();
  impl_->work.reset();
  impl_->thread.join();
}

mockserver::Server& MockServer::server() { return impl_->server; }

std::string MockServer::url(const std::string& path) {
  auto base = impl_->server.base_url();
  if (!base.empty() && base.back() == '/') base.pop_back();
  return base + path;
}

std::size_t MockServer::count(mockserver::EventKind kind) {
  std::size_t n = 0;
  for (const auto& event : events().snapshot()) n += event.kind == kind ? 1 : 0;
  return n;
}

mockserver::FaultConfig fault(std::string name, std::map<std::string, std::string> parameters,
                              std::string path) {
  mockserver::FaultConfig config;
  config.name = std::move(name);
  config.parameters = std::move(parameters);
  if (!path.empty()) config.target.path = std::move(path);
  return config;
}

mockserver::ServerOptions held_second_dial(const std::string& held_dial,
                                           const std::string& slow_path,
                                           const std::string& drip_every) {
  mockserver::ServerOptions options;
  options.tls = true;
  auto held = fault("delay_tls_handshake", {{"for", held_dial}});
  held.target.connection = 2;
  options.faults.push_back(held);
  options.faults.push_back(
      fault("drip_body", {{"chunk", "1KiB"}, {"every", drip_every}}, slow_path));
  options.routes[slow_path].body_size = 2048;
  return options;
}

TlsOptions trusting(MockServer& server) {
  TlsOptions tls;
  tls.ca_pem = server.server().ca_pem();
  return tls;
}

void start_request(ClientFixture& fixture, Request request, Outcome& outcome) {
  fixture.client().async_request(std::move(request),
                                 [&outcome](boost::system::error_code ec, Response response) {
                                   outcome.error = ec;
                                   outcome.response = std::move(response);
                                   outcome.finished = Clock::now();
                                   outcome.completed = true;
                                 });
}

bool run_until(ClientFixture& fixture, const std::function<bool()>& done,
               std::chrono::milliseconds limit) {
  return fixture.run_until(done, limit);
}

std::optional<TraceEvent> got_conn(const ClientFixture& fixture, std::uint64_t request) {
  for (const auto& event : fixture.events(TracePoint::got_conn)) {
    if (event.request == request) return event;
  }
  return std::nullopt;
}

ScriptedServer::Script keep_alive_script(std::atomic<int>& accepted) {
  return [&accepted](Peer& peer) {
    const int number = ++accepted;
    while (!peer.read_headers(Clock::now() + 5s).empty()) {
      peer.write(ok_response("conn" + std::to_string(number)));
    }
  };
}

}  // namespace tunedhttp::conformance
