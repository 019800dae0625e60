// The body's decisions without I/O: a streamed body taken in pieces (StreamingResponseReader),
// and the body timers (BodyPace: body_read_idle and curl's low_speed rule) fed made-up times.
#include <gtest/gtest.h>

#include <string>
#include <tunedhttp/error.hpp>

#include "body_pace.hpp"
#include "response_reader.hpp"

namespace tunedhttp::detail {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Feeds `input` in pieces of `size` bytes as reads would deliver them; returns the body taken
// piece by piece and the events seen after the headers.
struct Streamed {
  std::string body;
  std::size_t body_events = 0;
  std::size_t largest_piece = 0;
  bool complete = false;
};

Streamed stream(StreamingResponseReader& reader, const std::string& input, std::size_t size) {
  Streamed out;
  std::string buffered;
  std::string piece;
  std::size_t offset = 0;
  for (;;) {
    const auto step = reader.feed(boost::asio::buffer(buffered));
    buffered.erase(0, step.consumed);
    if (step.event == ResponseEvent::failed) {
      ADD_FAILURE() << "failed: " << step.error.message();
      return out;
    }
    if (step.event == ResponseEvent::body_data || step.event == ResponseEvent::complete) {
      reader.take_body(piece);
      out.body += piece;
      out.largest_piece = std::max(out.largest_piece, piece.size());
      if (step.event == ResponseEvent::body_data) ++out.body_events;
      if (step.event == ResponseEvent::complete) {
        out.complete = true;
        return out;
      }
      continue;
    }
    if (step.event != ResponseEvent::need_more) continue;  // the headers
    if (offset == input.size()) return out;
    buffered += input.substr(offset, size);
    offset = std::min(input.size(), offset + size);
  }
}

TEST(StreamingReader, TakesAContentLengthBodyInPiecesNeverWhole) {
  const std::string body(100'000, 'x');
  const std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + body;
  // A body limit far below the body: a streamed body is never held whole, so it does not apply.
  StreamingResponseReader reader(1024, 10, false);
  const auto got = stream(reader, input, 4096);
  EXPECT_TRUE(got.complete);
  EXPECT_EQ(got.body, body);
  EXPECT_LE(got.largest_piece, 4096u)
      << "got a piece of " << got.largest_piece << " bytes; want at most one read's worth";
  EXPECT_GE(got.body_events, 20u);
  EXPECT_TRUE(reader.keep_alive());
}

TEST(StreamingReader, ChunkedAndCloseDelimited) {
  StreamingResponseReader chunked(1024, 10, false);
  const auto got = stream(
      chunked,
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 1);
  EXPECT_TRUE(got.complete);
  EXPECT_EQ(got.body, "abcde");

  StreamingResponseReader until_eof(1024, 10, false);
  const auto partial = stream(until_eof, "HTTP/1.1 200 OK\r\n\r\nuntil eof", 3);
  EXPECT_FALSE(partial.complete);
  EXPECT_EQ(partial.body, "until eof");
  const auto end = until_eof.feed_eof();
  EXPECT_EQ(end.event, ResponseEvent::complete);
  EXPECT_FALSE(until_eof.keep_alive());
}

TEST(StreamingReader, HeadersFirstThenTheStatus) {
  StreamingResponseReader reader(1024, 10, true);
  const std::string input = "HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\nX-A: b\r\n\r\n";
  const auto step = reader.feed(boost::asio::buffer(input));
  ASSERT_EQ(step.event, ResponseEvent::final_headers);
  EXPECT_EQ(reader.header().result_int(), 404u);
  EXPECT_EQ(reader.header()["X-A"], "b");
  const auto rest = reader.feed(boost::asio::const_buffer{});
  EXPECT_EQ(rest.event, ResponseEvent::complete) << "HEAD: no body follows";
}

const Clock::time_point epoch{};  // time is data: every row counts from here

TEST(BodyPace, OffByDefault) {
  const BodyPace pace(Settings{}, epoch);
  EXPECT_FALSE(pace.enabled());
  EXPECT_FALSE(pace.read_deadline(epoch + 1s));
}

TEST(BodyPace, IdleRestartsWithEveryRead) {
  Settings settings;
  settings.body_read_idle = 500ms;
  BodyPace pace(settings, epoch);
  ASSERT_TRUE(pace.enabled());
  EXPECT_EQ(pace.read_deadline(epoch), epoch + 500ms);
  pace.on_bytes(epoch + 400ms, 10);
  EXPECT_EQ(pace.read_deadline(epoch + 400ms), epoch + 900ms);
  EXPECT_EQ(pace.expired(epoch + 400ms), errc::body_read_idle_timeout);
}

// Feeds `rate` bytes per `every` from epoch until `until`.
void feed_steadily(LowSpeedWatch& watch, std::uint64_t bytes, std::chrono::milliseconds every,
                   std::chrono::milliseconds until) {
  for (auto at = every; at <= until; at += every) watch.on_bytes(epoch + at, bytes);
}

TEST(LowSpeed, NothingAtAllFailsOnePeriodAfterTheHeaders) {
  const LowSpeedWatch watch(LowSpeed{1000, 2s}, epoch);
  EXPECT_EQ(watch.deadline(), epoch + 2s);
}

TEST(LowSpeed, FastEnoughNeverComesDue) {
  // 1000 B/s over 2 s needs 2000 bytes in any 2 s window; 100 bytes every 50 ms is 2000 B/s.
  LowSpeedWatch watch(LowSpeed{1000, 2s}, epoch);
  feed_steadily(watch, 100, 50ms, 10'000ms);
  EXPECT_GT(watch.deadline(), epoch + 10'000ms) << "a fast body would fail";
}

TEST(LowSpeed, ABodyThatStopsFailsWhenTheWindowFallsShort) {
  // 2000 B/s for 5 s, then nothing: the window (t - 2 s, t] holds fewer than 2000 bytes once
  // the bytes of (3 s, 4 s] are older than the period: at 6 s at the earliest (never before),
  // at most 1/32 of the period late (the samples' resolution).
  LowSpeedWatch watch(LowSpeed{1000, 2s}, epoch);
  feed_steadily(watch, 100, 50ms, 5000ms);
  const auto due = watch.deadline();
  EXPECT_GE(due, epoch + 6000ms);
  EXPECT_LE(due, epoch + 6000ms + 2000ms / 32 + 50ms);
}

TEST(LowSpeed, SlowFromTheStartFailsAtOnePeriod) {
  // 500 B/s against a 1000 B/s rule: due one period after the headers, not later.
  LowSpeedWatch watch(LowSpeed{1000, 2s}, epoch);
  feed_steadily(watch, 50, 100ms, 1900ms);
  EXPECT_EQ(watch.deadline(), epoch + 2s);
}

TEST(LowSpeed, NeverEarlyWhateverTheArrivals) {
  // Irregular arrivals: at every point the deadline leaves a window that, measured exactly,
  // holds fewer than the required bytes, and no earlier full window does.
  LowSpeedWatch watch(LowSpeed{1000, 1s}, epoch);
  std::vector<std::pair<std::chrono::milliseconds, std::uint64_t>> arrivals;
  std::uint64_t seed = 7;
  std::chrono::milliseconds at{0};
  for (int i = 0; i < 200; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    at += std::chrono::milliseconds(1 + (seed >> 33) % 40);
    const std::uint64_t bytes = (seed >> 20) % 60;
    arrivals.emplace_back(at, bytes);
    watch.on_bytes(epoch + at, bytes);
    const auto due = watch.deadline();
    // Exact count of a window (from - 1 s, from].
    auto window = [&](Clock::time_point end) {
      std::uint64_t sum = 0;
      for (const auto& [when, n] : arrivals) {
        if (epoch + when > end - 1s && epoch + when <= end) sum += n;
      }
      return sum;
    };
    if (due <= epoch + at) continue;  // already due: the reader would have failed by now
    ASSERT_LT(window(due), 1000u) << "due at a window that is fast enough (arrival " << i << ")";
  }
}

TEST(BodyPace, TheEarlierOfTheTwoDecidesTheError) {
  Settings settings;
  settings.body_read_idle = 5s;
  settings.low_speed = LowSpeed{1000, 1s};
  BodyPace pace(settings, epoch);
  EXPECT_EQ(pace.read_deadline(epoch), epoch + 1s);
  EXPECT_EQ(pace.expired(epoch), errc::low_speed_timeout);
  settings.body_read_idle = 500ms;
  BodyPace idle_first(settings, epoch);
  EXPECT_EQ(idle_first.read_deadline(epoch), epoch + 500ms);
  EXPECT_EQ(idle_first.expired(epoch), errc::body_read_idle_timeout);
}

}  // namespace
}  // namespace tunedhttp::detail
