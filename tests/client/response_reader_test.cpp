// The response side of an exchange, fed bytes directly: one row per rule, each fed whole and
// then one byte at a time (the reader must not care how the bytes arrive). No sockets.
#include "response_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tunedhttp/error.hpp>
#include <vector>

namespace tunedhttp::detail {
namespace {

using Event = ResponseReader::Event;

struct ReaderRow {
  const char* name;
  const char* rule;  ///< what the row shows, with Go's wording where Go has one
  std::string input;
  bool head;
  bool eof_after;             ///< the peer closes after the input
  std::vector<Event> events;  ///< every event, in order, need_more left out
  std::string body;           ///< the final body, when complete
  bool keep_alive;
};

const ReaderRow rows[] = {
    {"content_length",
     "a body of Content-Length bytes",
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
     false,
     false,
     {Event::final_headers, Event::complete},
     "hello",
     true},
    {"empty_body",
     "Content-Length: 0 is complete with its headers",
     "HTTP/1.1 204 No Content\r\n\r\n",
     false,
     false,
     {Event::final_headers, Event::complete},
     "",
     true},
    {"chunked",
     "a chunked body ends at its last chunk",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
     false,
     false,
     {Event::final_headers, Event::complete},
     "abcde",
     true},
    {"close_delimited",
     "no length: the body ends when the server closes",
     "HTTP/1.1 200 OK\r\n\r\nuntil eof",
     false,
     true,
     {Event::final_headers, Event::complete},
     "until eof",
     false},
    {"head",
     "HEAD: no body follows, whatever Content-Length says",
     "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
     true,
     false,
     {Event::final_headers, Event::complete},
     "",
     true},
    {"continue_then_final",
     "100 Continue, then the final response",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
     false,
     false,
     {Event::continue_100, Event::final_headers, Event::complete},
     "ok",
     true},
    {"informational_skipped",
     "103 Early Hints is skipped",
     "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
     false,
     false,
     {Event::informational, Event::final_headers, Event::complete},
     "",
     true},
    {"connection_close",
     "Connection: close: complete, not reusable",
     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
     false,
     false,
     {Event::final_headers, Event::complete},
     "x",
     false},
    {"cut_short",
     "EOF inside the body: the server closed the connection",
     "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
     false,
     true,
     {Event::final_headers, Event::failed},
     "",
     false},
    {"garbage",
     "not HTTP: malformed",
     "SSH-2.0-OpenSSH_9.2\r\n\r\n",
     false,
     false,
     {Event::failed},
     "",
     false},
};

// Feeds `input` in pieces of `piece` bytes (0: whole), as the exchange does: the unconsumed
// rest stays buffered and is fed again with the next piece.
std::vector<Event> run(const ReaderRow& row, std::size_t piece, ResponseReader& reader) {
  std::vector<Event> events;
  std::string buffered;
  std::size_t next = 0;
  for (;;) {
    const auto step = reader.feed(boost::asio::buffer(buffered));
    buffered.erase(0, step.consumed);
    if (step.event != Event::need_more) {
      events.push_back(step.event);
      if (step.event == Event::complete || step.event == Event::failed) return events;
      continue;
    }
    if (next == row.input.size()) {
      if (!row.eof_after) return events;  // waits for more: the row's events are all there
      events.push_back(reader.feed_eof().event);
      return events;
    }
    const std::size_t take = piece == 0 ? row.input.size() - next : piece;
    buffered += row.input.substr(next, take);
    next += std::min(take, row.input.size() - next);
  }
}

class Reader : public ::testing::TestWithParam<ReaderRow> {};

TEST_P(Reader, WholeAndByteByByte) {
  const auto& row = GetParam();
  SCOPED_TRACE(row.rule);
  for (const std::size_t piece : {std::size_t{0}, std::size_t{1}}) {
    SCOPED_TRACE(piece == 0 ? "fed whole" : "fed byte by byte");
    ResponseReader reader(1024 * 1024, 1024 * 1024, row.head);
    EXPECT_EQ(run(row, piece, reader), row.events);
    if (row.events.back() == Event::complete) {
      EXPECT_EQ(reader.keep_alive(), row.keep_alive);
      EXPECT_EQ(reader.release().body(), row.body);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, Reader, ::testing::ValuesIn(rows),
                         [](const ::testing::TestParamInfo<ReaderRow>& test_info) {
                           return std::string(test_info.param.name);
                         });

TEST(Reader, SixthInformationalResponseFails) {
  // Go: "net/http: too many 1xx informational responses" after 5.
  std::string input;
  for (int i = 0; i < 6; ++i) input += "HTTP/1.1 102 Processing\r\n\r\n";
  ResponseReader reader(1024, 1024, false);
  int informational = 0;
  for (;;) {
    const auto step = reader.feed(boost::asio::buffer(input));
    input.erase(0, step.consumed);
    if (step.event == Event::informational) {
      ++informational;
      continue;
    }
    ASSERT_EQ(step.event, Event::failed);
    EXPECT_EQ(step.error, make_error_code(errc::too_many_informational));
    break;
  }
  EXPECT_EQ(informational, 5);
}

TEST(Reader, HeaderAndBodyLimits) {
  ResponseReader small_headers(32, 1024, false);
  const auto headers = small_headers.feed(
      boost::asio::buffer(std::string("HTTP/1.1 200 OK\r\nX-Long: ") + std::string(64, 'a')));
  EXPECT_EQ(headers.event, Event::failed);
  EXPECT_EQ(headers.error, make_error_code(errc::response_too_large));

  // A Content-Length past the limit fails with the headers; a chunked body when it gets there.
  ResponseReader declared(1024, 4, false);
  const auto too_long = declared.feed(
      boost::asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")));
  EXPECT_EQ(too_long.event, Event::failed);
  EXPECT_EQ(too_long.error, make_error_code(errc::response_too_large));
  ResponseReader chunked(1024, 4, false);
  std::string input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n";
  auto step = chunked.feed(boost::asio::buffer(input));
  ASSERT_EQ(step.event, Event::final_headers);
  input.erase(0, step.consumed);
  step = chunked.feed(boost::asio::buffer(input));
  EXPECT_EQ(step.event, Event::failed);
  EXPECT_EQ(step.error, make_error_code(errc::response_too_large));
}

TEST(Reader, EofBeforeAnyByteIsServerClosed) {
  ResponseReader reader(1024, 1024, false);
  const auto step = reader.feed_eof();
  EXPECT_EQ(step.event, Event::failed);
  EXPECT_EQ(step.error, make_error_code(errc::server_closed_connection));
}

}  // namespace
}  // namespace tunedhttp::detail
