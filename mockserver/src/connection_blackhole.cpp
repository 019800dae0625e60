// The mechanism of blackhole (faults/blackhole.cpp): the connection goes dark.
#include <linux/filter.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "connection.hpp"

namespace tunedhttp::mockserver::detail {

/// A one-instruction classic BPF filter (`ret #0`) on the socket makes the kernel drop every
/// packet from the peer before TCP sees it, so nothing is acknowledged and no FIN or RST goes
/// back. Then nothing happens until stop() aborts the connection, which still closes and logs it.
awaitable<void> Connection::go_dark() {
  sock_filter drop_everything[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  sock_fprog program{1, drop_everything};
  if (::setsockopt(lowest().native_handle(), SOL_SOCKET, SO_ATTACH_FILTER, &program,
                   sizeof program) != 0) {
    abort(std::string("blackhole: cannot attach the socket filter: ") + std::strerror(errno));
    co_return;
  }
  server_->record(EventKind::blackholed, number_, 0, "");
  timer_.expires_at(Clock::time_point::max());
  co_await wait_timer();
}

}  // namespace tunedhttp::mockserver::detail
