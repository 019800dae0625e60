// A final response that arrives while the request body is still being written: as in Go's
// persistConn.roundTrip, it is handed to the caller at once (the write is abandoned and the
// connection is not reused) instead of waiting on a write the server may never read.
#include <future>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;

// Far more than loopback's socket buffers hold, so the write cannot finish unless the server
// reads.
constexpr std::size_t large_body = 64u << 20;

// Plain TCP and TLS: over TLS the abandoned write is inside the TLS stream.
class EarlyResponse : public ::testing::TestWithParam<bool> {
 protected:
  std::optional<TlsMaterial> server_tls() const {
    if (!GetParam()) return std::nullopt;
    return localhost_material();
  }
  TlsOptions client_tls() const {
    if (!GetParam()) return {};
    return trusting_localhost();
  }
};

TEST_P(EarlyResponse, AnswerToABodyTheServerNeverReadsIsHandedOverAtOnce) {
  const int fds_before = open_fd_count();
  {
    std::promise<void> release;
    auto released = release.get_future().share();
    ScriptedServer server(
        [&](Peer& peer) {
          peer.read_headers(Clock::now() + 2s);
          peer.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nbig!");
          // Hold the connection without reading: the client's write stays stuck until we return.
          released.wait_for(10s);
        },
        server_tls());
    ClientFixture fixture({}, client_tls());

    const auto outcome = fixture.request(
        make_request(http::verb::put, server.url(), std::string(large_body, 'b')), 8s);
    release.set_value();

    ASSERT_TRUE(outcome.completed) << "the client waited on a write the server never reads";
    ASSERT_FALSE(outcome.error) << outcome.error.message();
    EXPECT_EQ(outcome.response.result_int(), 413u);
    EXPECT_EQ(outcome.response.body(), "big!");
    EXPECT_FALSE(fixture.at(TracePoint::wrote_request).has_value()) << "the body was all sent";
    EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
    EXPECT_EQ(fixture.client().pool_stats().closes_by_reason[CloseReason::not_reusable], 1u);
  }
  EXPECT_EQ(open_fd_count(), fds_before) << "a socket leaked";
}

std::string transport_name(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "tls" : "plain";
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, EarlyResponse, ::testing::Bool(), transport_name);

}  // namespace
}  // namespace tunedhttp::testing
