// Go: TestTransportTLSHandshakeTimeout, TestTLSHandshakeTrace.
#include "conformance_support.hpp"

namespace tunedhttp::conformance {
namespace {

// Go: a listener that accepts and never speaks TLS; TLSHandshakeTimeout fires with
// "net/http: TLS handshake timeout", a net.Error whose Timeout() is true.
TEST(GoTransport, TestTransportTLSHandshakeTimeout) {
  testing::SilentServer silent;
  Settings settings;
  settings.tls_handshake = 250ms;
  ClientFixture fixture(settings);

  const auto outcome =
      fixture.request(get("https://127.0.0.1:" + std::to_string(silent.port()) + "/"));

  ASSERT_TRUE(outcome.completed) << "the handshake hung";
  EXPECT_EQ(outcome.error, errc::tls_handshake_timeout) << outcome.error.message();
  EXPECT_EQ(outcome.error, std::errc::timed_out);
  EXPECT_NE(outcome.error.message().find("TLS handshake timeout"), std::string::npos)
      << outcome.error.message();
  const auto started = fixture.at(TracePoint::tls_handshake_start);
  ASSERT_TRUE(started);
  expect_fired_on_time(*started, outcome.finished, settings.tls_handshake);
  const auto done = fixture.events(TracePoint::tls_handshake_done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].error, errc::tls_handshake_timeout);
  EXPECT_EQ(fixture.client().pool_stats().dials, 0u);
}

// Go: TLSHandshakeStart and TLSHandshakeDone are both called, Done without an error, for a
// request to a TLS server. We also check where they sit: after the TCP dial, before got_conn,
// and that a reused connection does no second handshake.
TEST(GoTransport, TestTLSHandshakeTrace) {
  mockserver::ServerOptions options;
  options.tls = true;
  MockServer server(std::move(options));
  ClientFixture fixture(Settings{}, trusting(server));

  const auto first = fixture.request(get(server.url("/")));
  ASSERT_FALSE(first.error) << first.error.message();
  const auto second = fixture.request(get(server.url("/")));
  ASSERT_FALSE(second.error) << second.error.message();

  const auto start = fixture.events(TracePoint::tls_handshake_start);
  const auto done = fixture.events(TracePoint::tls_handshake_done);
  ASSERT_EQ(start.size(), 1u) << "TLSHandshakeStart not called exactly once";
  ASSERT_EQ(done.size(), 1u) << "TLSHandshakeDone not called exactly once";
  EXPECT_FALSE(done[0].error) << done[0].error.message();
  const auto dial_done = fixture.at(TracePoint::dial_done, 1);
  const auto got = fixture.at(TracePoint::got_conn, 1);
  ASSERT_TRUE(dial_done && got);
  EXPECT_LE(*dial_done, start[0].at);
  EXPECT_LE(start[0].at, done[0].at);
  EXPECT_LE(done[0].at, *got);
  EXPECT_TRUE(got_conn(fixture, 2)->reused);
}

}  // namespace
}  // namespace tunedhttp::conformance
