// blackhole: the connection goes dark (every packet from the client dropped by a socket filter)
// at the point the SPEC names, and stays closed-and-counted when the server stops; several
// listeners on one port, with faults that target one of them.
#include <sys/ioctl.h>

#include "test_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

/// Whether the client's kernel still has unacknowledged bytes queued: with the peer dark, what
/// the client sends is never acknowledged.
int unacknowledged_bytes(tcp::socket& socket) {
  int queued = 0;
  ::ioctl(socket.native_handle(), TIOCOUTQ, &queued);
  return queued;
}

TEST(Blackhole, AfterHeadersTheRequestIsReadAndNothingElseEverComes) {
  ServerThread server(with_fault("blackhole=after-headers"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  ASSERT_TRUE(server.wait_for(EventKind::blackholed, 1));
  EXPECT_FALSE(client.read_head(Clock::now() + 300ms)) << "a dark peer answered";
  // Bytes sent now are never acknowledged: the kernel keeps them queued for retransmission.
  // (A live peer on loopback acknowledges within microseconds; give it 300 ms.)
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto deadline = Clock::now() + 300ms;
  bool acknowledged = false;
  while (Clock::now() < deadline && !acknowledged) {
    acknowledged = unacknowledged_bytes(client.socket()) == 0;
    if (!acknowledged) std::this_thread::sleep_for(10ms);  // polling the kernel's queue
  }
  EXPECT_FALSE(acknowledged) << "the dark peer acknowledged data";
  EXPECT_EQ(count_of(server.events(), EventKind::request_headers_read), 1u);
}

TEST(Blackhole, OnAcceptNothingIsRead) {
  ServerThread server(with_fault("blackhole"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  ASSERT_TRUE(server.wait_for(EventKind::blackholed, 1));
  client.send_request("GET", "/");
  EXPECT_FALSE(client.read_head(Clock::now() + 300ms));
  EXPECT_EQ(count_of(server.events(), EventKind::request_headers_read), 0u);
}

TEST(Blackhole, IdleGoesDarkAfterTheIdleTimeOnly) {
  ServerThread server(with_fault("blackhole=idle:200ms"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  const auto head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(head && !head->error);
  const auto answered = server.wait_for(EventKind::response_done, 1);
  const auto dark = server.wait_for(EventKind::blackholed, 1, 2s);
  ASSERT_TRUE(answered && dark);
  // Idle from the response on (the server's idle wait starts after it logged response_done).
  expect_elapsed(dark->at - answered->at, 200ms, "idle before going dark");
}

TEST(Blackhole, ADarkConnectionIsClosedAndCountedWhenTheServerStops) {
  std::optional<ServerThread> server(std::in_place, with_fault("blackhole"));
  RawClient client;
  ASSERT_TRUE(client.connect(server->endpoint()));
  ASSERT_TRUE(server->wait_for(EventKind::blackholed, 1));
  server->server().stop();
  const auto closed = server->wait_for(EventKind::closed_by_server, 1);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->detail, "server stopped");
}

TEST(Listeners, SeveralAddressesShareOnePortAndFaultsTargetOne) {
  ServerOptions options;
  options.listen_addresses = {"::1", "127.0.0.1"};
  options.faults.push_back(parse_fault_spec("hold-headers=1s,listener:[::1]"));
  ServerThread server(options);
  const auto port = server.server().port();
  RawClient v4;
  ASSERT_TRUE(v4.connect({asio::ip::make_address("127.0.0.1"), port}));
  v4.send_request("GET", "/");
  const auto v4_head = v4.read_head(Clock::now() + 500ms);
  ASSERT_TRUE(v4_head && !v4_head->error) << "the IPv4 listener is not held";
  RawClient v6;
  ASSERT_TRUE(v6.connect({asio::ip::make_address("::1"), port}));
  v6.send_request("GET", "/");
  EXPECT_FALSE(v6.read_head(Clock::now() + 300ms)) << "the IPv6 listener's fault did not act";
  EXPECT_EQ(server.server().base_url(), "http://[::1]:" + std::to_string(port) + "/");
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
