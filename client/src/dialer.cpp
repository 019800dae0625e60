#include "dialer.hpp"

#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <vector>

#include "dial_plan.hpp"
#include "keep_alive.hpp"
#include "read_response.hpp"
#include "with_timeout.hpp"

namespace tunedhttp::detail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Deadline = std::optional<DialClock::time_point>;

/// Set when a dial is over (won, failed or cancelled): its other attempts then start nothing
/// and trace nothing (their trace hooks may be gone).
using Abandoned = std::shared_ptr<bool>;

/// "tcp4 127.0.0.1:80" / "tcp6 [::1]:80": the address and family of an attempt, for the trace.
std::string attempt_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string port = std::to_string(endpoint.port());
  return address.is_v4() ? "tcp4 " + address.to_string() + ":" + port
                         : "tcp6 [" + address.to_string() + "]:" + port;
}

/// The overridden addresses of `url` (ClientOptions::resolve), or nullopt when none apply.
std::optional<std::vector<std::string>> overridden(const Url& url, const ClientOptions& options) {
  std::string host = url.host;
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& key : {host + ":" + url.port, host}) {
    if (auto found = options.resolve.find(key); found != options.resolve.end()) {
      return found->second;
    }
  }
  return std::nullopt;
}

/// The addresses to dial: the literal, the override, or what the resolver answers.
asio::awaitable<error_code> resolve(const Url& url, const ClientOptions& options,
                                    std::vector<tcp::endpoint>& endpoints, Tracer& tracer) {
  error_code ec;
  const auto port = static_cast<unsigned short>(std::stoul(url.port));
  if (const auto address = asio::ip::make_address(url.host, ec); !ec) {
    endpoints.emplace_back(address, port);
    co_return error_code{};
  }
  tracer.emit(TracePoint::dns_start, {}, url.host);
  if (auto addresses = overridden(url, options)) {
    for (const auto& text : *addresses) {
      const auto address = asio::ip::make_address(text, ec);
      if (ec) break;
      endpoints.emplace_back(address, port);
    }
    if (ec || endpoints.empty()) ec = asio::error::host_not_found;
    tracer.emit(TracePoint::dns_done, ec, url.host + " (resolve override)");
    co_return ec;
  }
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto [resolve_error, results] =
      co_await resolver.async_resolve(url.host, url.port, asio::as_tuple(asio::use_awaitable));
  tracer.emit(TracePoint::dns_done, resolve_error, url.host);
  if (resolve_error) co_return resolve_error;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  co_return error_code{};
}

asio::awaitable<error_code> connect_one(tcp::socket& socket, const tcp::endpoint& endpoint) {
  auto [ec] = co_await socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
  co_return ec;
}

/// Go's dialSerial: the addresses one after another, each under its share of the time left
/// (partialDeadline); nothing starts once the deadline has passed or the dial is abandoned.
/// Returns success with `socket` connected, or the first error.
asio::awaitable<error_code> dial_serial(tcp::socket& socket,
                                        const std::vector<tcp::endpoint>& addresses,
                                        Deadline deadline, Abandoned abandoned, Tracer tracer) {
  error_code first_error;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    const auto state = co_await asio::this_coro::cancellation_state;
    if (*abandoned || state.cancelled() != asio::cancellation_type::none) {
      co_return asio::error::operation_aborted;
    }
    bool expired = false;
    const auto attempt_deadline =
        partial_deadline(DialClock::now(), deadline, addresses.size() - i, expired);
    if (expired) co_return first_error ? first_error : make_error_code(errc::connect_timeout);
    error_code ignored;
    socket.close(ignored);
    const std::string text = tracer.enabled() ? attempt_text(addresses[i]) : std::string{};
    tracer.emit(TracePoint::connect_start, {}, text);
    error_code ec;
    if (attempt_deadline) {
      auto connected = co_await with_deadline(connect_one(socket, addresses[i]), *attempt_deadline);
      ec = connected ? *connected : make_error_code(errc::connect_timeout);
    } else {
      ec = co_await connect_one(socket, addresses[i]);
    }
    if (!*abandoned) tracer.emit(TracePoint::connect_done, ec, text);
    if (!ec) co_return error_code{};
    if (!first_error) first_error = ec;
  }
  co_return first_error ? first_error : make_error_code(asio::error::host_not_found);
}

/// The two attempts of a dual-stack dial and how they report.
struct Race {
  /// The racers run on `executor` (the dial's); the sockets are made on `io_executor`, as the
  /// winner becomes the connection's socket (dial()).
  Race(const asio::any_io_executor& executor, const asio::any_io_executor& io_executor)
      : sockets{tcp::socket(io_executor), tcp::socket(io_executor)},
        fallback_timer(executor),
        done(executor, 2) {}
  tcp::socket sockets[2];  ///< [0] primaries, [1] fallbacks
  asio::steady_timer fallback_timer;
  asio::experimental::channel<void(error_code, error_code, int)> done;
};

/// One side of the race: the fallbacks (`which` 1) wait for the fallback timer first.
asio::awaitable<void> run_racer(std::shared_ptr<Race> race, int which,
                                std::vector<tcp::endpoint> addresses, Deadline deadline,
                                Abandoned abandoned, Tracer tracer) {
  if (which == 1) co_await race->fallback_timer.async_wait(asio::as_tuple(asio::use_awaitable));
  const auto ec =
      co_await dial_serial(race->sockets[which], addresses, deadline, abandoned, tracer);
  race->done.try_send(error_code{}, ec, which);
}

/// Go's dialParallel: the primaries at once, the fallbacks after the fallback delay (or as soon
/// as the primaries have all failed); the first connection wins and the other attempt is
/// closed. When both fail, the primaries' error.
asio::awaitable<error_code> dial_parallel(tcp::socket& socket, const DialPlan& plan,
                                          Deadline deadline, Tracer& tracer) {
  auto abandoned = std::make_shared<bool>(false);
  if (plan.fallbacks.empty()) {
    auto ec = co_await dial_serial(socket, plan.primaries, deadline, abandoned, tracer);
    *abandoned = true;
    co_return ec;
  }
  auto executor = co_await asio::this_coro::executor;
  auto race = std::make_shared<Race>(executor, socket.get_executor());
  race->fallback_timer.expires_after(plan.fallback_delay);
  // (Coroutine functions, not capturing lambdas: a lambda's captures would die with it.)
  asio::co_spawn(executor, run_racer(race, 0, plan.primaries, deadline, abandoned, tracer),
                 asio::detached);
  asio::co_spawn(executor, run_racer(race, 1, plan.fallbacks, deadline, abandoned, tracer),
                 asio::detached);

  error_code primary_error;
  int failed = 0;
  error_code result = asio::error::operation_aborted;
  for (;;) {
    auto [channel_error, ec, which] =
        co_await race->done.async_receive(asio::as_tuple(asio::use_awaitable));
    if (channel_error) break;  // cancelled: `connect` expired or the caller gave up
    if (!ec) {
      socket = std::move(race->sockets[which]);
      result = {};
      break;
    }
    if (which == 0) {
      primary_error = ec;
      race->fallback_timer.cancel();  // the fallbacks start now
    }
    if (++failed == 2) {
      result = primary_error;
      break;
    }
  }
  *abandoned = true;
  error_code ignored;
  race->fallback_timer.cancel();
  for (auto& loser : race->sockets) loser.close(ignored);
  co_return result;
}

asio::awaitable<error_code> connect_socket(tcp::socket& socket, const Url& url,
                                           const ClientOptions& options, Deadline deadline,
                                           Tracer& tracer) {
  std::vector<tcp::endpoint> endpoints;
  if (auto ec = co_await resolve(url, options, endpoints, tracer)) co_return ec;
  const auto plan = plan_dial(endpoints, effective_dual_stack_fallback_delay(options.settings));
  auto ec = co_await dial_parallel(socket, plan, deadline, tracer);
  if (!ec) {
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    // Synchronous writes then return would_block instead of waiting: the exchange writes a
    // request in place and goes through the event loop only when the socket is full.
    socket.non_blocking(true, ignored);
  }
  co_return ec;
}

// Asks the proxy for a tunnel and reads its answer's headers (bytes after them are dropped: the
// TLS server speaks only when spoken to, as Go's dialConn notes).
asio::awaitable<error_code> open_tunnel(Connection& connection, const Route& route,
                                        std::uint32_t header_limit, unsigned& status) {
  const std::string request = connect_request(route);
  auto [write_error, written] = co_await asio::async_write(connection.socket, asio::buffer(request),
                                                           asio::as_tuple(asio::use_awaitable));
  if (write_error) co_return write_error;
  // The answer to CONNECT has no body we read, whatever its framing says (as for HEAD).
  ResponseReader reader(header_limit, 0, /*head=*/true);
  for (;;) {
    const auto step = co_await next_event(connection.socket, connection.buffer, reader);
    if (step.event == ResponseEvent::failed) {
      co_return step.error ? step.error : make_error_code(errc::malformed_response);
    }
    if (step.event == ResponseEvent::final_headers || step.event == ResponseEvent::complete) {
      status = reader.status();
      connection.buffer.clear();
      co_return tunnel_verdict(status);
    }
  }
}

// Asks `tls` to check the server's certificate against `host`, as Go's tls.Config.ServerName
// does: a DNS name against the DNS names, an address against the IP addresses.
bool check_host(TlsStream& tls, const std::string& host) {
  error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  if (not_an_address) return SSL_set1_host(tls.native_handle(), host.c_str()) == 1;
  return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls.native_handle()), host.c_str()) == 1;
}

}  // namespace

asio::awaitable<DialResult> dial(const Route& route, const ClientOptions& options,
                                 asio::ssl::context* tls_context, std::uint64_t id,
                                 const asio::any_io_executor& io_executor, Tracer& tracer) {
  const Settings& settings = options.settings;
  const Url& url = route.target;
  auto connection = std::make_shared<Connection>(io_executor);
  connection->id = id;
  connection->key = route.key();
  tracer.set_connection(id);

  tracer.emit(TracePoint::dial_start, {}, connection->key);
  // `connect` covers resolution and every attempt; the attempts share what is left of it.
  Deadline deadline;
  if (settings.connect > std::chrono::nanoseconds::zero()) {
    deadline = DialClock::now() + settings.connect;
  }
  auto connected = co_await with_timeout(
      connect_socket(connection->socket, route.dial_address(), options, deadline, tracer),
      settings.connect);
  error_code ec = connected ? *connected : make_error_code(errc::connect_timeout);
  if (!ec) ec = apply_keep_alive(connection->socket, effective_keep_alive(settings));
  if (tracer.enabled()) {
    TraceEvent done;
    done.point = TracePoint::dial_done;
    done.at = std::chrono::steady_clock::now();
    done.error = ec;
    done.socket = ec ? -1 : connection->socket.native_handle();
    tracer.emit(done);
  }
  if (ec) {
    connection->close();
    co_return DialResult{ec, nullptr};
  }

  if (route.tunnel()) {
    tracer.emit(TracePoint::proxy_connect_start, {}, url.authority());
    unsigned status = 0;
    auto answered = co_await with_timeout(
        open_tunnel(*connection, route, options.header_limit, status), settings.proxy_connect);
    ec = answered ? *answered : make_error_code(errc::proxy_connect_timeout);
    tracer.emit(TracePoint::proxy_connect_done, ec, status ? std::to_string(status) : "");
    if (ec) {
      connection->close();
      co_return DialResult{ec, nullptr};
    }
  }

  if (url.tls) {
    connection->tls = std::make_unique<TlsStream>(connection->socket, tls_context->native_handle());
    error_code ignored;
    // SNI is for names only (RFC 6066 §3); addresses are checked against IP SANs instead.
    if (asio::ip::make_address(url.host, ignored); ignored) {
      SSL_set_tlsext_host_name(connection->tls->native_handle(), url.host.c_str());
    }
    if (!options.tls.insecure && !check_host(*connection->tls, url.host)) {
      connection->close();
      co_return DialResult{asio::error::no_memory, nullptr};
    }
    tracer.emit(TracePoint::tls_handshake_start);
    auto shaken = co_await with_timeout(connection->tls->handshake(), settings.tls_handshake);
    ec = shaken ? *shaken : make_error_code(errc::tls_handshake_timeout);
    tracer.emit(TracePoint::tls_handshake_done, ec);
    if (ec) {
      connection->close();
      co_return DialResult{ec, nullptr};
    }
  }
  co_return DialResult{{}, std::move(connection)};
}

}  // namespace tunedhttp::detail
