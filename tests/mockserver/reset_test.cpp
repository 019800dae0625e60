// reset: the server ends a connection with a TCP reset (RST) at the moment the SPEC names, so
// the client's read fails with ECONNRESET ("connection reset by peer"), not an orderly EOF.
#include "test_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

TEST(Reset, OnAcceptTheClientsFirstReadIsReset) {
  ServerThread server(with_fault("reset=on-accept"));
  RawClient client;
  client.start_connect(server.endpoint());
  ASSERT_TRUE(client.connected_by(Clock::now() + 2s));
  const auto reset = server.wait_for(EventKind::reset_sent, 1);
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->detail, "on_accept");
  // The reset may reach the client before its connect() returns: then connect() reports it.
  if (client.connect_error()) {
    EXPECT_EQ(client.connect_error(), asio::error::connection_reset)
        << client.connect_error().message();
    return;
  }
  const auto read = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(read) << "the reset never reached the client";
  EXPECT_EQ(read->error, asio::error::connection_reset) << read->error.message();
  EXPECT_EQ(count_of(server.events(), EventKind::closed_by_server), 0u) << "a FIN, not an RST";
}

TEST(Reset, AfterHeadersTheRequestIsReadThenReset) {
  ServerThread server(with_fault("reset=after-headers"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("POST", "/invoke", "", std::string(1000, 'b'));
  const auto reset = server.wait_for(EventKind::reset_sent, 1);
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->detail, "after_headers");
  EXPECT_EQ(reset->request, 1u);
  EXPECT_EQ(count_of(server.events(), EventKind::body_done), 1u) << "the body is read first";
  const auto read = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->error, asio::error::connection_reset) << read->error.message();
  EXPECT_EQ(read->text, "") << "no answer comes";
  EXPECT_EQ(count_of(server.events(), EventKind::response_headers_sent), 0u);
}

TEST(Reset, AfterHeadersTargetsOneRequestOnly) {
  ServerThread server(with_fault("reset=after-headers,request:2"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  const auto first = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(first && !first->error);
  EXPECT_EQ(status_of(first->text), 200);
  client.read_until("ok\n", Clock::now() + 2s);
  client.send_request("GET", "/");
  const auto second = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->error, asio::error::connection_reset) << second->error.message();
  const auto reset = server.wait_for(EventKind::reset_sent, 1);
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->request, 2u);
}

TEST(Reset, MidBodySendsTheHeadersAndNBytesOnly) {
  auto options = with_fault("reset=mid-body:1KiB");
  options.default_route.body_size = 64 * 1024;
  ServerThread server(std::move(options));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  const auto reset = server.wait_for(EventKind::reset_sent, 1);
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->detail, "mid_body");
  ASSERT_EQ(count_of(server.events(), EventKind::response_headers_sent), 1u);
  EXPECT_EQ(count_of(server.events(), EventKind::response_done), 0u);
  const auto read = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->error, asio::error::connection_reset) << read->error.message();
  // What the client got before the reset (Linux may drop it with the reset): never more than
  // the head and 1 KiB of the body.
  const auto head_end = read->text.find("\r\n\r\n");
  if (head_end != std::string::npos) {
    EXPECT_LE(read->text.size() - head_end - 4, 1024u);
    EXPECT_NE(read->text.find("Content-Length: 65536"), std::string::npos) << read->text;
  }
}

TEST(Reset, IdleForgetsTheConnectionAndResetsItsNextRequest) {
  ServerThread server(with_fault("reset=idle:200ms"));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  ASSERT_TRUE(client.read_until("ok\n", Clock::now() + 2s));
  // Within the idle time the connection serves on.
  client.send_request("GET", "/");
  const auto second = client.read_until("ok\n", Clock::now() + 2s);
  ASSERT_TRUE(second && !second->error);
  const auto answered = server.wait_for(EventKind::response_done, 1);
  ASSERT_TRUE(answered);
  // Past it nothing reaches the client (no FIN, no RST): a pooled connection looks alive ...
  EXPECT_FALSE(client.read_to_close(answered->at + 200ms + tolerance()))
      << "the server closed the idle connection itself";
  EXPECT_EQ(count_of(server.events(), EventKind::reset_sent), 0u);
  // ... until it is used: the request is answered with the reset, unread.
  client.send_request("GET", "/");
  const auto third = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->error, asio::error::connection_reset) << third->error.message();
  const auto reset = server.wait_for(EventKind::reset_sent, 1);
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->detail, "idle");
  EXPECT_EQ(count_of(server.events(), EventKind::request_headers_read), 2u);
}

TEST(Reset, SpecsAndTheirErrors) {
  EXPECT_EQ(parse_fault_spec("reset=mid-body:1KiB").parameters.at("mid_body"), "1KiB");
  EXPECT_EQ(parse_fault_spec("reset=idle:2s").parameters.at("idle"), "2s");
  EXPECT_EQ(parse_fault_spec("reset=on-accept,connection:2").target.connection, 2u);
  EXPECT_THROW(parse_fault_spec("reset"), std::invalid_argument) << "one moment is required";
  EXPECT_THROW(parse_fault_spec("reset=on-accept,after-headers"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("reset=on-accept,request:2"), std::invalid_argument)
      << "a reset on accept acts on connections, not requests";
  EXPECT_NO_THROW(parse_fault_spec("reset=after-headers,path:/x,request:2"));
  try {
    parse_fault_spec("reset=idle:soon");
    ADD_FAILURE() << "a bad duration was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("idle"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
