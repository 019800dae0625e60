// Hostile or broken servers: each request ends with a clear error (or, where HTTP allows it,
// a good response), promptly, and with no file descriptor left open. Complements
// tests/client/errors_test.cpp (SMTP status line, early close, short body, one 2 MiB header).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <thread>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;

class HostileServer : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = open_fd_count(); }
  void TearDown() override {
    fixture_.reset();
    server_.reset();
    EXPECT_EQ(open_fd_count(), fds_before_) << "a socket leaked";
  }
  ClientFixture& fixture(Settings settings = {}, TlsOptions tls = {}) {
    if (!fixture_) fixture_ = std::make_unique<ClientFixture>(settings, std::move(tls));
    return *fixture_;
  }
  ScriptedServer& serve(ScriptedServer::Script script) {
    server_ = std::make_unique<ScriptedServer>(std::move(script));
    return *server_;
  }
  Outcome request(const std::string& url) { return fixture().request(get(url)); }

  // Runs `request` and cancels it from the caller's side after `deadline` (a whole-request
  // deadline, Go's Client.Timeout).
  Outcome request_with_deadline(Request request, std::chrono::milliseconds deadline,
                                Clock::time_point& cancelled_at) {
    auto& client_fixture = fixture();
    boost::asio::cancellation_signal signal;
    boost::asio::steady_timer timer(client_fixture.context(), deadline);
    timer.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      cancelled_at = Clock::now();
      signal.emit(boost::asio::cancellation_type::terminal);
    });
    Outcome outcome;
    client_fixture.client().async_request(
        std::move(request),
        boost::asio::bind_cancellation_slot(signal.slot(),
                                            [&](boost::system::error_code ec, Response response) {
                                              outcome.error = ec;
                                              outcome.response = std::move(response);
                                              outcome.finished = Clock::now();
                                              outcome.completed = true;
                                            }));
    client_fixture.run_until([&] { return outcome.completed; }, 5s);
    timer.cancel();
    return outcome;
  }

  std::unique_ptr<ScriptedServer> server_;

 private:
  int fds_before_ = 0;
  std::unique_ptr<ClientFixture> fixture_;
};

// A server that answers every connection with `reply` once it read the request's headers.
ScriptedServer::Script answer(std::string reply) {
  return [reply = std::move(reply)](Peer& peer) {
    if (peer.read_headers(Clock::now() + 2s).empty()) return;
    peer.write(reply);
  };
}

Request with_expect_continue(const std::string& url, std::string body) {
  auto request = make_request(boost::beast::http::verb::put, url, std::move(body));
  request.set(boost::beast::http::field::expect, "100-continue");
  return request;
}

TEST_F(HostileServer, StatusLinesThatAreNotHttp) {
  for (const std::string& reply :
       {std::string("\x16\x03\x01\x00\x05hello\r\n\r\n", 14), std::string("HTTP/1.1 OK\r\n\r\n"),
        std::string("HTTP/1.1 2000 OK\r\n\r\n"), std::string("http/1.1 200 OK\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n"), std::string("\0\0\0\0\0\0\0\0", 8)}) {
    ScriptedServer server(answer(reply));
    const auto outcome = request(server.url());
    ASSERT_TRUE(outcome.completed) << ::testing::PrintToString(reply);
    EXPECT_EQ(outcome.error, errc::malformed_response)
        << ::testing::PrintToString(reply) << ": " << outcome.error.message();
  }
}

TEST_F(HostileServer, HeadersOverOneMiBInManyWrites) {
  serve([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\n");
    const std::string header = "X-Filler: " + std::string(1000, 'a') + "\r\n";
    try {
      for (int i = 0; i < 1100; ++i) peer.write(header);  // 1.1 MB, each header line sane
    } catch (...) {  // the client stops reading and closes: writes fail, that is expected
    }
  });
  const auto outcome = request(server_->url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::response_too_large) << outcome.error.message();
}

TEST_F(HostileServer, HeadersNeverEndingEndByResponseHeaderTimeout) {
  std::atomic<bool> stop{false};
  serve([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\n");
    // Slowloris the other way round: a header byte every 20 ms, never the blank line.
    while (!stop && !peer.wait_eof(Clock::now() + 20ms)) {
      try {
        peer.write("X");
      } catch (...) {
        return;
      }
    }
  });
  Settings settings;
  settings.response_header = 300ms;
  auto& client_fixture = fixture(settings);
  const auto outcome = client_fixture.request(get(server_->url()));
  stop = true;
  ASSERT_TRUE(outcome.completed) << "dribbled headers kept the request alive";
  EXPECT_EQ(outcome.error, errc::response_header_timeout) << outcome.error.message();
  const auto wrote = client_fixture.at(TracePoint::wrote_request);
  ASSERT_TRUE(wrote.has_value());
  expect_fired_on_time(*wrote, outcome.finished, settings.response_header);
}

TEST_F(HostileServer, ContentLengthShorterThanBodyDoesNotPoisonTheNextRequest) {
  // The first response carries 5 bytes past its Content-Length; the connection must not be
  // read from again as if it were in sync: the next request gets the good answer either on a
  // new connection or after a retry.
  std::atomic<int> connections{0};
  serve([&](Peer& peer) {
    const int number = ++connections;
    for (int i = 0; !peer.read_headers(Clock::now() + 2s).empty(); ++i) {
      peer.write(number == 1 && i == 0 ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"
                                       : ok_response("second"));
    }
  });
  const auto first = request(server_->url());
  ASSERT_TRUE(first.completed);
  ASSERT_FALSE(first.error) << first.error.message();
  EXPECT_EQ(first.response.body(), "ok");
  const auto second = request(server_->url());
  ASSERT_TRUE(second.completed);
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "second");
}

TEST_F(HostileServer, ContentLengthLongerThanBodyThenClose) {
  serve(answer("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + std::string(5000, 'b')));
  const auto outcome = request(server_->url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::server_closed_connection) << outcome.error.message();
}

TEST_F(HostileServer, ContentLengthThatIsNotANumber) {
  for (const char* length : {"-1", "abc", "1 2", "99999999999999999999999", "0x10"}) {
    ScriptedServer server(
        answer(std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + length + "\r\n\r\nok"));
    const auto outcome = request(server.url());
    ASSERT_TRUE(outcome.completed) << length;
    EXPECT_EQ(outcome.error, errc::malformed_response) << length << ": " << outcome.error.message();
  }
}

TEST_F(HostileServer, ConflictingContentLengths) {
  serve(answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!"));
  const auto outcome = request(server_->url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::malformed_response) << outcome.error.message();
}

TEST_F(HostileServer, ContentLengthOverTheBodyLimit) {
  serve(answer("HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\nok"));
  const auto outcome = request(server_->url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::response_too_large) << outcome.error.message();
}

TEST_F(HostileServer, ChunkedBodiesWithBadChunkSizes) {
  for (const char* chunks :
       {"zz\r\nhello\r\n0\r\n\r\n", "-1\r\nhello\r\n0\r\n\r\n",
        "fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", "5\r\nhelloEXTRA\r\n0\r\n\r\n", "\r\n\r\n",
        "5 5\r\nhello\r\n0\r\n\r\n"}) {
    ScriptedServer server(
        answer(std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + chunks));
    const auto outcome = request(server.url());
    ASSERT_TRUE(outcome.completed) << ::testing::PrintToString(chunks);
    EXPECT_EQ(outcome.error, errc::malformed_response)
        << ::testing::PrintToString(chunks) << ": " << outcome.error.message();
  }
}

TEST_F(HostileServer, ChunkSizeOverTheBodyLimit) {
  serve(answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000\r\nhello"));
  const auto outcome = request(server_->url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::response_too_large) << outcome.error.message();
}

TEST_F(HostileServer, ChunkedBodyCutBeforeTheLastChunk) {
  serve(answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  const auto outcome = request(server_->url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::server_closed_connection) << outcome.error.message();
}

// response_header does not cover the body (Go semantics): a body that never ends is ended by a
// caller's deadline (per-operation cancellation), here a dribbled chunked body.
TEST_F(HostileServer, DribbledBodyNeverEndingEndsByTheCallersDeadline) {
  std::promise<bool> client_closed;
  serve([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const auto give_up = Clock::now() + 5s;
    bool closed = false;
    while (!closed && Clock::now() < give_up) {
      try {
        peer.write("1\r\nx\r\n");
      } catch (...) {
        closed = true;
        break;
      }
      closed = peer.wait_eof(Clock::now() + 20ms);
    }
    client_closed.set_value(closed);
  });
  Settings settings;
  settings.response_header = 100ms;  // headers arrive at once; the body outlives this limit
  fixture(settings);
  Clock::time_point cancelled_at;
  const auto outcome = request_with_deadline(get(server_->url()), 500ms, cancelled_at);
  ASSERT_TRUE(outcome.completed) << "the request hung after the caller's deadline";
  EXPECT_EQ(outcome.error, boost::asio::error::operation_aborted) << outcome.error.message();
  EXPECT_GE(outcome.finished - cancelled_at, 0ns);
  EXPECT_LT(outcome.finished - cancelled_at, timing_tolerance());
  EXPECT_TRUE(client_closed.get_future().get()) << "the client kept the connection open";
}

// A server that stalls mid-body, without a caller's deadline: response_header must not fire
// (it governs headers only), and the request stays pending until the server gives up.
TEST_F(HostileServer, StallMidBodyIsNotEndedByResponseHeader) {
  serve([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart");
    peer.wait_eof(Clock::now() + 600ms);  // then the server closes
  });
  Settings settings;
  settings.response_header = 100ms;
  auto& client_fixture = fixture(settings);
  const auto started = Clock::now();
  const auto outcome = client_fixture.request(get(server_->url()));
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::server_closed_connection) << outcome.error.message();
  // The server's stall (600 ms) ended it, long after response_header would have fired.
  EXPECT_GT(outcome.finished - started, settings.response_header + timing_tolerance())
      << "response_header cut the body short";
}

// A raw server for what Peer cannot do: close with SO_LINGER 0 (a TCP reset).
class ResettingServer {
 public:
  explicit ResettingServer(std::string partial_reply) : reply_(std::move(partial_reply)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 8);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const auto n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
      }
      (void)!::send(fd, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      linger hard{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      ::close(fd);  // with linger 0: a TCP reset, not a FIN
    });
  }
  ~ResettingServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  std::string reply_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::thread thread_;
};

TEST_F(HostileServer, ResetMidBody) {
  ResettingServer server("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" +
                         std::string(1000, 'r'));
  const auto outcome = request(server.url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(error_name(outcome.error), "connection_reset") << outcome.error.message();
}

TEST_F(HostileServer, ResetMidHeaders) {
  ResettingServer server("HTTP/1.1 200 OK\r\nContent-Le");
  const auto outcome = request(server.url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(error_name(outcome.error), "connection_reset") << outcome.error.message();
}

TEST_F(HostileServer, TlsPeerSendsGarbageInsteadOfServerHello) {
  for (const std::string& garbage :
       {std::string("HTTP/1.1 400 Bad Request\r\n\r\n"), std::string(4096, '\x16'),
        std::string("\x16\x03\x03\x40\x00", 5) + std::string(100, 'z')}) {
    ScriptedServer server([garbage](Peer& peer) {
      peer.wait_readable(Clock::now() + 2s);  // the ClientHello
      peer.write(garbage);
      peer.wait_eof(Clock::now() + 2s);
    });
    Settings settings;
    settings.tls_handshake = 1s;
    ClientFixture client_fixture(settings);
    const auto started = Clock::now();
    const auto outcome =
        client_fixture.request(get("https://127.0.0.1:" + std::to_string(server.port()) + "/"), 5s);
    ASSERT_TRUE(outcome.completed);
    // A truncated record waits for more bytes until the server closes or tls_handshake fires;
    // anything else is a TLS error at once. Either way a clear error, never a hang.
    const auto name = error_name(outcome.error);
    EXPECT_TRUE(name == "tls_error" || name == "tls_handshake_timeout" ||
                name == "tls_stream_truncated")
        << name << ": " << outcome.error.message();
    EXPECT_LT(outcome.finished - started, settings.tls_handshake + timing_tolerance());
  }
}

TEST_F(HostileServer, ContinueSentTwice) {
  serve([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n");
    peer.read_exactly(5, Clock::now() + 2s);
    peer.write(ok_response("stored"));
  });
  const auto outcome = fixture().request(with_expect_continue(server_->url(), "hello"));
  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "stored");
}

TEST_F(HostileServer, ContinueAfterTheFinalResponse) {
  // A stray `100 Continue` after a whole response must not be taken as the next request's
  // answer: the second request still gets its own response.
  std::atomic<int> connections{0};
  serve([&](Peer& peer) {
    const int number = ++connections;
    for (int i = 0; !peer.read_headers(Clock::now() + 2s).empty(); ++i) {
      if (number == 1 && i == 0) {
        peer.read_exactly(5, Clock::now() + 2s);
        peer.write(ok_response("first") + "HTTP/1.1 100 Continue\r\n\r\n");
      } else {
        peer.read_exactly(5, Clock::now() + 2s);
        peer.write(ok_response("second"));
      }
    }
  });
  Settings settings;
  settings.expect_continue = 0s;  // send the body at once
  auto& client_fixture = fixture(settings);
  const auto first = client_fixture.request(with_expect_continue(server_->url(), "hello"));
  ASSERT_TRUE(first.completed);
  ASSERT_FALSE(first.error) << first.error.message();
  EXPECT_EQ(first.response.body(), "first");
  const auto second = client_fixture.request(with_expect_continue(server_->url(), "again"));
  ASSERT_TRUE(second.completed);
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "second");
}

TEST_F(HostileServer, InformationalResponsesOtherThan100AreSkipped) {
  serve(
      answer("HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
             "HTTP/1.1 199 Whatever\r\nX-A: b\r\n\r\n" +
             ok_response("final")));
  auto& client_fixture = fixture();
  const auto outcome = client_fixture.request(get(server_->url()));
  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.result_int(), 200u);
  EXPECT_EQ(outcome.response.body(), "final");
  EXPECT_EQ(client_fixture.events(TracePoint::got_1xx_response).size(), 3u);
}

TEST_F(HostileServer, FiveInformationalResponsesAreAllowed) {
  std::string reply;
  for (int i = 0; i < 5; ++i) reply += "HTTP/1.1 103 Early Hints\r\n\r\n";
  serve(answer(reply + ok_response("final")));
  const auto outcome = request(server_->url());
  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "final");
}

TEST_F(HostileServer, MoreThanFiveInformationalResponses) {
  std::string reply;
  for (int i = 0; i < 6; ++i) reply += "HTTP/1.1 103 Early Hints\r\n\r\n";
  serve(answer(reply + ok_response("final")));
  const auto outcome = request(server_->url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::too_many_informational) << outcome.error.message();
}

TEST_F(HostileServer, EndlessInformationalResponses) {
  serve([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    try {
      for (int i = 0; i < 100000 && !peer.wait_eof(Clock::now()); ++i) {
        peer.write("HTTP/1.1 100 Continue\r\n\r\n");
      }
    } catch (...) {
    }
  });
  const auto outcome = request(server_->url());
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, errc::too_many_informational) << outcome.error.message();
}

}  // namespace
}  // namespace tunedhttp::testing
