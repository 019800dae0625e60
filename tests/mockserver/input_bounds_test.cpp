// The mock server takes no route it cannot send safely, holds no generated body in memory, and
// gives a client that dribbles its request head a deadline (a slowloris client cannot hold a
// connection forever), while a kept-alive connection may still idle between requests.
#include <unistd.h>

#include <fstream>
#include <tunedhttp/mockserver/response_template.hpp>

#include "test_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

ServerOptions with_route(const std::string& path, Route route) {
  ServerOptions options;
  options.routes[path] = std::move(route);
  return options;
}

void expect_refused(ServerOptions options, const std::string& named) {
  asio::io_context io;
  try {
    Server server(io.get_executor(), std::move(options));
    ADD_FAILURE() << "got a server; want std::invalid_argument naming " << named;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
  }
}

TEST(Routes, ThatWouldInjectOrCannotBeSentAreRefused) {
  Route injecting;
  injecting.headers["X"] = "a\r\nSet-Cookie: stolen=1";
  expect_refused(with_route("/x", injecting), "invalid header field value for \"X\"");
  Route bad_name;
  bad_name.headers["Bad Name"] = "v";
  expect_refused(with_route("/x", bad_name), "invalid header field name");
  Route bad_status;
  bad_status.status = 70000;
  expect_refused(with_route("/x", bad_status), "status 70000");
  expect_refused(with_route("/a\r\nb", Route{}), "route \"/a\\r\\nb\"");
  ServerOptions bad_default;
  bad_default.default_route.headers["X"] = std::string(70'000, 'v');
  expect_refused(bad_default, "the default route");
}

TEST(Routes, EveryResponseTemplateIsValid) {
  for (const auto& name : response_template_names()) {
    const auto route = response_template(name);
    ASSERT_TRUE(route) << name;
    EXPECT_EQ(route_problem(*route), "") << name;
  }
}

/// Resident memory of this process, in bytes.
std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

TEST(Routes, AGeneratedBodyIsSentWithoutBeingHeld) {
  // 4 GiB: held whole, as it once was, this would take 4 GiB of memory before the first byte.
  Route huge;
  huge.body_size = 4ull << 30;
  ServerThread server(with_route("/huge", huge));
  const auto before = resident_bytes();
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/huge");
  const auto head = client.read_head(Clock::now() + 5s);
  ASSERT_TRUE(head && !head->error);
  EXPECT_NE(head->text.find("Content-Length: 4294967296"), std::string::npos) << head->text;
  // Take 8 MiB of the body, then leave.
  std::size_t received = client.buffered().size();
  std::vector<char> sink(1 << 20);
  while (received < (8u << 20)) {
    boost::system::error_code error;
    received += client.socket().read_some(asio::buffer(sink), error);
    ASSERT_FALSE(error) << error.message();
  }
  EXPECT_LT(resident_bytes(), before + (64u << 20)) << "the server holds the body in memory";
  client.close();
  server.wait_for(EventKind::closed_by_peer, 1);
}

ServerOptions with_header_read_timeout(std::chrono::milliseconds limit) {
  ServerOptions options;
  options.header_read_timeout = limit;
  return options;
}

TEST(HeaderReadTimeout, ClosesAClientThatNeverFinishesItsHead) {
  ServerThread server(with_header_read_timeout(300ms));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a");  // and never the rest
  const auto accepted = server.wait_for(EventKind::accepted, 1);
  const auto closed = server.wait_for(EventKind::closed_by_server, 1, 3s);
  ASSERT_TRUE(accepted && closed);
  EXPECT_EQ(closed->detail, "header_read_timeout");
  // The limit runs from the server's accept (logged just before its timer is armed).
  expect_elapsed(closed->at - accepted->at, 300ms, "header read timeout");
  const auto end = client.read_to_close(Clock::now() + 2s);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->error, asio::error::eof) << end->error.message();
}

TEST(HeaderReadTimeout, AKeptConnectionMayIdleLongerBetweenRequests) {
  ServerThread server(with_header_read_timeout(200ms));
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  for (int i = 0; i < 2; ++i) {
    if (i == 1) {
      // Idle for twice the limit: the next head's time starts at its first byte.
      const auto idle_until = Clock::now() + 400ms;
      EXPECT_FALSE(server.events().wait_until(
          [](const Event& e) { return e.kind == EventKind::closed_by_server; }, idle_until));
    }
    client.send_request("GET", "/");
    const auto head = client.read_head(Clock::now() + 2s);
    ASSERT_TRUE(head && !head->error) << "request " << i + 1;
    EXPECT_EQ(status_of(head->text), 200);
    client.read_until("ok\n", Clock::now() + 2s);
  }
}

TEST(HeaderReadTimeout, DoesNotLimitAFaultThatHoldsOnPurpose) {
  ServerOptions options = with_header_read_timeout(200ms);
  options.faults.push_back(parse_fault_spec("hold-headers=600ms"));
  ServerThread server(options);
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.send_request("GET", "/");
  const auto head = client.read_head(Clock::now() + 3s);
  ASSERT_TRUE(head && !head->error);
  EXPECT_EQ(status_of(head->text), 200);
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
