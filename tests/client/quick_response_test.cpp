// The response reader's quick path (client/src/quick_response.hpp) against Beast's parser: for
// every input, a reader that may take the quick path and one that may not must report the same
// steps and build the same message. One row per shape the quick path takes or declines, then
// mutations of those rows. No sockets.
#include "quick_response.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "response_reader.hpp"

namespace tunedhttp::detail {
namespace {

constexpr std::uint32_t header_limit = 8192;
constexpr std::uint64_t body_limit = 1 << 20;

// Everything a reader reports for one input, fed whole (then EOF if it still needs more).
struct Outcome {
  std::vector<std::pair<ResponseEvent, std::size_t>> steps;  ///< event, bytes consumed
  std::string error;
  // The message, when complete.
  unsigned version = 0;
  unsigned status = 0;
  std::string reason;
  /// Beast's enum for each name, the name as sent, the value.
  std::vector<std::tuple<int, std::string, std::string>> fields;
  std::string body;
  bool keep_alive = false;

  bool operator==(const Outcome&) const = default;
};

std::string describe(const Outcome& outcome) {
  std::string text = "steps:";
  for (const auto& [event, consumed] : outcome.steps) {
    text += " " + std::to_string(static_cast<int>(event)) + "/" + std::to_string(consumed);
  }
  text += " error:" + outcome.error + " status:" + std::to_string(outcome.status) +
          " version:" + std::to_string(outcome.version) + " reason:[" + outcome.reason + "]";
  for (const auto& [known, name, value] : outcome.fields) {
    text += " [" + std::to_string(known) + " " + name + ": " + value + "]";
  }
  return text + " body:[" + outcome.body + "] keep_alive:" + (outcome.keep_alive ? "1" : "0");
}

Outcome read_whole(const std::string& input, bool quick, std::uint32_t head_limit = header_limit,
                   std::uint64_t max_body = body_limit) {
  ResponseReader reader(head_limit, max_body, /*head=*/false, quick);
  Outcome outcome;
  boost::asio::const_buffer rest(input.data(), input.size());
  ResponseStep step;
  for (int guard = 0; guard < 64; ++guard) {
    step = reader.feed(rest);
    rest += step.consumed;
    if (step.event == ResponseEvent::need_more) {
      step = reader.feed_eof();
      outcome.steps.emplace_back(step.event, step.consumed);
      break;
    }
    outcome.steps.emplace_back(step.event, step.consumed);
    if (step.event == ResponseEvent::complete || step.event == ResponseEvent::failed) break;
  }
  if (step.event == ResponseEvent::failed) outcome.error = step.error.message();
  if (step.event != ResponseEvent::complete) return outcome;
  outcome.keep_alive = reader.keep_alive();
  auto message = reader.release();
  outcome.version = message.version();
  outcome.status = message.result_int();
  outcome.reason = std::string(message.reason());
  for (const auto& field : message) {
    outcome.fields.emplace_back(static_cast<int>(field.name()), std::string(field.name_string()),
                                std::string(field.value()));
  }
  outcome.body = message.body();
  return outcome;
}

bool taken_quickly(const std::string& input, std::uint32_t head_limit = header_limit,
                   std::uint64_t max_body = body_limit) {
  QuickHead head;
  return scan_quick_response(input, head_limit, max_body, head);
}

struct QuickRow {
  const char* name;
  std::string input;
  bool quick;  ///< the quick path takes it (else Beast's parser decides)
  std::uint32_t head_limit = header_limit;
  std::uint64_t max_body = body_limit;
};

std::string many_fields(int count) {
  std::string text = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < count; ++i)
    text += "X-Field-" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
  return text + "Content-Length: 2\r\n\r\nok";
}

const QuickRow quick_rows[] = {
    {"the_bench_response",
     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n",
     true},
    {"http10_closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true},
    {"http10_keep_alive",
     "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", true},
    {"connection_close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
     true},
    {"connection_close_any_case",
     "HTTP/1.1 200 OK\r\nconnection: CLOSE\r\ncontent-length: 2\r\n\r\nok", true},
    {"empty_body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
    {"empty_reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", true},
    {"reason_with_blanks", "HTTP/1.1 404 Not \tFound \r\nContent-Length: 1\r\n\r\nx", true},
    {"value_blanks_trimmed", "HTTP/1.1 200 OK\r\nX-A:  \t a  b \t \r\nContent-Length: 1\r\n\r\nx",
     true},
    {"leading_zeros", "HTTP/1.1 200 OK\r\nContent-Length: 002\r\n\r\nok", true},
    {"bytes_after_the_body", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n",
     true},
    {"unknown_status", "HTTP/1.1 299 Whatever\r\nContent-Length: 2\r\n\r\nok", true},
    {"server_error", "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\nno", true},
    {"common_fields_any_case",
     "HTTP/1.1 200 OK\r\ndate: x\r\nSERVER: y\r\nETag: \"1\"\r\nVary: *\r\nSet-Cookie: "
     "a=b\r\nx-amz-request-id: 1\r\nContent-Length: 2\r\n\r\nok",
     true},
    {"keep_alive_field", "HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok",
     true},
    {"twenty_four_fields", many_fields(23), true},
    // Declined: Beast's parser decides, and the reader's outcome must still match.
    {"twenty_five_fields", many_fields(24), false},
    {"empty_value", "HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 2\r\n\r\nok", false},
    {"obs_fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok", false},
    {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false},
    {"chunked_and_length",
     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: "
     "chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
     false},
    {"close_delimited", "HTTP/1.1 200 OK\r\n\r\nuntil eof", false},
    {"no_content", "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n", false},
    {"not_modified", "HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n", false},
    {"switching", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", false},
    {"continue_first",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
    {"two_equal_lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
     false},
    {"two_lengths_differ", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
     false},
    {"length_list", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", false},
    {"length_sign", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", false},
    {"length_too_long", "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\nok", false},
    {"connection_list",
     "HTTP/1.1 200 OK\r\nConnection: close, upgrade\r\nContent-Length: 2\r\n\r\nok", false},
    {"two_connections",
     "HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
     false},
    {"proxy_connection",
     "HTTP/1.1 200 OK\r\nProxy-Connection: close\r\nContent-Length: 2\r\n\r\nok", false},
    {"upgrade", "HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nok", false},
    {"non_ascii_value", "HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nContent-Length: 2\r\n\r\nok",
     false},
    {"control_in_value", "HTTP/1.1 200 OK\r\nX-A: a\x01z\r\nContent-Length: 2\r\n\r\nok", false},
    {"space_before_colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", false},
    {"bare_lf", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false},
    {"version_1_2", "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
    {"body_not_all_here", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false},
    {"head_not_all_here", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", false},
    {"over_header_limit", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, 30},
    {"over_body_limit", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, header_limit, 1},
};

void PrintTo(const QuickRow& row, std::ostream* out) { *out << row.name; }

class QuickResponse : public testing::TestWithParam<QuickRow> {};

TEST_P(QuickResponse, TakesWhatItShouldAndMatchesBeastsParser) {
  const auto& row = GetParam();
  EXPECT_EQ(taken_quickly(row.input, row.head_limit, row.max_body), row.quick);
  const Outcome quick = read_whole(row.input, true, row.head_limit, row.max_body);
  const Outcome beast = read_whole(row.input, false, row.head_limit, row.max_body);
  EXPECT_EQ(quick, beast) << "quick: " << describe(quick) << "\nbeast: " << describe(beast);
}

INSTANTIATE_TEST_SUITE_P(Rows, QuickResponse, testing::ValuesIn(quick_rows),
                         [](const testing::TestParamInfo<QuickRow>& param) {
                           return std::string(param.param.name);
                         });

// Every row, mutated many times over (a byte replaced by one that matters to the grammar, a byte
// removed, a stretch doubled): wherever the quick path takes a mutant, Beast's parser must read
// it the same way. A fixed seed, so a failure is reproducible.
TEST(QuickResponseMutations, EveryMutantReadsAsBeastsParserReadsIt) {
  static constexpr char interesting[] = {' ', '\t',   '\r',   '\n', ':', ',', '0', '9', 'a', 'Z',
                                         '-', '\x7f', '\x80', '\0', '"', '1', 'H', '/', '.'};
  std::mt19937 random(20261207);
  int taken = 0;
  int mutants = 0;
  for (const auto& row : quick_rows) {
    for (int round = 0; round < 2000; ++round) {
      std::string input = row.input;
      const int edits = 1 + static_cast<int>(random() % 3);
      for (int edit = 0; edit < edits && !input.empty(); ++edit) {
        const std::size_t at = random() % input.size();
        switch (random() % 3) {
          case 0:
            input[at] = interesting[random() % sizeof(interesting)];
            break;
          case 1:
            input.erase(at, 1);
            break;
          default:
            input.insert(at, input.substr(at, 1 + random() % 8));
            break;
        }
      }
      ++mutants;
      if (taken_quickly(input, row.head_limit, row.max_body)) ++taken;
      const Outcome quick = read_whole(input, true, row.head_limit, row.max_body);
      const Outcome beast = read_whole(input, false, row.head_limit, row.max_body);
      ASSERT_EQ(quick, beast) << "input: " << testing::PrintToString(input)
                              << "\nquick: " << describe(quick) << "\nbeast: " << describe(beast);
    }
  }
  // The mutants must exercise the quick path, not only its refusals (about one in fifteen is
  // taken with this seed).
  EXPECT_GT(taken, mutants / 20);
}

// The quick path's own answer for the names it knows must be string_to_field's, in any case: for
// every name in Beast's table (lowercase, uppercase, as Beast spells it) and for near misses.
TEST(QuickFieldOf, AgreesWithStringToFieldForEveryName) {
  namespace http = boost::beast::http;
  // xref is the table's last name (Beast 1.81).
  for (int value = 1; value <= static_cast<int>(http::field::xref); ++value) {
    const std::string spelled(http::to_string(static_cast<http::field>(value)));
    std::string lower = spelled;
    std::string upper = spelled;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const auto& name : {spelled, lower, upper}) {
      EXPECT_EQ(quick_field_of(name), http::string_to_field(name)) << name;
    }
  }
  // Names Beast lacks, lengths one off, and bytes a case-folding compare could take for '-' or a
  // letter: '_' and '^' (0x20 apart from DEL and '~'), CR, '@' and '[' (beside the letters).
  for (const char* name : {"x-amz-request-id", "content-lengthx", "date ", "", "servers", "etag2",
                           "content_length", "content^length", "content~length", "content\rlength",
                           "@ate", "[ate", "dat\x05", "DATE\x7f"}) {
    EXPECT_EQ(quick_field_of(name), http::string_to_field(name)) << name;
  }
}

}  // namespace
}  // namespace tunedhttp::detail
