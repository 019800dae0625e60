// The mock server: an accept loop and one coroutine per connection, all on one strand, carrying
// out the plans the faults (src/faults/) shape at each point of a connection's life.
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/mockserver/server.hpp>
#include <variant>

#include "fault.hpp"
#include "tls_certificate.hpp"

namespace tunedhttp::mockserver {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);

// Defensive limits.
constexpr std::uint64_t request_body_limit = 64 * 1024 * 1024;  // larger bodies get 413
constexpr std::uint32_t request_header_limit = 64 * 1024;       // larger headers get 431
constexpr std::size_t read_chunk = 16 * 1024;                   // bytes per read of a body
// Bytes per read while only watching a connection (held, idle, waiting for a body): small, so
// that a held connection keeps no bigger buffer than its request needed.
constexpr std::size_t watch_chunk = 512;
constexpr std::size_t tls_record_limit = 16 * 1024 + 2048;  // largest ClientHello record
// After the server closes its sending side it reads (and drops) what the client still sends, so
// that unread data does not turn the FIN into a reset that destroys the response; at most this
// long.
constexpr std::chrono::milliseconds lingering_close_limit{1000};
// A stall "forever" is a timer this far away (cancelled by stop()).
constexpr std::chrono::hours forever{24 * 365};
// How long a filler connection may take to enter the accept queue (loopback: microseconds).
constexpr int filler_connect_limit_ms = 200;
constexpr int max_fillers = 4;
// A generated body (Route::body_size) is written from this many filler bytes at a time, so its
// size costs no memory.
constexpr std::size_t generated_piece = 64 * 1024;

/// Throws std::invalid_argument when a route cannot be sent as it is.
void check_route(const std::string& where, const Route& route) {
  if (auto problem = route_problem(route); !problem.empty()) {
    throw std::invalid_argument(where + ": " + problem);
  }
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  std::ostringstream out;
  out << endpoint;
  return out.str();
}

/// `listener` is written as Listener::address is ("::1", not "0:0::1"): the faults' targets are
/// normalized once, when the server is made (normalize_listeners).
bool listener_matches(const FaultTarget& target, const std::string& listener) {
  return !target.listener || *target.listener == listener;
}

/// Writes each fault's listener target as make_address().to_string() does, the way listeners
/// are named, so that matching is a string comparison on every accept and request.
std::vector<detail::ActiveFault> normalize_listeners(std::vector<detail::ActiveFault> faults) {
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
bool connection_matches(const detail::ActiveFault& fault, std::uint64_t connection) {
  const auto& target = fault.config.target;
  return detail::in_target_range(target.connection, target.connection_last, connection,
                                 fault.connections_before);
}

bool target_matches(const detail::ActiveFault& fault, const detail::RequestInfo& info) {
  const auto& target = fault.config.target;
  if (!listener_matches(target, info.listener)) return false;
  if (!connection_matches(fault, info.connection)) return false;
  if (!detail::in_target_range(target.request, target.request_last, info.request,
                               fault.requests_before)) {
    return false;
  }
  if (target.path && *target.path != info.path) return false;
  return true;
}

/// The faults a server starts with, numbered from 1 and checked against its options.
std::vector<detail::ActiveFault> make_checked_faults(const std::vector<FaultConfig>& configs,
                                                     bool tls) {
  auto faults = normalize_listeners(detail::make_faults(configs));
  for (const auto& fault : faults) {
    if (fault.config.name == "delay_tls_handshake" && !tls) {
      throw std::invalid_argument("delay_tls_handshake: needs a TLS server (tls: true, --tls)");
    }
  }
  return faults;
}

std::vector<FaultEntry> entries_of(const std::vector<detail::ActiveFault>& faults) {
  std::vector<FaultEntry> entries;
  for (const auto& fault : faults) entries.push_back(FaultEntry{fault.id, fault.config});
  return entries;
}

/// Linux reports a listening socket's accept queue in TCP_INFO: tcpi_unacked is the current
/// length, tcpi_sacked the limit; the queue is full when length > limit.
bool accept_queue_full(int listener) {
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(listener, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return false;
  return info.tcpi_unacked > info.tcpi_sacked;
}

}  // namespace

class Connection;

/// One listening address: its acceptor and its own accept-queue stall (stall_accept).
struct Listener {
  Listener(const asio::strand<asio::any_io_executor>& strand, std::string address_in)
      : address(std::move(address_in)), acceptor(strand), stall_timer(strand) {}
  std::string address;  ///< numeric, as make_address().to_string() writes it
  tcp::acceptor acceptor;
  asio::steady_timer stall_timer;
  std::optional<detail::Wait> pending_stall;
  std::vector<tcp::socket> fillers;
  std::set<unsigned short> filler_ports;      // to recognise the fillers' server sides
  std::set<std::uint64_t> accept_fault_done;  // ids of the accept faults that acted here
};

/// The server's state; Server::Impl is this (the name Server::Impl is private).

struct ServerCore : std::enable_shared_from_this<ServerCore> {
  ServerCore(asio::any_io_executor executor, ServerOptions server_options)
      : strand(asio::make_strand(executor)), options(std::move(server_options)) {
    auto initial = make_checked_faults(options.faults, options.tls);
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
      const auto certificate = detail::make_server_certificate();
      ca = certificate.ca_pem;
      tls_context.emplace(ssl::context::tls_server);
      tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3);
      tls_context->use_certificate_chain(asio::buffer(certificate.certificate_pem));
      tls_context->use_private_key(asio::buffer(certificate.private_key_pem), ssl::context::pem);
    }
  }

  void record(EventKind kind, std::uint64_t connection, std::uint64_t request, std::string detail) {
    events.record(Event{kind, Clock::now(), connection, request, std::move(detail)});
  }

  // --- plans: ask the faults that target this point ---
  // The fault list is swapped whole under faults_mutex (the control API changes it from its own
  // thread); numbering a connection or request and planning it happen under the same lock, so
  // a change is wholly before or after each of them and its targets count from the change.

  detail::AcceptPlan plan_accept(Listener& listener) {
    std::lock_guard lock{faults_mutex};
    const std::uint64_t next_connection = accepted + 1;
    detail::AcceptPlan plan;
    for (const auto& fault : *faults) {
      if (fault.level != detail::FaultLevel::accept) continue;
      if (listener.accept_fault_done.contains(fault.id)) continue;
      if (!listener_matches(fault.config.target, listener.address)) continue;
      if (!connection_matches(fault, next_connection)) continue;
      fault.fault->shape_accept(plan);
      listener.accept_fault_done.insert(fault.id);  // an accept fault acts once per listener
      ++fired[fault.config.name];
    }
    return plan;
  }

  /// Numbers the connection just accepted and plans it.
  std::pair<std::uint64_t, detail::ConnectionPlan> take_connection(const std::string& listener) {
    std::lock_guard lock{faults_mutex};
    const std::uint64_t connection = ++accepted;
    detail::ConnectionPlan plan;
    for (const auto& fault : *faults) {
      if (fault.level != detail::FaultLevel::connection) continue;
      if (!listener_matches(fault.config.target, listener)) continue;
      if (!connection_matches(fault, connection)) continue;
      fault.fault->shape_connection(plan);
      ++fired[fault.config.name];
    }
    return {connection, plan};
  }

  /// Numbers the request whose head was just read (info.request) and plans it.
  detail::RequestPlan take_request(detail::RequestInfo& info) {
    std::lock_guard lock{faults_mutex};
    info.request = ++requests;
    detail::RequestPlan plan;
    for (const auto& fault : *faults) {
      if (fault.level != detail::FaultLevel::request) continue;
      if (!target_matches(fault, info)) continue;
      fault.fault->shape_request(plan);
      ++fired[fault.config.name];
    }
    return plan;
  }

  // --- changing the faults (any thread) ---

  /// Adds `made` (already checked) after the current faults, or in their place; returns them
  /// with their ids.
  std::vector<FaultEntry> install(std::vector<detail::ActiveFault> made, bool keep_current) {
    std::string specs;
    {
      std::lock_guard lock{faults_mutex};
      auto next =
          keep_current ? std::make_shared<FaultList>(*faults) : std::make_shared<FaultList>();
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

  /// The SPECs of the faults in force, for the faults_changed event (under faults_mutex).
  std::string specs_in_force() const {
    std::string specs;
    for (const auto& fault : *faults) {
      specs += (specs.empty() ? "" : " ") + format_fault_spec(fault.config);
    }
    return specs;
  }

  bool uninstall(std::uint64_t id) {
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

  /// After a change: a new stall_accept stalls the next accept, a removed one ends its stall.
  void replan_accepts() {
    asio::post(strand, [self = shared_from_this()] {
      if (self->stopping) return;
      for (auto& listener : self->listeners) self->replan_accept(*listener);
    });
  }

  void replan_accept(Listener& listener) {
    boost::system::error_code ignored;
    if (listener.pending_stall || !listener.fillers.empty()) {
      if (has_stall_accept(listener)) return;
      if (listener.pending_stall) {
        listener.pending_stall.reset();
        release_accept_queue(listener);
      } else {
        listener.stall_timer.cancel();  // the loop releases the queue and accepts again
      }
      return;
    }
    prepare_next_accept(listener);
    // The loop waits in accept: wake it so that it stalls before accepting anyone.
    if (listener.pending_stall) listener.acceptor.cancel(ignored);
  }

  const Route& route_for(const std::string& path) const {
    auto found = options.routes.find(path);
    return found == options.routes.end() ? options.default_route : found->second;
  }

  // --- accepting ---

  bool has_stall_accept(const Listener& listener) const {
    std::lock_guard lock{faults_mutex};
    for (const auto& fault : *faults) {
      if (fault.level == detail::FaultLevel::accept &&
          listener_matches(fault.config.target, listener.address)) {
        return true;
      }
    }
    return false;
  }

  /// Checks the plan for the listener's next connection; when it stalls, fills the accept queue
  /// now, before the caller lets anything else happen, so that no client can slip in first.
  void prepare_next_accept(Listener& listener) {
    auto plan = plan_accept(listener);
    if (!plan.stall) return;
    fill_accept_queue(listener);
    listener.pending_stall = plan.stall;
  }

  /// Connects the server's own filler connections until the kernel's accept queue is full (with
  /// backlog 0, Linux holds one connection), so further SYNs are dropped. Blocks for at most
  /// filler_connect_limit_ms per filler; loopback connects complete in microseconds.
  void fill_accept_queue(Listener& listener) {
    boost::system::error_code ignored;
    listener.acceptor.listen(0, ignored);
    auto target = listener.acceptor.local_endpoint();
    if (target.address().is_unspecified()) {
      target.address(target.address().is_v6()
                         ? asio::ip::address(asio::ip::address_v6::loopback())
                         : asio::ip::address(asio::ip::address_v4::loopback()));
    }
    const int listening = listener.acceptor.native_handle();
    for (int i = 0; i < max_fillers && !accept_queue_full(listening); ++i) {
      tcp::socket filler(strand);
      boost::system::error_code error;
      filler.open(target.protocol(), error);
      if (error) break;
      filler.non_blocking(true, error);
      const int fd = filler.native_handle();
      if (::connect(fd, target.data(), static_cast<socklen_t>(target.size())) != 0 &&
          errno == EINPROGRESS) {
        pollfd waiting{fd, POLLOUT, 0};
        if (::poll(&waiting, 1, filler_connect_limit_ms) != 1) {
          break;  // not let in: the queue is already full (a client got there first)
        }
      }
      auto local = filler.local_endpoint(error);
      if (!error) listener.filler_ports.insert(local.port());
      listener.fillers.push_back(std::move(filler));
    }
  }

  void release_accept_queue(Listener& listener) {
    for (auto& filler : listener.fillers) {
      boost::system::error_code ignored;
      filler.close(ignored);
    }
    listener.fillers.clear();
    boost::system::error_code ignored;
    listener.acceptor.listen(tcp::acceptor::max_listen_connections, ignored);
  }

  awaitable<void> accept_loop(Listener& listener);

  void shutdown_now();

  asio::strand<asio::any_io_executor> strand;
  ServerOptions options;
  using FaultList = std::vector<detail::ActiveFault>;
  mutable std::mutex faults_mutex;
  std::shared_ptr<const FaultList> faults;     // faults_mutex; swapped whole, never changed
  std::uint64_t next_fault_id = 1;             // faults_mutex
  std::uint64_t accepted = 0;                  // faults_mutex
  std::uint64_t requests = 0;                  // faults_mutex
  std::map<std::string, std::uint64_t> fired;  // faults_mutex: plans shaped, by fault name
  EventLog events;
  std::string ca;                           // immutable after construction
  std::optional<ssl::context> tls_context;  // immutable after construction
  std::atomic<unsigned short> bound_port{0};
  std::atomic<bool> stopping{false};
  std::atomic<Clock::rep> started{0};

  // Strand only from here on (the listeners are made by start(), before any handler runs).
  std::vector<std::unique_ptr<Listener>> listeners;
  std::map<std::uint64_t, std::weak_ptr<Connection>> connections;
};

/// One accepted connection and the coroutine that serves it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerCore> server, std::uint64_t number, tcp::socket socket,
             std::string listener, detail::ConnectionPlan plan)
      : server_(std::move(server)),
        number_(number),
        listener_(std::move(listener)),
        socket_(std::move(socket)),
        timer_(server_->strand),
        plan_(std::move(plan)) {}

  awaitable<void> run() {
    server_->record(EventKind::accepted, number_, 0,
                    endpoint_text(socket_.remote_endpoint(ignored_)));
    if (plan_.blackhole == detail::GoDark::on_accept) {
      co_await go_dark();
      close_now();
      co_return;
    }
    if (plan_.reset_on_accept) {
      reset("on_accept", 0);
      co_return;
    }
    // (No co_await inside conditions: GCC 12 miscompiles some of those.)
    bool ready = true;
    if (server_->tls_context) ready = co_await tls_handshake();
    if (ready && tls_) {
      co_await serve_requests(*tls_);
    } else if (ready) {
      co_await serve_requests(socket_);
    }
    if (!closed_) {  // every path above logs its close; this is a safety net
      closed_ = true;
      server_->record(EventKind::closed_by_server, number_, 0, "connection ended");
    }
    close_now();
  }

  /// stop(): closes at once; pending operations complete with errors and the coroutine ends.
  void abort(const std::string& reason) {
    if (closed_) return;
    closed_ = true;
    server_->record(EventKind::closed_by_server, number_, 0, reason);
    close_now();
  }

 private:
  enum class StallEnd { elapsed, data, closed };
  enum class Watched { data, closed };

  tcp::socket& lowest() { return tls_ ? tls_->next_layer() : socket_; }

  void close_now() {
    timer_.cancel();
    lowest().shutdown(tcp::socket::shutdown_both, ignored_);
    lowest().close(ignored_);
  }

  /// The client closed (EOF, reset, or a failed read/write): record it once.
  void closed_by_peer(const boost::system::error_code& error) {
    if (closed_) return;
    closed_ = true;
    server_->record(EventKind::closed_by_peer, number_, 0, error ? error.message() : "eof");
    close_now();
  }

  /// The server closes: FIN first, then read and drop what the client still sends until it
  /// closes too (or lingering_close_limit), so the response is not lost to a reset.
  awaitable<void> close_gracefully(std::string reason) {
    if (closed_) co_return;
    closed_ = true;
    auto& socket = lowest();
    socket.shutdown(tcp::socket::shutdown_send, ignored_);
    // Logged after the FIN is sent: whoever waits for this event may rely on the close.
    server_->record(EventKind::closed_by_server, number_, 0, std::move(reason));
    timer_.expires_after(lingering_close_limit);
    co_await (wait_timer() || drain(socket));
    close_now();
  }

  awaitable<void> drain(tcp::socket& socket) {
    std::array<char, 4096> sink;
    for (;;) {
      auto [error, n] = co_await socket.async_read_some(asio::buffer(sink), as_tuple_awaitable);
      if (error) co_return;
    }
  }

  awaitable<void> wait_timer() { co_await timer_.async_wait(as_tuple_awaitable); }

  void arm_timer(const detail::Wait& wait, Clock::time_point from) {
    timer_.expires_at(from + (wait.duration ? *wait.duration : Clock::duration(forever)));
  }

  /// Watches a connection whose bytes we must not consume (before the TLS handshake): waits
  /// until readable and peeks.
  awaitable<Watched> watch_by_peeking() {
    auto& socket = lowest();
    auto [error] = co_await socket.async_wait(tcp::socket::wait_read, as_tuple_awaitable);
    if (error) {
      last_error_ = error;
      co_return Watched::closed;
    }
    char byte = 0;
    const auto n = socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, last_error_);
    co_return (last_error_ || n == 0) ? Watched::closed : Watched::data;
  }

  /// Watches by reading into the request buffer (the parser will find the bytes there).
  template <typename Stream>
  awaitable<Watched> watch_by_reading(Stream& stream) {
    auto [error, n] =
        co_await stream.async_read_some(buffer_.prepare(watch_chunk), as_tuple_awaitable);
    buffer_.commit(n);
    if (n > 0) co_return Watched::data;
    last_error_ = error;
    co_return Watched::closed;
  }

  /// Waits for the timer (armed by the caller) or for the watch, whichever ends first.
  template <typename Watch>
  awaitable<StallEnd> stall(Watch watch) {
    if (timer_.expiry() <= Clock::now()) co_return StallEnd::elapsed;
    auto result = co_await (wait_timer() || watch());
    if (closed_) co_return StallEnd::closed;
    if (result.index() == 0) co_return StallEnd::elapsed;
    if (std::get<1>(result) == Watched::data) co_return StallEnd::data;
    closed_by_peer(last_error_);
    co_return StallEnd::closed;
  }

  /// Waits out the whole timer; data that arrives meanwhile is kept (or left unread), only the
  /// peer closing ends the wait early.
  template <typename Watch>
  awaitable<bool> hold(Watch watch) {
    auto end = co_await stall(watch);
    if (end == StallEnd::data) {
      co_await wait_timer();
      end = closed_ ? StallEnd::closed : StallEnd::elapsed;
    }
    co_return end == StallEnd::elapsed;
  }

  /// The connection goes dark (blackhole): a one-instruction classic BPF filter (`ret #0`) on
  /// the socket makes the kernel drop every packet from the peer before TCP sees it, so nothing
  /// is acknowledged and no FIN or RST goes back. Then nothing happens until stop() aborts the
  /// connection, which still closes and logs it.
  awaitable<void> go_dark() {
    sock_filter drop_everything[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
    sock_fprog program{1, drop_everything};
    if (::setsockopt(lowest().native_handle(), SOL_SOCKET, SO_ATTACH_FILTER, &program,
                     sizeof program) != 0) {
      closed_ = true;
      server_->record(
          EventKind::closed_by_server, number_, 0,
          std::string("blackhole: cannot attach the socket filter: ") + std::strerror(errno));
      co_return;
    }
    server_->record(EventKind::blackholed, number_, 0, "");
    timer_.expires_at(Clock::time_point::max());
    co_await wait_timer();
  }

  /// Closes with a TCP reset instead of a FIN: SO_LINGER {on, 0 s} makes close() send an RST
  /// and drop whatever is unsent or unread.
  void reset(const char* when, std::uint64_t request) {
    if (closed_) return;
    closed_ = true;
    const linger abortive{1, 0};
    ::setsockopt(lowest().native_handle(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    timer_.cancel();
    lowest().close(ignored_);
    // Logged after the RST is sent: whoever waits for this event may rely on it.
    server_->record(EventKind::reset_sent, number_, request, when);
  }

  /// reset=idle: idle for the plan's time, the connection is forgotten; the next bytes or the
  /// FIN from the peer are answered with the RST. Returns false when the connection is over.
  template <typename Stream>
  awaitable<bool> reset_when_idle(Stream& stream) {
    timer_.expires_after(*plan_.reset_idle);
    const auto end = co_await stall([&] { return watch_by_reading(stream); });
    if (end == StallEnd::closed) co_return false;
    if (end == StallEnd::data) co_return true;
    // Forgotten: wait for the peer's next packet (until stop()), then reset.
    timer_.expires_at(Clock::time_point::max());
    co_await (wait_timer() || lowest().async_wait(tcp::socket::wait_read, as_tuple_awaitable));
    reset("idle", 0);
    co_return false;
  }

  /// Returns false when the connection is over.
  awaitable<bool> tls_handshake() {
    tls_.emplace(std::move(socket_), *server_->tls_context);
    std::vector<unsigned char> client_hello;
    if (plan_.tls_handshake_delay) {
      if (plan_.delay_after_client_hello) {
        const bool read = co_await read_client_hello(client_hello);
        if (!read) co_return false;
      }
      arm_timer(*plan_.tls_handshake_delay, Clock::now());
      for (;;) {
        const auto end = co_await stall([this] { return watch_by_peeking(); });
        if (end == StallEnd::closed) co_return false;
        if (end == StallEnd::elapsed) break;
        if (!client_hello.empty()) {
          co_await wait_timer();  // more than a ClientHello: just wait
          if (closed_) co_return false;
          break;
        }
        // The ClientHello came. Take it off the socket (OpenSSL gets it later) and go on
        // watching, so that the client giving up (its FIN) is seen; the client cannot tell.
        const bool read = co_await read_client_hello(client_hello);
        if (!read) co_return false;
      }
    }
    auto [error, used] = co_await tls_->async_handshake(
        ssl::stream_base::server, asio::buffer(client_hello), as_tuple_awaitable);
    (void)used;
    if (closed_) co_return false;
    if (error) {
      const bool peer_gone = error == asio::error::eof || error == ssl::error::stream_truncated ||
                             error == asio::error::connection_reset;
      if (peer_gone) {
        closed_by_peer(error);
      } else {
        closed_ = true;
        server_->record(EventKind::closed_by_server, number_, 0,
                        "TLS handshake failed: " + error.message());
        close_now();
      }
      co_return false;
    }
    server_->record(EventKind::tls_done, number_, 0, "");
    co_return true;
  }

  /// Reads exactly one TLS record (the ClientHello) from the TCP socket, to hand to OpenSSL
  /// later.
  awaitable<bool> read_client_hello(std::vector<unsigned char>& record) {
    auto& socket = lowest();
    record.resize(5);
    auto [error, n] = co_await asio::async_read(socket, asio::buffer(record), as_tuple_awaitable);
    if (!error) {
      const std::size_t length = (std::size_t{record[3]} << 8) | record[4];
      if (record[0] != 22 || length > tls_record_limit) {
        closed_ = true;
        server_->record(EventKind::closed_by_server, number_, 0, "not a TLS ClientHello");
        close_now();
        co_return false;
      }
      record.resize(5 + length);
      std::tie(error, n) = co_await asio::async_read(
          socket, asio::buffer(record.data() + 5, length), as_tuple_awaitable);
    }
    if (error) {
      if (!closed_) closed_by_peer(error);
      co_return false;
    }
    co_return true;
  }

  template <typename Stream>
  awaitable<void> write_text(Stream& stream, const std::string& text, bool& ok) {
    auto [error, n] = co_await asio::async_write(stream, asio::buffer(text), as_tuple_awaitable);
    (void)n;
    ok = !error && !closed_;
    if (error && !closed_) closed_by_peer(error);
  }

  /// Writes `prefix`, `length` generated body bytes and `suffix`, holding at most one piece of
  /// filler in memory whatever the length.
  template <typename Stream>
  awaitable<void> write_generated(Stream& stream, const std::string& prefix, std::size_t length,
                                  const char* suffix, bool& ok) {
    static const std::string filler(generated_piece, 'x');
    ok = true;
    if (!prefix.empty()) co_await write_text(stream, prefix, ok);
    while (ok && length > 0) {
      const std::size_t n = std::min(length, filler.size());
      auto [error, written] =
          co_await asio::async_write(stream, asio::buffer(filler.data(), n), as_tuple_awaitable);
      (void)written;
      ok = !error && !closed_;
      if (error && !closed_) closed_by_peer(error);
      length -= n;
    }
    if (ok && *suffix != '\0') co_await write_text(stream, suffix, ok);
  }

  /// stall_body: the body stops after `sent` bytes; the connection is held open, watched so
  /// that the client's close is seen and logged, until the server stops.
  template <typename Stream>
  awaitable<void> stall_body(Stream& stream, std::uint64_t request, std::uint64_t sent) {
    server_->record(EventKind::body_stalled, number_, request, std::to_string(sent) + " bytes");
    timer_.expires_at(Clock::time_point::max());
    for (;;) {
      // (Not in the loop's condition: GCC 12 miscompiles co_await inside conditions.)
      const auto end = co_await stall([&] { return watch_by_reading(stream); });
      if (end != StallEnd::data) co_return;
      buffer_.consume(buffer_.size());  // whatever the client sends is never answered
    }
  }

  /// stop_reading: reads the request body until at least `limit` bytes of it are in (or it
  /// ends), then reads nothing more and never answers, until the server stops.
  template <typename Stream>
  awaitable<void> stop_reading(Stream& stream, http::request_parser<http::string_body>& parser,
                               std::uint64_t request, std::uint64_t limit) {
    while (!parser.is_done() && parser.get().body().size() < limit) {
      auto [error, n] = co_await http::async_read_some(stream, buffer_, parser, as_tuple_awaitable);
      (void)n;
      if (closed_) co_return;
      if (error) {
        co_await reject_request(stream, error);
        co_return;
      }
    }
    server_->record(EventKind::reading_stopped, number_, request,
                    std::to_string(parser.get().body().size()) + " bytes");
    timer_.expires_at(Clock::time_point::max());
    co_await wait_timer();
  }

  template <typename Stream>
  awaitable<void> serve_requests(Stream& stream) {
    while (!closed_) {
      // Idle: between requests (or before the first). A NAT that drops idle flows, if any.
      if (plan_.blackhole == detail::GoDark::when_idle && buffer_.size() == 0) {
        timer_.expires_after(plan_.blackhole_idle);
        const auto end = co_await stall([&] { return watch_by_reading(stream); });
        if (end == StallEnd::closed) co_return;
        if (end == StallEnd::elapsed) {
          co_await go_dark();
          co_return;
        }
      }
      if (plan_.reset_idle && buffer_.size() == 0) {
        const bool open = co_await reset_when_idle(stream);
        if (!open) co_return;
      }
      // The server's own idle limit, if any.
      if (plan_.idle_close && buffer_.size() == 0) {
        timer_.expires_after(*plan_.idle_close);
        const auto end = co_await stall([&] { return watch_by_reading(stream); });
        if (end == StallEnd::closed) co_return;
        if (end == StallEnd::elapsed) {
          co_await close_gracefully("idle_close");
          co_return;
        }
      }
      http::request_parser<http::string_body> parser;
      parser.body_limit(request_body_limit);
      parser.header_limit(request_header_limit);
      const bool timed = server_->options.header_read_timeout > Clock::duration::zero();
      if (timed && responses_ > 0 && buffer_.size() == 0) {
        // A kept connection may idle: the head's time starts with its first byte (Go's rule).
        const auto watched = co_await watch_by_reading(stream);
        if (watched == Watched::closed) {
          closed_by_peer(last_error_);
          co_return;
        }
      }
      boost::system::error_code read_error;
      if (timed) {
        timer_.expires_after(server_->options.header_read_timeout);
        auto result = co_await (wait_timer() || read_header(stream, parser));
        if (closed_) co_return;
        if (result.index() == 0) {
          co_await close_gracefully("header_read_timeout");
          co_return;
        }
        read_error = std::get<1>(result);
      } else {
        read_error = co_await read_header(stream, parser);
      }
      if (closed_) co_return;
      if (read_error) {
        co_await reject_request(stream, read_error);
        co_return;
      }
      const auto& request = parser.get();
      detail::RequestInfo info;
      info.listener = listener_;
      info.connection = number_;
      const std::string_view target = request.target();
      info.path = std::string(target.substr(0, target.find('?')));
      const auto plan = server_->take_request(info);
      server_->record(EventKind::request_headers_read, number_, info.request,
                      std::string(request.method_string()) + " " + std::string(target));

      const bool has_body = !parser.is_done();
      const bool expects_continue =
          has_body && beast::iequals(request[http::field::expect], "100-continue");
      if (expects_continue) {
        if (plan.expect_continue.reply_instead) {
          co_await reply_instead_of_continue(stream, info, *plan.expect_continue.reply_instead);
          co_return;
        }
        bool send_continue = buffer_.size() == 0;  // the body already arriving needs no 100
        if (send_continue && plan.expect_continue.withhold) {
          arm_timer(*plan.expect_continue.withhold, Clock::now());
          const auto end = co_await stall([&] { return watch_by_reading(stream); });
          if (end == StallEnd::closed) co_return;
          send_continue = end == StallEnd::elapsed;
        }
        if (send_continue) {
          bool ok = false;
          co_await write_text(stream, "HTTP/1.1 100 Continue\r\n\r\n", ok);
          if (!ok) co_return;
          server_->record(EventKind::continue_sent, number_, info.request,
                          plan.expect_continue.withhold ? plan.expect_continue.withhold->by : "");
        }
      }

      if (has_body) {
        if (buffer_.size() == 0) {
          auto [error, n] =
              co_await stream.async_read_some(buffer_.prepare(read_chunk), as_tuple_awaitable);
          buffer_.commit(n);
          if (closed_) co_return;
          if (n == 0) {
            closed_by_peer(error);
            co_return;
          }
        }
        server_->record(EventKind::body_first_byte, number_, info.request, "");
        if (plan.stop_reading_after) {
          co_await stop_reading(stream, parser, info.request, *plan.stop_reading_after);
          co_return;
        }
        auto [error, n] = co_await http::async_read(stream, buffer_, parser, as_tuple_awaitable);
        (void)n;
        if (closed_) co_return;
        if (error) {
          co_await reject_request(stream, error);
          co_return;
        }
        server_->record(EventKind::body_done, number_, info.request,
                        std::to_string(parser.get().body().size()) + " bytes");
      }

      if (plan_.blackhole == detail::GoDark::after_request) {
        co_await go_dark();
        co_return;
      }
      if (plan.reset_after_request) {
        reset("after_headers", info.request);
        co_return;
      }
      const bool keep_alive = co_await respond(stream, info, plan, parser.get());
      if (closed_) co_return;
      ++responses_;
      if (!keep_alive) {
        co_await close_gracefully("Connection: close");
        co_return;
      }
      if (plan_.close_after_responses && responses_ >= *plan_.close_after_responses) {
        co_await close_gracefully("close_after_requests");
        co_return;
      }
    }
  }

  template <typename Stream>
  awaitable<boost::system::error_code> read_header(
      Stream& stream, http::request_parser<http::string_body>& parser) {
    auto [error, n] = co_await http::async_read_header(stream, buffer_, parser, as_tuple_awaitable);
    (void)n;
    co_return error;
  }

  /// A read error on a request: EOF or reset is the client closing; a bad request gets a status
  /// and the connection is closed.
  template <typename Stream>
  awaitable<void> reject_request(Stream& stream, const boost::system::error_code& error) {
    unsigned status = 0;
    if (error == http::error::body_limit) {
      status = 413;
    } else if (error == http::error::header_limit) {
      status = 431;
    } else if (error.category() == http::make_error_code(http::error::bad_target).category() &&
               error != http::error::end_of_stream && error != http::error::partial_message) {
      status = 400;
    }
    if (status == 0) {
      closed_by_peer(error);
      co_return;
    }
    http::response<http::string_body> response{static_cast<http::status>(status), 11};
    response.body() = error.message() + "\n";
    response.keep_alive(false);
    response.prepare_payload();
    std::ostringstream text;
    text << response;
    bool ok = false;
    co_await write_text(stream, text.str(), ok);
    if (ok) co_await close_gracefully("bad request: " + error.message());
  }

  template <typename Stream>
  awaitable<void> reply_instead_of_continue(Stream& stream, const detail::RequestInfo& info,
                                            unsigned status) {
    http::response<http::string_body> response{static_cast<http::status>(status), 11};
    response.body() = "withhold_continue: final status instead of 100 Continue\n";
    response.keep_alive(false);  // the unread body leaves the connection out of sync
    response.prepare_payload();
    std::ostringstream text;
    text << response;
    bool ok = false;
    co_await write_text(stream, text.str(), ok);
    if (!ok) co_return;
    server_->record(EventKind::response_headers_sent, number_, info.request,
                    std::to_string(status) + " withhold_continue");
    server_->record(EventKind::response_done, number_, info.request, "");
    ++responses_;
    co_await close_gracefully("withhold_continue reply");
  }

  /// Writes the response per Route and plan; returns whether the connection stays open.
  template <typename Stream>
  awaitable<bool> respond(Stream& stream, const detail::RequestInfo& info,
                          const detail::RequestPlan& plan,
                          const http::request<http::string_body>& request) {
    const Route& route = server_->route_for(info.path);
    const bool keep_alive = request.keep_alive() && !route.close;
    http::response<http::empty_body> header{static_cast<http::status>(route.status),
                                            request.version()};
    header.set(http::field::server, "tunedhttp-mockserver");
    for (const auto& [name, value] : route.headers) header.set(name, value);
    const bool generated = route.body_size != 0;
    const std::uint64_t body_length = generated ? route.body_size : route.body.size();
    const bool chunked = route.chunked && request.version() >= 11;
    if (chunked) {
      header.chunked(true);
    } else {
      header.content_length(body_length);
    }
    header.keep_alive(keep_alive);
    std::ostringstream header_stream;
    header_stream << header.base();
    const std::string header_text = header_stream.str();

    bool ok = false;
    std::string_view unsent = header_text;
    if (plan.hold_headers) {
      const auto held_from = Clock::now();
      if (plan.hold_after_status_line) {
        const auto line_end = header_text.find("\r\n") + 2;
        co_await write_text(stream, header_text.substr(0, line_end), ok);
        if (!ok) co_return false;
        unsent.remove_prefix(line_end);
      }
      arm_timer(*plan.hold_headers, held_from);
      const bool held = co_await hold([&] { return watch_by_reading(stream); });
      if (!held) co_return false;
    }
    co_await write_text(stream, std::string(unsent), ok);
    if (!ok) co_return false;
    server_->record(EventKind::response_headers_sent, number_, info.request,
                    std::to_string(route.status) + (plan.hold_headers ? " hold_headers" : ""));

    // reset=mid-body:N sends N bytes of the body, then the reset; stall-body=after:N sends N
    // bytes, then nothing.
    std::uint64_t sent_length = body_length;
    if (plan.reset_after_body_bytes)
      sent_length = std::min(*plan.reset_after_body_bytes, sent_length);
    if (plan.stall_body_after) sent_length = std::min(*plan.stall_body_after, sent_length);
    if (request.method() != http::verb::head && sent_length != 0) {
      const std::uint64_t piece = plan.drip_chunk ? *plan.drip_chunk : body_length;
      for (std::uint64_t offset = 0; offset < sent_length; offset += piece) {
        if (offset != 0 && plan.drip_chunk) {
          timer_.expires_after(plan.drip_every);
          co_await wait_timer();
          if (closed_) co_return false;
        }
        const auto length = static_cast<std::size_t>(std::min(piece, sent_length - offset));
        std::string size_line;
        if (chunked) {
          char size[32];
          std::snprintf(size, sizeof size, "%zx\r\n", length);
          size_line = size;
        }
        if (generated) {
          co_await write_generated(stream, size_line, length, chunked ? "\r\n" : "", ok);
        } else {
          const auto data = std::string_view(route.body).substr(offset, length);
          co_await write_text(stream, size_line + std::string(data) + (chunked ? "\r\n" : ""), ok);
        }
        if (!ok) co_return false;
      }
    }
    if (plan.reset_after_body_bytes) {
      reset("mid_body", info.request);
      co_return false;
    }
    if (plan.stall_body_after) {
      co_await stall_body(stream, info.request,
                          request.method() == http::verb::head ? 0 : sent_length);
      co_return false;
    }
    if (chunked && request.method() != http::verb::head) {
      co_await write_text(stream, "0\r\n\r\n", ok);
      if (!ok) co_return false;
    }
    server_->record(EventKind::response_done, number_, info.request,
                    plan.drip_chunk ? "drip_body" : "");
    co_return keep_alive;
  }

  std::shared_ptr<ServerCore> server_;
  std::uint64_t number_;
  std::string listener_;  // the address it was accepted on
  tcp::socket socket_;    // moved into tls_ for TLS
  std::optional<ssl::stream<tcp::socket>> tls_;
  asio::steady_timer timer_;  // the one timer of this connection's current wait
  detail::ConnectionPlan plan_;
  beast::flat_buffer buffer_;
  std::uint64_t responses_ = 0;
  bool closed_ = false;  // closed (and logged) by either side
  boost::system::error_code last_error_;
  boost::system::error_code ignored_;
};

awaitable<void> ServerCore::accept_loop(Listener& listener) {
  auto self = shared_from_this();
  while (!stopping) {
    if (listener.pending_stall) {
      listener.stall_timer.expires_after(listener.pending_stall->duration
                                             ? *listener.pending_stall->duration
                                             : Clock::duration(forever));
      listener.pending_stall.reset();
      co_await listener.stall_timer.async_wait(as_tuple_awaitable);
      release_accept_queue(listener);
      if (stopping) break;
    }
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
    asio::co_spawn(strand, connection->run(), [self, number, connection](std::exception_ptr) {
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

std::string route_problem(const Route& route) {
  if (route.status < 200 || route.status > 599) {
    return "status " + std::to_string(route.status) + ": a final status is 200 to 599";
  }
  for (const auto& [name, value] : route.headers) {
    if (auto problem = field_problem(name, value); !problem.empty()) return "header: " + problem;
  }
  return {};
}

struct Server::Impl : ServerCore {
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
      auto listener = std::make_unique<Listener>(impl.strand, address.to_string());
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
    asio::co_spawn(impl.strand, impl.accept_loop(*listener), asio::detached);
  }
}

void Server::stop() {
  if (impl_->stopping.exchange(true)) return;
  asio::dispatch(impl_->strand, [impl = impl_] { impl->shutdown_now(); });
}

unsigned short Server::port() const { return impl_->bound_port; }

std::string Server::base_url() const {
  std::string host = impl_->options.addresses().front();
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(impl_->options.tls ? "https" : "http") + "://" + host + ":" +
         std::to_string(port()) + "/";
}

std::string Server::ca_pem() const { return impl_->ca; }

EventLog& Server::events() { return impl_->events; }

std::vector<FaultEntry> Server::faults() const {
  std::lock_guard lock{impl_->faults_mutex};
  return entries_of(*impl_->faults);
}

std::vector<FaultEntry> Server::set_faults(const std::vector<FaultConfig>& configs) {
  return impl_->install(make_checked_faults(configs, impl_->options.tls), false);
}

FaultEntry Server::add_fault(const FaultConfig& config) {
  return impl_->install(make_checked_faults({config}, impl_->options.tls), true).front();
}

bool Server::remove_fault(std::uint64_t id) { return impl_->uninstall(id); }

void Server::after_changes(std::function<void()> done) {
  // The strand runs in order: every replan_accepts() posted before this runs first.
  asio::post(impl_->strand, std::move(done));
}

ServerStats Server::stats() const {
  std::lock_guard lock{impl_->faults_mutex};
  return ServerStats{impl_->accepted, impl_->requests, impl_->fired};
}

std::chrono::steady_clock::time_point Server::started_at() const {
  return Clock::time_point(Clock::duration(impl_->started.load()));
}

}  // namespace tunedhttp::mockserver
