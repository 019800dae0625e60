// TLS with the certificate made at start, and delay_tls_handshake seen from a raw TLS client.
#include "test_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

ServerOptions tls_options(std::vector<FaultConfig> faults = {}) {
  ServerOptions options;
  options.tls = true;
  options.faults = std::move(faults);
  return options;
}

TEST(Tls, ServesWithACertificateSignedByTheCa) {
  ServerThread server{tls_options()};
  EXPECT_EQ(server.server().base_url(),
            "https://127.0.0.1:" + std::to_string(server.server().port()) + "/");
  const auto ca = server.server().ca_pem();
  ASSERT_EQ(ca.rfind("-----BEGIN CERTIFICATE-----", 0), 0u) << ca;
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.use_tls(ca);
  client.start_handshake();
  ASSERT_TRUE(client.handshake_by(Clock::now() + 2s));
  ASSERT_FALSE(client.handshake_error()) << client.handshake_error().message();
  ASSERT_TRUE(server.wait_for(EventKind::tls_done, 1));
  client.send_request("GET", "/");
  EXPECT_TRUE(client.read_until("ok\n", Clock::now() + 2s));
  client.close();
  EXPECT_TRUE(server.wait_for(EventKind::closed_by_peer, 1));
}

TEST(Tls, AnotherServersCaIsNotTrusted) {
  ServerThread server{tls_options()};
  ServerThread other{tls_options()};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.use_tls(other.server().ca_pem());
  client.start_handshake();
  ASSERT_TRUE(client.handshake_by(Clock::now() + 2s));
  EXPECT_TRUE(client.handshake_error()) << "verified with the wrong CA";
}

void expect_delayed_handshake(bool after_client_hello) {
  constexpr auto delay = 300ms;
  ServerThread server{tls_options(
      {{"delay_tls_handshake",
        {{"for", "300ms"}, {"after_client_hello", after_client_hello ? "true" : "false"}},
        {}}})};
  RawClient client;
  // Measured from before the connect: the server's delay cannot start earlier, while the
  // moment this thread notices the connect may come later than the server's accept.
  const auto connecting = Clock::now();
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.use_tls(server.server().ca_pem());
  client.start_handshake();
  EXPECT_FALSE(client.handshake_by(connecting + delay - 20ms)) << "handshake finished early";
  ASSERT_TRUE(client.handshake_by(connecting + delay + tolerance())) << "handshake late";
  EXPECT_FALSE(client.handshake_error()) << client.handshake_error().message();
  expect_elapsed(*client.handshake_at() - connecting, delay, "TLS handshake");
  auto accepted = server.wait_for(EventKind::accepted, 1);
  auto done = server.wait_for(EventKind::tls_done, 1);
  ASSERT_TRUE(accepted && done);
  EXPECT_GE(done->at - accepted->at, delay);
}

TEST(DelayTlsHandshake, BeforeReadingTheClientHello) { expect_delayed_handshake(false); }

TEST(DelayTlsHandshake, AfterTheClientHello) { expect_delayed_handshake(true); }

TEST(DelayTlsHandshake, ForeverUntilTheClientGivesUp) {
  ServerThread server{tls_options({{"delay_tls_handshake", {}, {}}})};
  RawClient client;
  ASSERT_TRUE(client.connect(server.endpoint()));
  client.use_tls(server.server().ca_pem());
  client.start_handshake();
  EXPECT_FALSE(client.handshake_by(Clock::now() + 400ms));
  client.close();
  EXPECT_TRUE(server.wait_for(EventKind::closed_by_peer, 1));
  EXPECT_FALSE(server.events().wait_for(EventKind::tls_done, 1, Clock::now()));
}

TEST(DelayTlsHandshake, NeedsATlsServer) {
  asio::io_context io;
  ServerOptions options;
  options.faults = {{"delay_tls_handshake", {{"for", "1s"}}, {}}};
  EXPECT_THROW(Server(io.get_executor(), options), std::invalid_argument);
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
