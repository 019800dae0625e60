// The plain HTTP server and each fault, observed from outside with raw sockets.
#include "test_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

ServerOptions with_faults(std::vector<FaultConfig> faults) {
  ServerOptions options;
  options.faults = std::move(faults);
  return options;
}

TEST(Server, AnswersKeepAliveRequestsAndLogsTheirEvents) {
  ServerOptions options;
  options.routes["/big"] = Route{201, "", 3000, {{"X-Test", "yes"}}};
  ServerThread server{std::move(options)};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));

  client.send_request("POST", "/big", "", "hello");
  auto head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(head);
  EXPECT_EQ(status_of(head->text), 201) << head->text;
  EXPECT_NE(head->text.find("Content-Length: 3000"), std::string::npos) << head->text;
  EXPECT_NE(head->text.find("X-Test: yes"), std::string::npos) << head->text;
  ASSERT_TRUE(server.wait_for(EventKind::response_done, 1));

  client.send_request("GET", "/other?query=1");  // same connection: keep-alive
  auto second = client.read_until("ok\n", Clock::now() + 2s);
  ASSERT_TRUE(second);
  EXPECT_NE(second->text.find("200 OK"), std::string::npos) << second->text;

  client.close();
  auto closed = server.wait_for(EventKind::closed_by_peer, 1);
  ASSERT_TRUE(closed);
  const auto events = server.events().snapshot();
  std::vector<std::string> kinds;
  for (const auto& event : events) kinds.emplace_back(event_kind_name(event.kind));
  const std::vector<std::string> want{"accepted",
                                      "request_headers_read",
                                      "body_first_byte",
                                      "body_done",
                                      "response_headers_sent",
                                      "response_done",
                                      "request_headers_read",
                                      "response_headers_sent",
                                      "response_done",
                                      "closed_by_peer"};
  EXPECT_EQ(kinds, want);
  EXPECT_EQ(events[1].request, 1u);
  EXPECT_EQ(events[1].detail, "POST /big");
  EXPECT_EQ(events[6].request, 2u);
  EXPECT_EQ(events_of(server.events(), EventKind::closed_by_server).size(), 0u);
}

TEST(Server, ConnectionCloseFromTheClientIsClosedByServerAfterTheResponse) {
  ServerThread server{ServerOptions{}};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/", "Connection: close\r\n");
  auto rest = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->error, asio::error::eof);
  EXPECT_NE(rest->text.find("Connection: close"), std::string::npos) << rest->text;
  auto closed = server.wait_for(EventKind::closed_by_server, 1);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->detail, "Connection: close");
}

TEST(Server, RouteCanAskForChunkedBodyAndClose) {
  ServerOptions options;
  Route route;
  route.body = "chunky";
  route.chunked = true;
  route.close = true;
  options.routes["/chunked"] = route;
  ServerThread server{std::move(options)};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/chunked");
  auto all = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(all);
  EXPECT_NE(all->text.find("Transfer-Encoding: chunked"), std::string::npos) << all->text;
  EXPECT_NE(all->text.find("\r\n\r\n6\r\nchunky\r\n0\r\n\r\n"), std::string::npos) << all->text;
  ASSERT_TRUE(server.wait_for(EventKind::closed_by_server, 1));
}

TEST(Server, StopClosesEveryConnectionAsClosedByServer) {
  ServerThread server{ServerOptions{}};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  ASSERT_TRUE(server.wait_for(EventKind::accepted, 1));
  server.server().stop();
  auto closed = server.wait_for(EventKind::closed_by_server, 1);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->detail, "server stopped");
  auto rest = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(rest);
  EXPECT_TRUE(rest->error);
}

// --- withhold_continue ---

const std::string expect_continue = "Expect: 100-continue\r\nContent-Length: 5\r\n";

TEST(WithholdContinue, ByDefaultTheServerSends100ThenReadsTheBody) {
  ServerThread server{ServerOptions{}};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("POST", "/", expect_continue);
  auto interim = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(interim);
  EXPECT_EQ(status_of(interim->text), 100);
  client.write("hello");
  auto final_head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(final_head);
  EXPECT_EQ(status_of(final_head->text), 200);
  ASSERT_TRUE(server.wait_for(EventKind::continue_sent, 1));
  ASSERT_TRUE(server.wait_for(EventKind::body_done, 1));
}

TEST(WithholdContinue, After300ms) {
  constexpr auto delay = 300ms;
  ServerThread server{with_faults({{"withhold_continue", {{"for", "300ms"}}, {}}})};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  const auto sent = client.send_request("POST", "/", expect_continue);
  // Not before the delay: nothing to read until then.
  EXPECT_FALSE(client.read_head(sent + delay - 20ms)) << "100 Continue arrived early";
  auto interim = client.read_head(sent + delay + tolerance());
  ASSERT_TRUE(interim) << "no 100 Continue by " << ms(delay + tolerance()) << " ms";
  EXPECT_EQ(status_of(interim->text), 100);
  expect_elapsed(interim->at - sent, delay, "100 Continue");
  client.write("hello");
  auto final_head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(final_head);
  EXPECT_EQ(status_of(final_head->text), 200);
  auto continued = server.wait_for(EventKind::continue_sent, 1);
  ASSERT_TRUE(continued);
  EXPECT_EQ(continued->detail, "withhold_continue");
}

TEST(WithholdContinue, NeverThenTheClientSendsTheBodyAnyway) {
  ServerThread server{with_faults({{"withhold_continue", {}, {}}})};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("POST", "/", expect_continue);
  EXPECT_FALSE(client.read_head(Clock::now() + 400ms)) << "something arrived: no 100 expected";
  // Like a client whose expect-continue timeout fired: send the body without the 100.
  const auto body_sent = client.write("hello");
  auto final_head = client.read_head(Clock::now() + 2s);
  ASSERT_TRUE(final_head);
  EXPECT_EQ(status_of(final_head->text), 200) << "got " << final_head->text;
  auto first_byte = server.wait_for(EventKind::body_first_byte, 1);
  ASSERT_TRUE(first_byte);
  EXPECT_LE(first_byte->at - body_sent, tolerance()) << "body_first_byte is not when it came";
  EXPECT_TRUE(events_of(server.events(), EventKind::continue_sent).empty());
}

TEST(WithholdContinue, Reply417WithoutReadingTheBody) {
  ServerThread server{with_faults({{"withhold_continue", {{"reply", "417"}}, {}}})};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("POST", "/", expect_continue);
  auto all = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(all);
  EXPECT_EQ(status_of(all->text), 417) << all->text;
  EXPECT_NE(all->text.find("Connection: close"), std::string::npos) << all->text;
  auto closed = server.wait_for(EventKind::closed_by_server, 1);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->detail, "withhold_continue reply");
  EXPECT_TRUE(events_of(server.events(), EventKind::body_first_byte).empty());
}

// --- hold_headers ---

TEST(HoldHeaders, For300ms) {
  constexpr auto delay = 300ms;
  ServerThread server{with_faults({{"hold_headers", {{"for", "300ms"}}, {}}})};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  const auto sent = client.send_request("POST", "/invoke", "", std::string(64 * 1024, 'b'));
  EXPECT_FALSE(client.read_until("\r\n", sent + delay - 20ms)) << "headers arrived early";
  auto head = client.read_head(sent + delay + tolerance());
  ASSERT_TRUE(head) << "no headers by " << ms(delay + tolerance()) << " ms";
  expect_elapsed(head->at - sent, delay, "response headers");
  auto done = server.wait_for(EventKind::body_done, 1);
  auto headers = server.wait_for(EventKind::response_headers_sent, 1);
  ASSERT_TRUE(done && headers);
  EXPECT_GE(headers->at - done->at, delay);
  EXPECT_EQ(headers->detail, "200 hold_headers");
}

TEST(HoldHeaders, AfterStatusLine) {
  constexpr auto delay = 300ms;
  ServerThread server{
      with_faults({{"hold_headers", {{"for", "300ms"}, {"after_status_line", "true"}}, {}}})};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  const auto sent = client.send_request("GET", "/");
  auto status_line = client.read_until("\r\n", sent + delay - 20ms);
  ASSERT_TRUE(status_line) << "the status line should come at once";
  EXPECT_EQ(status_line->text, "HTTP/1.1 200 OK\r\n");
  EXPECT_FALSE(client.read_head(sent + delay - 20ms)) << "the rest of the headers came early";
  auto rest = client.read_head(sent + delay + tolerance());
  ASSERT_TRUE(rest);
  expect_elapsed(rest->at - sent, delay, "rest of the headers");
}

TEST(HoldHeaders, ForeverUntilTheClientGivesUp) {
  ServerThread server{with_faults({{"hold_headers", {}, {}}})};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  EXPECT_FALSE(client.read_until("\r\n", Clock::now() + 400ms));
  const auto gave_up = Clock::now();
  client.close();
  auto closed = server.wait_for(EventKind::closed_by_peer, 1);
  ASSERT_TRUE(closed);
  EXPECT_LE(closed->at - gave_up, tolerance()) << "the server noticed the close late";
  EXPECT_TRUE(events_of(server.events(), EventKind::response_headers_sent).empty());
}

// --- targets ---

TEST(Targets, OnlyTheSecondConnectionIsHeld) {
  FaultConfig fault{"hold_headers", {}, {}};
  fault.target.connection = 2;
  ServerThread server{with_faults({fault})};
  RawClient first;
  RawClient second;
  ASSERT_TRUE(first.connect(server.endpoint()));
  ASSERT_TRUE(server.wait_for(EventKind::accepted, 1));
  ASSERT_TRUE(second.connect(server.endpoint()));
  ASSERT_TRUE(server.wait_for(EventKind::accepted, 2));
  second.send_request("GET", "/");
  first.send_request("GET", "/");
  EXPECT_TRUE(first.read_head(Clock::now() + 1s)) << "connection 1 should be answered";
  EXPECT_FALSE(second.read_head(Clock::now() + 300ms)) << "connection 2 should be held";
}

TEST(Targets, OnlyThePathIsHeldAndOnlyTheSecondRequestIsDripped) {
  FaultConfig hold{"hold_headers", {}, {}};
  hold.target.path = "/slow";
  FaultConfig drip{"drip_body", {{"chunk", "2"}, {"every", "100ms"}}, {}};
  drip.target.request = 2;
  ServerOptions options = with_faults({hold, drip});
  options.routes["/fast"] = Route{200, "abcdef", 0, {}};
  ServerThread server{std::move(options)};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/fast");  // request 1: at once
  auto first = client.read_until("abcdef", Clock::now() + 1s);
  ASSERT_TRUE(first);
  const auto sent = client.send_request("GET", "/fast");  // request 2: dripped, 3 pieces
  auto second = client.read_until("abcdef", Clock::now() + 1s);
  ASSERT_TRUE(second);
  expect_elapsed(second->at - sent, 200ms, "dripped body (3 pieces, 100 ms apart)");
  RawClient other;
  ASSERT_TRUE(other.connect(server.endpoint()));
  other.send_request("GET", "/slow");
  EXPECT_FALSE(other.read_head(Clock::now() + 300ms)) << "/slow should be held";
}

// --- close_after_requests, idle_close ---

TEST(CloseAfterRequests, ClosesAfterTheNthResponse) {
  ServerThread server{with_faults({{"close_after_requests", {{"count", "2"}}, {}}})};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  ASSERT_TRUE(client.read_until("ok\n", Clock::now() + 1s));
  client.send_request("GET", "/");
  auto rest = client.read_to_close(Clock::now() + 1s);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->error, asio::error::eof);
  EXPECT_EQ(rest->text.find("Connection: close"), std::string::npos) << "no warning expected";
  auto closed = server.wait_for(EventKind::closed_by_server, 1);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->detail, "close_after_requests");
}

TEST(IdleClose, ClosesAnIdleConnection) {
  ServerThread server{with_faults({{"idle_close", {{"after", "200ms"}}, {}}})};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  auto answer = client.read_until("ok\n", Clock::now() + 1s);
  ASSERT_TRUE(answer);
  auto closed = client.read_to_close(answer->at + 200ms + tolerance());
  ASSERT_TRUE(closed) << "not closed after 200 ms idle";
  // Idle from the server's point of view: from its response_done to its close.
  auto response_done = server.wait_for(EventKind::response_done, 1);
  auto event = server.wait_for(EventKind::closed_by_server, 1);
  ASSERT_TRUE(response_done && event);
  EXPECT_EQ(event->detail, "idle_close");
  expect_elapsed(event->at - response_done->at, 200ms, "idle close (server)");
  EXPECT_LE(closed->at - answer->at, 200ms + tolerance()) << "client saw the close late";
}

// --- stall_accept ---

TEST(StallAccept, TheClientsConnectStaysPending) {
  ServerThread server{with_faults({{"stall_accept", {}, {}}})};
  RawClient client;
  client.start_connect(server.endpoint());
  EXPECT_FALSE(client.connected_by(Clock::now() + 500ms))
      << "connect completed: " << client.connect_error().message();
  EXPECT_TRUE(server.events().snapshot().empty());
}

TEST(StallAccept, ForAWhileThenTheClientConnectsOnItsSynRetransmit) {
  constexpr auto stall = 300ms;
  ServerThread server{with_faults({{"stall_accept", {{"for", "300ms"}}, {}}})};
  RawClient client;
  const auto started = Clock::now();
  client.start_connect(server.endpoint());
  EXPECT_FALSE(client.connected_by(started + stall)) << "connected during the stall";
  // The kernel dropped the first SYN; Linux retransmits it 1 s later (initial RTO).
  ASSERT_TRUE(client.connected_by(started + 1s + tolerance() * 3)) << "never connected";
  EXPECT_FALSE(client.connect_error()) << client.connect_error().message();
  EXPECT_GE(*client.connected_at() - started, stall);
  ASSERT_TRUE(server.wait_for(EventKind::accepted, 1));
  client.send_request("GET", "/");
  EXPECT_TRUE(client.read_until("ok\n", Clock::now() + 1s));
}

TEST(StallAccept, TheSecondConnectionIsStalledTheFirstIsNot) {
  FaultConfig fault{"stall_accept", {}, {}};
  fault.target.connection = 2;
  ServerThread server{with_faults({fault})};
  RawClient first;
  ASSERT_TRUE(first.connect(server.endpoint()));
  ASSERT_TRUE(server.wait_for(EventKind::accepted, 1));
  RawClient second;
  second.start_connect(server.endpoint());
  EXPECT_FALSE(second.connected_by(Clock::now() + 400ms)) << "second connection got in";
  first.send_request("GET", "/");
  EXPECT_TRUE(first.read_until("ok\n", Clock::now() + 1s)) << "first connection still served";
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
