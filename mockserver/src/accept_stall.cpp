// The mechanism of stall_accept (faults/stall_accept.cpp): the TCP handshake of new clients does
// not complete. The listener drops to backlog 0 and the server's own filler connections fill the
// kernel's accept queue, so further SYNs are dropped until the fillers go.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

#include "server_core.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

// How long a filler connection may take to enter the accept queue (loopback: microseconds).
constexpr int filler_connect_limit_ms = 200;
constexpr int max_fillers = 4;

/// Linux reports a listening socket's accept queue in TCP_INFO: tcpi_unacked is the current
/// length, tcpi_sacked the limit; the queue is full when length > limit.
bool accept_queue_full(int listener) {
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(listener, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return false;
  return info.tcpi_unacked > info.tcpi_sacked;
}

}  // namespace

void ServerCore::replan_accepts() {
  asio::post(serial, [self = shared_from_this()] {
    if (self->stopping) return;
    for (auto& listener : self->listeners) self->replan_accept(*listener);
  });
}

void ServerCore::replan_accept(Listener& listener) {
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

bool ServerCore::has_stall_accept(const Listener& listener) const {
  std::lock_guard lock{faults_mutex};
  for (const auto& fault : *faults) {
    if (fault.level == FaultLevel::accept &&
        listener_matches(fault.config.target, listener.address)) {
      return true;
    }
  }
  return false;
}

void ServerCore::prepare_next_accept(Listener& listener) {
  auto plan = plan_accept(listener);
  if (!plan.stall) return;
  fill_accept_queue(listener);
  listener.pending_stall = plan.stall;
}

awaitable<void> ServerCore::stall_if_planned(Listener& listener) {
  if (!listener.pending_stall) co_return;
  listener.stall_timer.expires_after(listener.pending_stall->duration
                                         ? *listener.pending_stall->duration
                                         : Clock::duration(forever));
  listener.pending_stall.reset();
  co_await listener.stall_timer.async_wait(asio::as_tuple(asio::use_awaitable));
  release_accept_queue(listener);
}

/// With backlog 0, Linux holds one connection in the accept queue. Blocks for at most
/// filler_connect_limit_ms per filler; loopback connects complete in microseconds.
void ServerCore::fill_accept_queue(Listener& listener) {
  boost::system::error_code ignored;
  listener.acceptor.listen(0, ignored);
  auto target = listener.acceptor.local_endpoint();
  if (target.address().is_unspecified()) {
    target.address(target.address().is_v6() ? asio::ip::address(asio::ip::address_v6::loopback())
                                            : asio::ip::address(asio::ip::address_v4::loopback()));
  }
  const int listening = listener.acceptor.native_handle();
  for (int i = 0; i < max_fillers && !accept_queue_full(listening); ++i) {
    tcp::socket filler(serial);
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

void ServerCore::release_accept_queue(Listener& listener) {
  for (auto& filler : listener.fillers) {
    boost::system::error_code ignored;
    filler.close(ignored);
  }
  listener.fillers.clear();
  boost::system::error_code ignored;
  listener.acceptor.listen(tcp::acceptor::max_listen_connections, ignored);
}

}  // namespace tunedhttp::mockserver::detail
