// The client's own TLS stream (client/src/tls_stream.hpp) against OpenSSL's server: what an idle
// TLS connection's read in flight makes of TLS's own records, and bodies that span many records
// each way.
#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;

// Serves keep-alive requests; after the first response, `between` runs on the idle connection
// (after `pause`, or at once with the response), and `done` is set.
ScriptedServer::Script serve_with_idle_step(std::atomic<bool>& done,
                                            std::function<void(Peer&)> between,
                                            std::chrono::milliseconds pause) {
  return [&done, between, pause](Peer& peer) {
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

// What a second GET saw after the server did something to the first one's idle connection.
struct SecondRequest {
  Outcome outcome;
  PoolStats stats;
};

// Two GETs on one client over TLS; between them, the server runs `between` after `pause`. With
// `idle_until`, the client's loop runs until it holds before the second GET (so that what the
// server sent reaches the idle connection's read in flight, not the second request's read).
SecondRequest second_request(std::function<void(Peer&)> between, std::chrono::milliseconds pause,
                             std::function<bool(ClientFixture&, bool sent)> idle_until = {}) {
  std::atomic<bool> sent{false};
  ScriptedServer server(serve_with_idle_step(sent, std::move(between), pause),
                        localhost_material());
  ClientFixture fixture({}, trusting_localhost());
  SecondRequest result;
  result.outcome = fixture.request(get(server.url()));
  if (result.outcome.error) return result;
  if (idle_until) {
    const bool held = fixture.run_until([&] { return idle_until(fixture, sent.load()); }, 5s);
    EXPECT_TRUE(held) << "the idle connection never saw what the server sent";
  }
  result.outcome = fixture.request(get(server.url()));
  result.stats = fixture.client().pool_stats();
  return result;
}

void send_ticket(Peer& peer) { peer.send_session_ticket(); }

// close_notify, with the TCP connection left open until the client closes it.
void send_close_notify(Peer& peer) {
  peer.send_close_notify();
  peer.wait_eof(Clock::now() + 5s);
}

// Bytes that are not a TLS record, written past TLS.
void send_garbage(Peer& peer) {
  peer.write_raw(std::string(64, '\x17'));
  peer.wait_eof(Clock::now() + 5s);
}

// The pool has closed the idle connection because of what its read brought.
bool closed_by_server(ClientFixture& fixture, bool) {
  return fixture.client().pool_stats().closes(CloseReason::server_closed) == 1;
}

TEST(TlsStream, SessionTicketWhileIdleKeepsTheConnection) {
  // The server sends it after the response, once the connection is idle; then a gap.
  const auto second = second_request(send_ticket, 20ms, [](ClientFixture& fixture, bool sent) {
    if (!sent) return false;
    fixture.run_until([] { return false; }, 50ms);
    return true;
  });
  ASSERT_FALSE(second.outcome.error) << second.outcome.error.message();
  EXPECT_EQ(second.outcome.response.body(), "served1");
  EXPECT_EQ(second.stats.dials, 1u);
  EXPECT_EQ(second.stats.reuses, 1u);
  EXPECT_EQ(second.stats.closes(CloseReason::server_closed), 0u);
}

TEST(TlsStream, SessionTicketRightAfterTheResponseIsNotData) {
  // No pause: the ticket often comes in the response's read, else in the idle read, else in
  // the next request's; in none of them is it left-over data or a response.
  const auto second = second_request(send_ticket, 0ms);
  ASSERT_FALSE(second.outcome.error) << second.outcome.error.message();
  EXPECT_EQ(second.outcome.response.body(), "served1");
  EXPECT_EQ(second.stats.dials, 1u);
}

TEST(TlsStream, CloseNotifyWhileIdleClosesTheConnection) {
  // Seen by the idle read: the pool closes the connection, as for a FIN.
  const auto second = second_request(send_close_notify, 20ms, closed_by_server);
  ASSERT_FALSE(second.outcome.error) << second.outcome.error.message();
  EXPECT_EQ(second.stats.dials, 2u);
  EXPECT_EQ(second.stats.closes(CloseReason::server_closed), 1u);
  EXPECT_EQ(second.stats.retries, 0u);
}

TEST(TlsStream, CloseNotifyJustBeforeTheNextRequestCostsNoError) {
  // The close_notify may come in the response's read (the connection is then not pooled), in
  // the idle read (closed as for a FIN), or in the next request's own read before any response
  // byte (Go's rule retries it on a new connection): never an error.
  const auto second = second_request(send_close_notify, 0ms);
  ASSERT_FALSE(second.outcome.error) << second.outcome.error.message();
  EXPECT_EQ(second.outcome.response.body(), "served0");
  EXPECT_EQ(second.stats.dials, 2u);
}

TEST(TlsStream, GarbageWhileIdleClosesTheConnection) {
  // OpenSSL cannot read it: the pool closes the connection, as for stray bytes on plain HTTP.
  const auto second = second_request(send_garbage, 20ms, closed_by_server);
  ASSERT_FALSE(second.outcome.error) << second.outcome.error.message();
  EXPECT_EQ(second.stats.dials, 2u);
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
