// stall_body and stop_reading: the stalls that come after the headers. The server sends part of
// a response body and then nothing; or reads part of a request body and then nothing. Observed
// with raw sockets: what arrived, what the server logged, and that nothing more moves.
#include <poll.h>
#include <sys/socket.h>

#include "test_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

TEST(StallBody, SendsTheHeadersAndNBytesThenNothing) {
  auto options = with_fault("stall-body=after:1KiB");
  options.default_route.body_size = 64 * 1024;
  ServerThread server(std::move(options));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  const auto head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(head && !head->error);
  EXPECT_NE(head->text.find("Content-Length: 65536"), std::string::npos) << head->text;
  const auto stalled = server.wait_for(EventKind::body_stalled, 1);
  ASSERT_TRUE(stalled);
  EXPECT_EQ(stalled->detail, "1024 bytes");
  EXPECT_EQ(stalled->request, 1u);
  // Nothing more comes, and the connection stays open: no FIN, no reset.
  EXPECT_FALSE(client.read_to_close(Clock::now() + 300ms)) << "the server closed the connection";
  EXPECT_EQ(client.buffered().size(), 1024u)
      << "got " << client.buffered().size() << " body bytes; want 1024";
  EXPECT_EQ(count_of(server.events(), EventKind::response_done), 0u);
  // The client giving up is seen.
  client.close();
  EXPECT_TRUE(server.wait_for(EventKind::closed_by_peer, 1));
}

TEST(StallBody, AfterZeroSendsTheHeadersAlone) {
  ServerThread server(with_fault("stall-body=after:0"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  const auto head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(head && !head->error);
  EXPECT_EQ(status_of(head->text), 200);
  ASSERT_TRUE(server.wait_for(EventKind::body_stalled, 1));
  EXPECT_FALSE(client.read_to_close(Clock::now() + 200ms));
  EXPECT_EQ(client.buffered(), "") << "the body ('ok\\n') must not come";
}

TEST(StallBody, TargetsOneRequestOnly) {
  ServerThread server(with_fault("stall-body=after:1,request:2"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  ASSERT_TRUE(client.read_until("ok\n", Clock::now() + 2s));
  client.send_request("GET", "/");
  ASSERT_TRUE(client.read_head(Clock::now() + 2s));
  const auto stalled = server.wait_for(EventKind::body_stalled, 1);
  ASSERT_TRUE(stalled);
  EXPECT_EQ(stalled->request, 2u);
  EXPECT_EQ(stalled->detail, "1 bytes");
  EXPECT_FALSE(client.read_until("ok\n", Clock::now() + 200ms));
  EXPECT_EQ(client.buffered(), "o");
}

// Writes `total` body bytes without blocking until the socket takes no byte for `quiet`;
// returns the bytes written.
std::uint64_t write_until_stuck(int fd, std::uint64_t total, Clock::duration quiet) {
  static const std::string piece(64 * 1024, 'b');
  std::uint64_t written = 0;
  while (written < total) {
    const auto n = ::send(fd, piece.data(), std::min<std::uint64_t>(piece.size(), total - written),
                          MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
    pollfd writable{fd, POLLOUT, 0};
    if (::poll(&writable, 1, static_cast<int>(ms(quiet))) != 1) break;  // stuck
  }
  return written;
}

TEST(StopReading, ReadsNBytesOfTheBodyThenNothing) {
  ServerThread server(with_fault("stop-reading=after:64KiB"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  constexpr std::uint64_t body_size = 32 * 1024 * 1024;  // past both sides' kernel buffers
  client.write("PUT /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
               std::to_string(body_size) + "\r\n\r\n");
  const auto written = write_until_stuck(client.socket().native_handle(), body_size, 500ms);
  EXPECT_LT(written, body_size) << "the whole body was taken: the server never stopped reading";
  const auto stopped = server.wait_for(EventKind::reading_stopped, 1);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->request, 1u);
  const auto read = std::stoull(stopped->detail);
  EXPECT_GE(read, 64u * 1024) << stopped->detail;
  EXPECT_LT(read, written) << "got " << read << " bytes read; want fewer than the " << written
                           << " written";
  EXPECT_EQ(count_of(server.events(), EventKind::body_done), 0u);
  EXPECT_EQ(count_of(server.events(), EventKind::response_headers_sent), 0u);
  EXPECT_FALSE(client.read_to_close(Clock::now() + 200ms)) << "no answer, no close";
}

TEST(StopReading, AfterZeroStopsAtTheHeaders) {
  ServerThread server(with_fault("stop-reading=after:0"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("POST", "/", "", "abc");
  const auto stopped = server.wait_for(EventKind::reading_stopped, 1);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->detail, "0 bytes");
  EXPECT_FALSE(client.read_head(Clock::now() + 200ms)) << "no answer comes";
}

TEST(BodyFaults, SpecsAndTheirErrors) {
  EXPECT_EQ(parse_fault_spec("stall-body=after:1KiB").parameters.at("after"), "1KiB");
  EXPECT_EQ(parse_fault_spec("stop-reading=after:0").parameters.at("after"), "0");
  EXPECT_EQ(parse_fault_spec("stall-body=after:0,request:2").target.request, 2u);
  for (const char* spec : {"stall-body", "stop-reading", "stall-body=after:-1",
                           "stop-reading=after:lots", "stall-body=for:1s"}) {
    EXPECT_THROW(parse_fault_spec(spec), std::invalid_argument) << spec;
  }
  try {
    parse_fault_spec("stall-body=after:lots");
    ADD_FAILURE() << "a bad size was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'after' is 'lots', expected a size"), std::string::npos)
        << e.what();
  }
  try {
    parse_fault_spec("stop-reading");
    ADD_FAILURE() << "a missing size was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("missing parameter 'after'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
