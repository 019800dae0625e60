// The mock server under abuse: abandoned connections, slowloris-style dribbled headers, clients
// that vanish mid-body. It keeps serving others promptly and frees every connection (the event
// log shows closed_by_peer for each, and the process's fd count returns).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <thread>
#include <tunedhttp/mockserver/server.hpp>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;
using mockserver::EventKind;

// A mock server on its own thread.
class AbusedServer : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = open_fd_count();
    mockserver::ServerOptions options;
    options.routes["/upload"] = mockserver::Route{};
    server_ = std::make_unique<mockserver::Server>(context_->get_executor(), options);
    server_->start();
    thread_ = std::thread([this] { context_->run(); });
    fds_serving_ = open_fd_count();
  }
  void TearDown() override {
    server_->stop();
    server_.reset();
    work_.reset();
    thread_.join();
    context_.reset();  // its reactor's own fds (epoll, eventfd, timerfd) go with it
    EXPECT_EQ(open_fd_count(), fds_before_) << "a socket leaked";
  }

  // A blocking TCP connection to the server; -1 on failure.
  int connect_raw() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(server_->port());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  static void send_all(int fd, const std::string& data) {
    (void)!::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  }
  static void reset(int fd) {
    linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(fd);
  }

  // A normal request, with a fresh client, must succeed promptly while the server is abused.
  void expect_serves_others() {
    ClientFixture fixture;
    const auto started = Clock::now();
    const auto outcome = fixture.request(get(server_->base_url()), std::chrono::seconds{5});
    ASSERT_TRUE(outcome.completed);
    ASSERT_FALSE(outcome.error) << outcome.error.message();
    EXPECT_EQ(outcome.response.result_int(), 200u);
    EXPECT_LT(outcome.finished - started, timing_tolerance()) << "the server was slow to serve";
  }

  // Waits until every connection in [first, last] is logged closed_by_peer.
  void expect_closed_by_peer(std::uint64_t first, std::uint64_t last) {
    const auto deadline = Clock::now() + 10s;
    for (auto connection = first; connection <= last; ++connection) {
      ASSERT_TRUE(server_->events().wait_for(EventKind::closed_by_peer, connection, deadline))
          << "connection " << connection << " was not freed";
    }
  }

  // Waits (bounded) until the process has `count` fds open again.
  void expect_fds_return_to(int count) {
    const auto deadline = Clock::now() + 5s;
    while (open_fd_count() != count && Clock::now() < deadline) {
      server_->events().wait_until([](const mockserver::Event&) { return false; },
                                   Clock::now() + 10ms);
    }
    EXPECT_EQ(open_fd_count(), count) << "the server kept sockets of vanished clients";
  }

  std::uint64_t accepted() const {
    std::uint64_t count = 0;
    for (const auto& event : server_->events().snapshot()) {
      if (event.kind == EventKind::accepted) ++count;
    }
    return count;
  }

  std::optional<boost::asio::io_context> context_{std::in_place};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(*context_)};
  std::unique_ptr<mockserver::Server> server_;
  std::thread thread_;
  int fds_before_ = 0;
  int fds_serving_ = 0;
};

TEST_F(AbusedServer, AThousandConnectionsOpenedAndAbandoned) {
  constexpr int batches = 10;
  constexpr int per_batch = 100;
  for (int batch = 0; batch < batches; ++batch) {
    std::vector<int> fds;
    for (int i = 0; i < per_batch; ++i) {
      const int fd = connect_raw();
      ASSERT_GE(fd, 0) << "connect failed in batch " << batch;
      fds.push_back(fd);
    }
    // Half close quietly, half reset: both are a peer going away.
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (i % 2 == 0) {
        ::close(fds[i]);
      } else {
        reset(fds[i]);
      }
    }
  }
  expect_closed_by_peer(1, batches * per_batch);
  EXPECT_EQ(accepted(), static_cast<std::uint64_t>(batches * per_batch));
  expect_fds_return_to(fds_serving_);
  expect_serves_others();
}

TEST_F(AbusedServer, SlowlorisDribbledHeaders) {
  constexpr int dribblers = 50;
  std::vector<int> fds;
  for (int i = 0; i < dribblers; ++i) {
    const int fd = connect_raw();
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  // A byte from every dribbler in turn; the server keeps answering others in between.
  for (std::size_t at = 0; at < request.size(); ++at) {
    for (const int fd : fds) send_all(fd, request.substr(at, 1));
    if (at % 10 == 0) expect_serves_others();
  }
  for (int round = 0; round < 20; ++round) {
    for (const int fd : fds) send_all(fd, "a");
  }
  expect_serves_others();
  for (const int fd : fds) ::close(fd);
  expect_closed_by_peer(1, dribblers);
  expect_fds_return_to(fds_serving_);
}

TEST_F(AbusedServer, ClientsVanishMidBody) {
  // Connection 1 vanishes after the `100 Continue` it asked for, before any body byte.
  const int waiting = connect_raw();
  ASSERT_GE(waiting, 0);
  send_all(waiting,
           "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
           "Expect: 100-continue\r\n\r\n");
  ASSERT_TRUE(server_->events().wait_for(EventKind::continue_sent, 1, Clock::now() + 5s));
  ::close(waiting);
  // Connections 2..61 vanish part way through their bodies, quietly or with a reset.
  constexpr int vanishers = 60;
  for (int i = 0; i < vanishers; ++i) {
    const int fd = connect_raw();
    ASSERT_GE(fd, 0);
    send_all(fd, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                     std::string(1000 + i * 100, 'b'));
    if (i % 3 == 0) {
      reset(fd);
    } else {
      ::close(fd);
    }
  }
  expect_closed_by_peer(1, vanishers + 1);
  expect_fds_return_to(fds_serving_);
  expect_serves_others();
}

}  // namespace
}  // namespace tunedhttp::testing
