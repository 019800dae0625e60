// Streamed responses (async_request_stream + BodyReader): the body read in pieces, and Go's
// bodyEOFSignal rules for the connection: read to the end, it goes back to the pool; closed
// early, it is closed and never reused.
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;

/// What a streamed request gave: the status, the body read in pieces of `piece` bytes, and the
/// error that ended the reading (eof when the body was read to its end).
struct Streamed {
  boost::system::error_code request_error;
  unsigned status = 0;
  std::string body;
  std::size_t reads = 0;
  boost::system::error_code end;
  bool done = false;  ///< BodyReader::done() at the end
  bool finished = false;
};

// Reads at most `limit` body bytes (then drops the reader: the body is closed early).
asio::awaitable<void> stream_body(Client& client, Request request, std::size_t piece,
                                  std::size_t limit, Streamed& out) {
  auto [ec, response] =
      co_await client.async_request_stream(std::move(request), asio::as_tuple(asio::use_awaitable));
  out.request_error = ec;
  if (!ec) {
    out.status = response.header.result_int();
    std::string buffer(piece, '\0');
    while (out.body.size() < limit) {
      auto [read_error, n] = co_await response.body.async_read_some(
          asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      if (read_error) {
        out.end = read_error;
        break;
      }
      ++out.reads;
      out.body.append(buffer.data(), n);
    }
    out.done = response.body.done();
  }
  out.finished = true;
}

Streamed run_stream(ClientFixture& fixture, Request request, std::size_t piece,
                    std::size_t limit = SIZE_MAX) {
  Streamed out;
  asio::co_spawn(fixture.context(),
                 stream_body(fixture.client(), std::move(request), piece, limit, out),
                 asio::detached);
  EXPECT_TRUE(fixture.run_until([&] { return out.finished; }, 5000ms)) << "the stream hung";
  return out;
}

// Over TLS the pieces come from the client's own TLS stream: records decrypted as read, and the
// idle connection's read in flight adopted by the second request.
void reads_in_pieces_then_reuses(bool tls) {
  ScriptedServer server(
      [](Peer& peer) {
        for (int i = 0; i < 2; ++i) {
          peer.read_headers(Clock::now() + 2s);
          peer.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
          peer.wait_readable(Clock::now() + 100ms);  // the rest comes later
          peer.write("56789");
        }
      },
      tls ? std::optional(localhost_material()) : std::nullopt);
  ClientFixture fixture({}, tls ? trusting_localhost() : TlsOptions{});
  const auto first = run_stream(fixture, get(server.url()), 4);
  ASSERT_FALSE(first.request_error) << first.request_error.message();
  EXPECT_EQ(first.status, 200u);
  EXPECT_EQ(first.body, "0123456789");
  EXPECT_GE(first.reads, 3u) << "a 4-byte buffer takes at least three reads";
  EXPECT_EQ(first.end, asio::error::eof) << first.end.message();
  EXPECT_TRUE(first.done);
  EXPECT_EQ(fixture.client().pool_stats().idle, 1u) << "read to the end: back to the pool";
  ASSERT_TRUE(fixture.at(TracePoint::response_done, 1));
  ASSERT_TRUE(fixture.at(TracePoint::put_idle_conn, 1));
  EXPECT_GE(*fixture.at(TracePoint::response_done, 1),
            *fixture.at(TracePoint::got_response_headers, 1));

  const auto second = run_stream(fixture, get(server.url()), 64 * 1024);
  ASSERT_FALSE(second.request_error) << second.request_error.message();
  EXPECT_EQ(second.body, "0123456789");
  EXPECT_EQ(server.accepted(), 1) << "the second request dialled again";
  EXPECT_EQ(fixture.client().pool_stats().reuses, 1u);
}

TEST(Streaming, ReadsTheBodyInPiecesThenReusesTheConnection) { reads_in_pieces_then_reuses(false); }

TEST(Streaming, OverTlsReadsTheBodyInPiecesThenReusesTheConnection) {
  reads_in_pieces_then_reuses(true);
}

TEST(Streaming, ClosingEarlyClosesTheConnection) {
  std::promise<bool> client_closed;
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + std::string(1000, 'x'));
    client_closed.set_value(peer.wait_eof(Clock::now() + 3s));
  });
  ClientFixture fixture;
  const auto streamed = run_stream(fixture, get(server.url()), 100, 100);
  ASSERT_FALSE(streamed.request_error) << streamed.request_error.message();
  EXPECT_EQ(streamed.body, std::string(100, 'x'));
  EXPECT_FALSE(streamed.done);
  // The reader is gone: its connection is closed, never pooled.
  EXPECT_TRUE(client_closed.get_future().get()) << "the client kept the connection open";
  fixture.run_until([&] { return fixture.at(TracePoint::put_idle_conn, 1).has_value(); }, 2000ms);
  const auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.idle, 0u);
  EXPECT_EQ(stats.closes(CloseReason::not_reusable), 1u);
  const auto put = fixture.events(TracePoint::put_idle_conn);
  ASSERT_EQ(put.size(), 1u);
  EXPECT_EQ(put[0].detail, "not_reusable");
}

TEST(Streaming, ChunkedBodyAndABodyCutShort) {
  ScriptedServer server([](Peer& peer) {
    const auto head = peer.read_headers(Clock::now() + 2s);
    if (head.find("/chunked") != std::string::npos) {
      peer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
      peer.wait_readable(Clock::now() + 50ms);
      peer.write("2\r\nde\r\n0\r\n\r\n");
      peer.read_headers(Clock::now() + 2s);
    }
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    peer.close();
  });
  ClientFixture fixture;
  const auto chunked = run_stream(fixture, get(server.url("/chunked")), 2);
  ASSERT_FALSE(chunked.request_error) << chunked.request_error.message();
  EXPECT_EQ(chunked.body, "abcde");
  EXPECT_EQ(chunked.end, asio::error::eof);

  const auto cut = run_stream(fixture, get(server.url("/cut")), 64);
  ASSERT_FALSE(cut.request_error) << cut.request_error.message();
  EXPECT_EQ(cut.body, "abc");
  EXPECT_EQ(cut.end, errc::server_closed_connection) << cut.end.message();
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
  EXPECT_EQ(fixture.client().pool_stats().closes(CloseReason::error), 1u);
}

TEST(Streaming, HeadAndNoContentEndAtOnce) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");  // HEAD: no body follows
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 204 No Content\r\n\r\n");
    peer.wait_eof(Clock::now() + 2s);
  });
  ClientFixture fixture;
  auto head = get(server.url());
  head.method(http::verb::head);
  const auto first = run_stream(fixture, std::move(head), 64);
  ASSERT_FALSE(first.request_error) << first.request_error.message();
  EXPECT_EQ(first.body, "");
  EXPECT_EQ(first.end, asio::error::eof);
  const auto second = run_stream(fixture, get(server.url()), 64);
  EXPECT_EQ(second.status, 204u);
  EXPECT_EQ(second.end, asio::error::eof);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(Streaming, AnEmptyReaderFailsItsReads) {
  asio::io_context context;
  BodyReader reader;
  std::optional<boost::system::error_code> got;
  reader.async_read_some(
      asio::mutable_buffer{},
      asio::bind_executor(context, [&](boost::system::error_code ec, std::size_t) { got = ec; }));
  context.run_for(2s);
  ASSERT_TRUE(got) << "the read never completed";
  EXPECT_EQ(*got, asio::error::operation_aborted);
}

// ---- request bodies from a BodySource ----------------------------------------------------

// A body of `size` bytes ('a' + offset % 26), produced `piece` bytes at a time; counts reads.
struct CountingSource {
  std::uint64_t size = 0;
  std::size_t piece = 1000;
  std::uint64_t offset = 0;
  int reads = 0;
  int rewinds = 0;
};

BodySource counting_source(std::shared_ptr<CountingSource> state, bool rewindable) {
  BodySource source;
  source.size = state->size;
  source.read = [state](asio::mutable_buffer buffer, boost::system::error_code&) {
    ++state->reads;
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>({buffer.size(), state->piece, state->size - state->offset}));
    auto* out = static_cast<char*>(buffer.data());
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + (state->offset + i) % 26);
    state->offset += n;
    return n;
  };
  if (rewindable) {
    source.rewind = [state] {
      ++state->rewinds;
      state->offset = 0;
      return true;
    };
  }
  return source;
}

std::string expected_body(std::uint64_t size) {
  std::string body(size, '\0');
  for (std::uint64_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + i % 26);
  return body;
}

struct Sent {
  boost::system::error_code error;
  unsigned status = 0;
  bool finished = false;
};

asio::awaitable<void> send_with_source(Client& client, Request request, BodySource source,
                                       Sent& out) {
  auto [ec, response] = co_await client.async_request(
      std::move(request), std::move(source), TraceHook{}, asio::as_tuple(asio::use_awaitable));
  out.error = ec;
  out.status = ec ? 0 : response.result_int();
  out.finished = true;
}

Sent run_with_source(ClientFixture& fixture, Request request, BodySource source) {
  Sent out;
  asio::co_spawn(fixture.context(),
                 send_with_source(fixture.client(), std::move(request), std::move(source), out),
                 asio::detached);
  EXPECT_TRUE(fixture.run_until([&] { return out.finished; }, 5000ms)) << "the request hung";
  return out;
}

TEST(BodySource, ACallbackBodyIsWrittenAsItIsRead) {
  constexpr std::uint64_t size = 100'000;
  std::promise<std::string> received;
  ScriptedServer server([&](Peer& peer) {
    const auto head = peer.read_headers(Clock::now() + 2s);
    EXPECT_NE(head.find("Content-Length: 100000"), std::string::npos) << head;
    received.set_value(peer.read_exactly(size, Clock::now() + 2s));
    peer.write(ok_response("stored"));
  });
  ClientFixture fixture;
  auto state = std::make_shared<CountingSource>();
  state->size = size;
  const auto sent = run_with_source(fixture, make_request(http::verb::put, server.url("/object")),
                                    counting_source(state, false));
  ASSERT_FALSE(sent.error) << sent.error.message();
  EXPECT_EQ(sent.status, 200u);
  EXPECT_EQ(received.get_future().get(), expected_body(size));
  EXPECT_GE(state->reads, 100) << "read in pieces of at most 1000 bytes";
}

// The first connection serves a GET, then closes on the PUT's headers: a failure on a reused
// connection after bytes were written, which Go retries only when the body can start again.
void serve_then_drop_the_put(Peer& peer, std::atomic<int>& connections) {
  if (++connections == 1) {
    peer.read_headers(Clock::now() + 2s);
    peer.write(ok_response("first"));
    peer.read_headers(Clock::now() + 2s);
    peer.close();
    return;
  }
  peer.read_headers(Clock::now() + 2s);
  peer.read_exactly(50'000, Clock::now() + 2s);
  peer.write(ok_response("stored"));
}

TEST(BodySource, AStartedBodyIsReplayedOnlyWithItsRewind) {
  for (const bool rewindable : {false, true}) {
    SCOPED_TRACE(rewindable ? "with rewind" : "without rewind");
    std::atomic<int> connections{0};
    ScriptedServer server([&](Peer& peer) { serve_then_drop_the_put(peer, connections); });
    ClientFixture fixture;
    ASSERT_FALSE(fixture.request(get(server.url())).error);
    auto state = std::make_shared<CountingSource>();
    state->size = 50'000;
    auto put = make_request(http::verb::put, server.url("/object"));
    put.set("Idempotency-Key", "k1");  // replayable as far as the method goes
    const auto sent = run_with_source(fixture, std::move(put), counting_source(state, rewindable));
    if (rewindable) {
      ASSERT_FALSE(sent.error) << sent.error.message();
      EXPECT_EQ(sent.status, 200u);
      EXPECT_EQ(fixture.client().pool_stats().retries, 1u);
    } else {
      EXPECT_TRUE(sent.error) << "a started body without rewind was sent twice";
      EXPECT_EQ(fixture.client().pool_stats().retries, 0u);
      EXPECT_EQ(state->rewinds, 0);
    }
  }
}

// ---- the body timers on a streamed body ---------------------------------------------------

struct TimedRead {
  boost::system::error_code error;
  std::string body;
  Clock::time_point started;   ///< when the read that ended it began
  Clock::time_point finished;  ///< when it ended
  bool done = false;
};

// Reads the first piece, pauses `pause` (the caller's own time), then reads to the end.
asio::awaitable<void> read_with_pause(Client& client, Request request,
                                      std::chrono::milliseconds pause, TimedRead& out) {
  auto [ec, response] =
      co_await client.async_request_stream(std::move(request), asio::as_tuple(asio::use_awaitable));
  out.error = ec;
  std::array<char, 64> piece{};
  for (int reads = 0; !ec; ++reads) {
    if (reads == 1) {
      asio::steady_timer wait(co_await asio::this_coro::executor, pause);
      co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    out.started = Clock::now();
    auto [read_error, n] = co_await response.body.async_read_some(
        asio::buffer(piece), asio::as_tuple(asio::use_awaitable));
    out.finished = Clock::now();
    if (read_error) {
      out.error = read_error == asio::error::eof ? boost::system::error_code{} : read_error;
      break;
    }
    out.body.append(piece.data(), n);
  }
  out.done = true;
}

TimedRead run_with_pause(ClientFixture& fixture, Request request, std::chrono::milliseconds pause) {
  TimedRead out;
  asio::co_spawn(fixture.context(),
                 read_with_pause(fixture.client(), std::move(request), pause, out), asio::detached);
  EXPECT_TRUE(fixture.run_until([&] { return out.done; }, 5000ms)) << "the stream hung";
  return out;
}

TEST(StreamingTimers, BodyReadIdleFiresOnAReadThatWaitsTooLong) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst");
    peer.wait_eof(Clock::now() + 3s);  // the rest never comes
  });
  Settings settings;
  settings.body_read_idle = 300ms;
  ClientFixture fixture(settings);
  const auto read = run_with_pause(fixture, get(server.url()), 0ms);
  EXPECT_EQ(read.body, "first");
  EXPECT_EQ(read.error, errc::body_read_idle_timeout) << read.error.message();
  expect_fired_on_time(read.started, read.finished, settings.body_read_idle);
  EXPECT_EQ(fixture.client().pool_stats().closes(CloseReason::error), 1u);
}

TEST(StreamingTimers, TheCallersOwnPausesDoNotCount) {
  // The second half is sent 100 ms after the first; the caller waits 400 ms before asking for
  // it, longer than body_read_idle (200 ms): the bytes are already there, no read waits.
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
    peer.wait_readable(Clock::now() + 100ms);
    peer.write("56789");
    peer.wait_eof(Clock::now() + 3s);
  });
  Settings settings;
  settings.body_read_idle = 200ms;
  ClientFixture fixture(settings);
  const auto read = run_with_pause(fixture, get(server.url()), 400ms);
  EXPECT_FALSE(read.error) << read.error.message();
  EXPECT_EQ(read.body, "0123456789");
}

// A deadline on a read with Asio's `||`: the read is cancelled (per-operation cancellation),
// the body closed early and its connection closed.
asio::awaitable<void> read_with_deadline(Client& client, Request request, TimedRead& out) {
  using namespace asio::experimental::awaitable_operators;
  auto [ec, response] =
      co_await client.async_request_stream(std::move(request), asio::as_tuple(asio::use_awaitable));
  out.error = ec;
  if (!ec) {
    std::array<char, 64> piece{};
    asio::steady_timer deadline(co_await asio::this_coro::executor, 200ms);
    out.started = Clock::now();
    auto first = co_await (
        response.body.async_read_some(asio::buffer(piece), asio::as_tuple(asio::use_awaitable)) ||
        deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    out.finished = Clock::now();
    if (first.index() == 0) out.body = "the read won";
    auto [later, n] = co_await response.body.async_read_some(asio::buffer(piece),
                                                             asio::as_tuple(asio::use_awaitable));
    (void)n;
    out.error = later;
  }
  out.done = true;
}

TEST(StreamingTimers, ACancelledReadClosesTheBody) {
  std::promise<bool> client_closed;
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    client_closed.set_value(peer.wait_eof(Clock::now() + 3s));
  });
  ClientFixture fixture;
  TimedRead out;
  asio::co_spawn(fixture.context(), read_with_deadline(fixture.client(), get(server.url()), out),
                 asio::detached);
  ASSERT_TRUE(fixture.run_until([&] { return out.done; }, 5000ms))
      << "the read ignored the deadline";
  EXPECT_EQ(out.body, "") << "nothing was sent, yet the read won";
  expect_fired_on_time(out.started, out.finished, 200ms);
  EXPECT_EQ(out.error, asio::error::operation_aborted) << out.error.message();
  EXPECT_TRUE(client_closed.get_future().get()) << "the cancelled body kept its connection open";
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);
}

}  // namespace
}  // namespace tunedhttp::testing
