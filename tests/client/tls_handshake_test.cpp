// `tls_handshake` (Transport.TLSHandshakeTimeout): from tls_handshake_start to its end.
#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;

TEST(TlsHandshake, FiresWhenTheServerNeverAnswersTheClientHello) {
  SilentServer silent;
  Settings settings;
  settings.tls_handshake = 300ms;
  ClientFixture fixture(settings, trusting_localhost());

  const auto outcome =
      fixture.request(get("https://127.0.0.1:" + std::to_string(silent.port()) + "/"));

  ASSERT_TRUE(outcome.completed) << "the request hung";
  EXPECT_EQ(outcome.error, errc::tls_handshake_timeout) << "got " << outcome.error.message();
  EXPECT_EQ(outcome.error, boost::system::errc::timed_out);
  EXPECT_EQ(outcome.error.message(), "net/http: TLS handshake timeout");
  const auto start = fixture.at(TracePoint::tls_handshake_start);
  ASSERT_TRUE(start);
  expect_fired_on_time(*start, outcome.finished, settings.tls_handshake);
}

TEST(TlsHandshake, SucceedsWithinTheLimitAndVerifiesThePeer) {
  ScriptedServer server(
      [](Peer& peer) {
        peer.read_headers(Clock::now() + 2s);
        peer.write(ok_response("secure"));
      },
      localhost_material());
  Settings settings;
  settings.tls_handshake = 300ms;
  ClientFixture fixture(settings, trusting_localhost());

  const auto outcome = fixture.request(get(server.url()));

  ASSERT_TRUE(outcome.completed);
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "secure");
  const auto start = fixture.at(TracePoint::tls_handshake_start);
  const auto done = fixture.at(TracePoint::tls_handshake_done);
  ASSERT_TRUE(start && done);
  EXPECT_LT(*done - *start, settings.tls_handshake);
}

TEST(TlsHandshake, ByHostNameUsesSniAndChecksTheName) {
  ScriptedServer server(
      [](Peer& peer) {
        peer.read_headers(Clock::now() + 2s);
        peer.write(ok_response("named"));
      },
      localhost_material());
  ClientFixture fixture({}, trusting_localhost());
  const auto outcome =
      fixture.request(get("https://localhost:" + std::to_string(server.port()) + "/"));
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "named");
}

TEST(TlsHandshake, CertificateForAnotherNameIsRejected) {
  const auto wrong = TlsMaterial::make("DNS:wrong.example");
  ScriptedServer server([](Peer& peer) { peer.wait_eof(Clock::now() + 2s); }, wrong);
  ClientFixture fixture({}, TlsOptions{{}, wrong.certificate_pem, false});
  const auto outcome = fixture.request(get(server.url()));
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(error_name(outcome.error), "certificate_verify_failed") << outcome.error.message();
}

TEST(TlsHandshake, UnknownCertificateAuthorityIsRejected) {
  ScriptedServer server([](Peer& peer) { peer.wait_eof(Clock::now() + 2s); }, localhost_material());
  ClientFixture fixture;  // system store: does not know our test CA
  const auto outcome = fixture.request(get(server.url()));
  EXPECT_EQ(error_name(outcome.error), "certificate_verify_failed") << outcome.error.message();
}

TEST(TlsHandshake, InsecureSkipsVerification) {
  const auto wrong = TlsMaterial::make("DNS:wrong.example");
  ScriptedServer server(
      [](Peer& peer) {
        peer.read_headers(Clock::now() + 2s);
        peer.write(ok_response("unverified"));
      },
      wrong);
  ClientFixture fixture({}, TlsOptions{{}, {}, true});
  const auto outcome = fixture.request(get(server.url()));
  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "unverified");
}

}  // namespace
}  // namespace tunedhttp::testing
