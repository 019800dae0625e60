// `conn_keep_alive` (Dialer.KeepAlive): SO_KEEPALIVE with TCP_KEEPIDLE = TCP_KEEPINTVL.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;

struct KeepAliveOptions {
  int enabled = -1;
  int idle = -1;
  int interval = -1;
};

KeepAliveOptions read_options(int fd) {
  KeepAliveOptions options;
  socklen_t length = sizeof(int);
  getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &options.enabled, &length);
  getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &options.idle, &length);
  getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &options.interval, &length);
  return options;
}

// Reads the client's socket options at dial_done, while the socket is certainly open.
KeepAliveOptions options_after_dial(std::chrono::nanoseconds keep_alive) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write(ok_response());
  });
  Settings settings;
  settings.conn_keep_alive = keep_alive;
  KeepAliveOptions seen;
  bool done = false;
  ClientOptions options;
  options.settings = settings;
  boost::asio::io_context context;
  Client client(context.get_executor(), options);
  client.async_request(
      get(server.url()),
      [&](const TraceEvent& event) {
        if (event.point == TracePoint::dial_done && event.socket >= 0) {
          seen = read_options(event.socket);
        }
      },
      [&](boost::system::error_code ec, Response) {
        EXPECT_FALSE(ec);
        done = true;
      });
  const auto deadline = Clock::now() + 3s;
  while (!done && Clock::now() < deadline) context.run_one_for(100ms);
  EXPECT_TRUE(done) << "the request hung";
  return seen;
}

TEST(ConnKeepAlive, SetsIdleAndIntervalToThePeriod) {
  const auto seen = options_after_dial(7s);
  EXPECT_EQ(seen.enabled, 1);
  EXPECT_EQ(seen.idle, 7);
  EXPECT_EQ(seen.interval, 7);
}

TEST(ConnKeepAlive, RoundsFractionsUp) {
  const auto seen = options_after_dial(1500ms);
  EXPECT_EQ(seen.enabled, 1);
  EXPECT_EQ(seen.idle, 2);
  EXPECT_EQ(seen.interval, 2);
}

TEST(ConnKeepAlive, ZeroMeansFifteenSeconds) {
  const auto seen = options_after_dial(0s);
  EXPECT_EQ(seen.enabled, 1);
  EXPECT_EQ(seen.idle, 15);
  EXPECT_EQ(seen.interval, 15);
}

TEST(ConnKeepAlive, NegativeTurnsItOff) {
  const auto seen = options_after_dial(-1s);
  EXPECT_EQ(seen.enabled, 0);
}

TEST(ConnKeepAlive, DefaultIsThirtySeconds) {
  const auto seen = options_after_dial(Settings{}.conn_keep_alive);
  EXPECT_EQ(seen.enabled, 1);
  EXPECT_EQ(seen.idle, 30);
}

}  // namespace
}  // namespace tunedhttp::testing
