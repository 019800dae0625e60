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

namespace tunedhttp::testing {
namespace {

// Go 1.23's KeepAliveConfig, and the rules of both shapes as plain values (no socket).
TEST(KeepAliveConfig, GoRulesForEveryField) {
  Settings settings;
  settings.conn_keep_alive = 5s;
  auto applied = effective_keep_alive(settings);
  EXPECT_TRUE(applied.enabled);
  EXPECT_EQ(applied.idle_seconds, 5);
  EXPECT_EQ(applied.interval_seconds, 5);
  EXPECT_EQ(applied.count, 0) << "Go up to 1.22 leaves the count to the kernel";

  settings.keep_alive.enable = true;  // conn_keep_alive is then ignored, as in Go 1.23
  applied = effective_keep_alive(settings);
  EXPECT_EQ(applied.idle_seconds, 15) << "0 = 15s";
  EXPECT_EQ(applied.interval_seconds, 15) << "0 = 15s";
  EXPECT_EQ(applied.count, 9) << "0 = 9";

  settings.keep_alive = {true, 1500ms, -1s, -1};
  applied = effective_keep_alive(settings);
  EXPECT_EQ(applied.idle_seconds, 2) << "rounded up to whole seconds";
  EXPECT_EQ(applied.interval_seconds, 0) << "negative = the OS default";
  EXPECT_EQ(applied.count, 0) << "negative = the OS default";

  settings.keep_alive = {};
  settings.conn_keep_alive = -1s;
  EXPECT_FALSE(effective_keep_alive(settings).enabled);
}

TEST(KeepAliveConfig, SetsIdleIntervalAndCountOnTheSocket) {
  Settings settings;
  settings.keep_alive = {true, 2s, 3s, 4};
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write(ok_response("ok"));
  });
  ClientFixture fixture(settings);
  int idle = -1, interval = -1, count = -1;
  TraceHook hook = [&](const TraceEvent& event) {
    if (event.point != TracePoint::got_conn || event.socket < 0) return;
    socklen_t size = sizeof(int);
    ::getsockopt(event.socket, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &size);
    size = sizeof(int);
    ::getsockopt(event.socket, IPPROTO_TCP, TCP_KEEPINTVL, &interval, &size);
    size = sizeof(int);
    ::getsockopt(event.socket, IPPROTO_TCP, TCP_KEEPCNT, &count, &size);
  };
  std::optional<boost::system::error_code> error;
  fixture.client().async_request(get(server.url()), hook,
                                 [&](boost::system::error_code e, Response) { error = e; });
  fixture.run_until([&] { return error.has_value(); }, 5000ms);
  ASSERT_TRUE(error && !*error);
  EXPECT_EQ(idle, 2);
  EXPECT_EQ(interval, 3);
  EXPECT_EQ(count, 4);
}

}  // namespace
}  // namespace tunedhttp::testing
