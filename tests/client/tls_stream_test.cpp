// The client's own TLS stream (client/src/tls_stream.hpp) against OpenSSL's server: what an idle
// TLS connection's read in flight makes of TLS's own records, and bodies that span many records
// each way.
#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;

TlsOptions trusting_localhost() {
  return TlsOptions{{}, localhost_material().certificate_pem, false};
}

// Serves keep-alive requests; after the first response, `between` runs on the idle connection
// (after `pause`, or at once with the response), and `done` is set.
ScriptedServer::Script serve_with_idle_step(std::atomic<int>& accepted, std::atomic<bool>& done,
                                            std::function<void(Peer&)> between,
                                            std::chrono::milliseconds pause = 0ms) {
  return [&accepted, &done, between, pause](Peer& peer) {
    ++accepted;
    for (int served = 0; !peer.read_headers(Clock::now() + 5s).empty(); ++served) {
      peer.write(ok_response("served" + std::to_string(served)));
      if (served != 0) continue;
      // The client has nothing to send meanwhile: this is the server's pause.
      if (pause > 0ms) peer.wait_readable(Clock::now() + pause);
      between(peer);
      done = true;
    }
  };
}

void send_ticket(Peer& peer) { peer.send_session_ticket(); }

// close_notify, with the TCP connection left open until the client closes it.
void send_close_notify(Peer& peer) {
  peer.send_close_notify();
  peer.wait_eof(Clock::now() + 5s);
}

TEST(TlsStream, SessionTicketWhileIdleKeepsTheConnection) {
  std::atomic<int> accepted{0};
  std::atomic<bool> sent{false};
  ScriptedServer server(serve_with_idle_step(accepted, sent, send_ticket, 20ms),
                        localhost_material());
  ClientFixture fixture({}, trusting_localhost());
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  // The ticket reaches the idle connection's read in flight, not a request's read.
  ASSERT_TRUE(fixture.run_until([&] { return sent.load(); }, 5s));
  fixture.run_until([] { return false; }, 50ms);
  const auto second = fixture.request(get(server.url()));
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "served1");
  auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.dials, 1u);
  EXPECT_EQ(stats.reuses, 1u);
  EXPECT_EQ(stats.closes_by_reason[CloseReason::server_closed], 0u);
  EXPECT_EQ(accepted.load(), 1);
}

TEST(TlsStream, SessionTicketRightAfterTheResponseIsNotData) {
  std::atomic<int> accepted{0};
  std::atomic<bool> sent{false};
  ScriptedServer server(serve_with_idle_step(accepted, sent, send_ticket), localhost_material());
  ClientFixture fixture({}, trusting_localhost());
  // No pause: the ticket often comes in the response's read, else in the idle read, else in
  // the next request's; in none of them is it left-over data or a response.
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  const auto second = fixture.request(get(server.url()));
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "served1");
  EXPECT_EQ(fixture.client().pool_stats().dials, 1u);
}

TEST(TlsStream, CloseNotifyWhileIdleClosesTheConnection) {
  std::atomic<int> accepted{0};
  std::atomic<bool> sent{false};
  ScriptedServer server(serve_with_idle_step(accepted, sent, send_close_notify, 20ms),
                        localhost_material());
  ClientFixture fixture({}, trusting_localhost());
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  // Seen by the idle read: the pool closes it, as for a FIN.
  ASSERT_TRUE(fixture.run_until(
      [&] {
        return fixture.client().pool_stats().closes_by_reason[CloseReason::server_closed] == 1;
      },
      5s));
  const auto second = fixture.request(get(server.url()));
  ASSERT_FALSE(second.error) << second.error.message();
  auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.dials, 2u);
  EXPECT_EQ(stats.closes_by_reason[CloseReason::server_closed], 1u);
  EXPECT_EQ(stats.retries, 0u);
}

TEST(TlsStream, CloseNotifyJustBeforeTheNextRequestCostsNoError) {
  std::atomic<int> accepted{0};
  std::atomic<bool> sent{false};
  ScriptedServer server(serve_with_idle_step(accepted, sent, send_close_notify),
                        localhost_material());
  ClientFixture fixture({}, trusting_localhost());
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  // The close_notify may come in the response's read (the connection is then not pooled), in
  // the idle read (closed as for a FIN), or in the next request's own read before any response
  // byte (Go's rule retries it on a new connection): never an error.
  const auto second = fixture.request(get(server.url()));
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "served0");
  EXPECT_EQ(fixture.client().pool_stats().dials, 2u);
}

TEST(TlsStream, PlaintextAnswerOverTlsIsATlsErrorAtOnce) {
  // A server that answers in clear on a TLS connection: not a record OpenSSL can read.
  ScriptedServer server(
      [](Peer& peer) {
        if (peer.read_headers(Clock::now() + 5s).empty()) return;
        peer.write_raw(ok_response("in clear"));
        peer.wait_eof(Clock::now() + 5s);
      },
      localhost_material());
  ClientFixture fixture({}, trusting_localhost());
  const auto started = Clock::now();
  const auto outcome = fixture.request(get(server.url()));
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(error_name(outcome.error), "tls_error") << outcome.error.message();
  EXPECT_LT(Clock::now() - started, 2s) << "an unreadable record must fail the read, not hang it";
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
}

TEST(TlsStream, GarbageWhileIdleClosesTheConnection) {
  std::atomic<int> accepted{0};
  std::atomic<bool> sent{false};
  ScriptedServer server(serve_with_idle_step(
                            accepted, sent,
                            [](Peer& peer) {
                              peer.write_raw(std::string(64, '\x17'));
                              peer.wait_eof(Clock::now() + 5s);
                            },
                            20ms),
                        localhost_material());
  ClientFixture fixture({}, trusting_localhost());
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  // OpenSSL cannot read it: the pool closes the connection, as for stray bytes on plain HTTP.
  ASSERT_TRUE(fixture.run_until(
      [&] {
        return fixture.client().pool_stats().closes_by_reason[CloseReason::server_closed] == 1;
      },
      5s));
  const auto second = fixture.request(get(server.url()));
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(fixture.client().pool_stats().dials, 2u);
}

TEST(TlsStream, BodiesOfManyRecordsArriveWhole) {
  // Not a multiple of a record or of a read: the last record and the last read are short.
  const std::string sent(1'000'003, 'q');
  std::string echoed(777'777, 'e');
  for (std::size_t i = 0; i < echoed.size(); i += 4096) echoed[i] = static_cast<char>('a' + i % 26);
  std::atomic<std::size_t> received{0};
  std::atomic<bool> intact{false};
  ScriptedServer server(
      [&](Peer& peer) {
        for (;;) {
          const std::string head = peer.read_headers(Clock::now() + 5s);
          if (head.empty()) return;
          std::string body = peer.pending();
          peer.pending().clear();
          body += peer.read_exactly(sent.size() - body.size(), Clock::now() + 5s);
          received = body.size();
          intact = body == sent;
          peer.write(ok_response(echoed));
        }
      },
      localhost_material());
  ClientFixture fixture({}, trusting_localhost());
  for (int round = 0; round < 2; ++round) {
    Request request = get(server.url());
    request.method(boost::beast::http::verb::post);
    request.body() = sent;
    request.prepare_payload();
    const auto outcome = fixture.request(request);
    ASSERT_FALSE(outcome.error) << outcome.error.message();
    EXPECT_EQ(received.load(), sent.size());
    EXPECT_TRUE(intact.load());
    EXPECT_TRUE(outcome.response.body() == echoed) << "round " << round;
  }
  EXPECT_EQ(fixture.client().pool_stats().reuses, 1u);
}

}  // namespace
}  // namespace tunedhttp::testing
