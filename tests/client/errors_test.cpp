// Bad input and broken peers: each a clear error, no crash, no leaked socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string_view>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;

// A port on 127.0.0.1 with nothing listening: bound, then closed.
unsigned short closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class Errors : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = open_fd_count(); }
  void TearDown() override {
    fixture_.reset();
    EXPECT_EQ(open_fd_count(), fds_before_) << "a socket leaked";
  }
  ClientFixture& fixture() {
    if (!fixture_) fixture_ = std::make_unique<ClientFixture>();
    return *fixture_;
  }
  Outcome request(const std::string& url) { return fixture().request(get(url)); }

 private:
  int fds_before_ = 0;
  std::unique_ptr<ClientFixture> fixture_;
};

TEST_F(Errors, InvalidUrls) {
  for (const char* url : {"not a url", "http://", "http://:80/", "http://host:99999/",
                          "http://host:12ab/", "/relative/path", "http://a b/"}) {
    const auto outcome = request(url);
    ASSERT_TRUE(outcome.completed);
    EXPECT_EQ(outcome.error, errc::invalid_url) << url << ": " << outcome.error.message();
  }
}

TEST_F(Errors, UnsupportedScheme) {
  const auto outcome = request("ftp://127.0.0.1/file");
  EXPECT_EQ(outcome.error, errc::unsupported_scheme);
  EXPECT_EQ(error_name(outcome.error), "unsupported_scheme");
}

TEST_F(Errors, ConnectionRefused) {
  const auto outcome = request("http://127.0.0.1:" + std::to_string(closed_port()) + "/");
  EXPECT_EQ(error_name(outcome.error), "connection_refused") << outcome.error.message();
}

TEST_F(Errors, UnknownHost) {
  const auto outcome = request("http://no-such-host.invalid/");
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(error_name(outcome.error), "host_not_found") << outcome.error.message();
  EXPECT_TRUE(fixture().at(TracePoint::dns_start).has_value());
}

TEST_F(Errors, MalformedStatusLine) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("SMTP READY\r\n\r\n");
  });
  const auto outcome = request(server.url());
  EXPECT_EQ(outcome.error, errc::malformed_response) << outcome.error.message();
}

TEST_F(Errors, ServerClosesBeforeResponding) {
  ScriptedServer server([](Peer& peer) { peer.read_headers(Clock::now() + 2s); });
  const auto outcome = request(server.url());
  EXPECT_EQ(outcome.error, errc::server_closed_connection) << outcome.error.message();
}

TEST_F(Errors, BodyShorterThanContentLength) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
  });
  const auto outcome = request(server.url());
  EXPECT_EQ(outcome.error, errc::server_closed_connection) << outcome.error.message();
}

TEST_F(Errors, HeadersOverTheLimit) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nX-Big: " + std::string(2 * 1024 * 1024, 'a') + "\r\n\r\n");
  });
  const auto outcome = request(server.url());
  EXPECT_EQ(outcome.error, errc::response_too_large) << outcome.error.message();
}

TEST(TracePoints, EveryPointHasItsOwnName) {
  std::set<std::string_view> names;
  for (const auto point : all_trace_points) {
    const auto name = trace_point_name(point);
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << "got " << name << " twice";
  }
}

TEST(ErrorCategory, EveryValueHasANameAndAMessage) {
  for (const errc value : all_errcs) {
    const auto ec = make_error_code(value);
    EXPECT_STREQ(ec.category().name(), "tunedhttp");
    EXPECT_FALSE(ec.message().empty());
    EXPECT_NE(ec.message(), "unknown tunedhttp error");
    const auto name = error_name(ec);
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(name.find(':'), std::string::npos) << name;
  }
  EXPECT_EQ(error_name({}), "");
}

TEST(ErrorCategory, SystemErrorsUsersMeetHaveNames) {
  // Out of descriptors was once reported as "system:24".
  using boost::system::errc::make_error_code;
  EXPECT_EQ(error_name(make_error_code(boost::system::errc::too_many_files_open)),
            "too_many_open_files");
  EXPECT_EQ(error_name(make_error_code(boost::system::errc::too_many_files_open_in_system)),
            "too_many_open_files");
  EXPECT_EQ(error_name(make_error_code(boost::system::errc::address_not_available)),
            "address_not_available");
}

TEST(ErrorCategory, OnlyTimeoutsAreTimedOut) {
  EXPECT_EQ(make_error_code(errc::connect_timeout), boost::system::errc::timed_out);
  EXPECT_EQ(make_error_code(errc::tls_handshake_timeout), boost::system::errc::timed_out);
  EXPECT_EQ(make_error_code(errc::response_header_timeout), boost::system::errc::timed_out);
  EXPECT_EQ(make_error_code(errc::body_read_idle_timeout), boost::system::errc::timed_out);
  EXPECT_EQ(make_error_code(errc::low_speed_timeout), boost::system::errc::timed_out);
  EXPECT_EQ(make_error_code(errc::request_write_idle_timeout), boost::system::errc::timed_out);
  EXPECT_NE(make_error_code(errc::invalid_url), boost::system::errc::timed_out);
  EXPECT_NE(make_error_code(errc::malformed_response), boost::system::errc::timed_out);
}

}  // namespace
}  // namespace tunedhttp::testing
