// Go's per-exchange rules as tables of plain facts: retry, reuse, status lines, 100-continue.
// No sockets (the binary runs under no_sockets.cpp's filter).
#include "exchange_rules.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tunedhttp::detail {
namespace {

namespace http = boost::beast::http;

struct RetryRow {
  const char* name;
  const char* go;  ///< the line of transport.go the row encodes
  AttemptFacts facts;
  bool retried;
};

// AttemptFacts fields in order: reused, got_response_bytes, timed_out, wrote_anything,
// replayable.
const RetryRow retry_rows[] = {
    {"fresh_connection_never",
     "if !pc.isReused() { return false }",
     {false, false, false, false, true},
     false},
    {"reused_nothing_written",
     "nothingWrittenError: return true (body rewindable)",
     {true, false, false, false, false},
     true},
    {"reused_written_replayable",
     "transportReadFromServerError / errServerClosedIdle",
     {true, false, false, true, true},
     true},
    {"reused_written_not_replayable",
     "if !req.isReplayable() { return false }",
     {true, false, false, true, false},
     false},
    {"response_bytes_arrived",
     "a response began: the server saw the request",
     {true, true, false, true, true},
     false},
    {"timed_out", "a setting fired: never retried", {true, false, true, false, true}, false},
};

class Retry : public ::testing::TestWithParam<RetryRow> {};

TEST_P(Retry, FollowsGo) {
  SCOPED_TRACE(GetParam().go);
  EXPECT_EQ(should_retry(GetParam().facts), GetParam().retried);
}

INSTANTIATE_TEST_SUITE_P(Go, Retry, ::testing::ValuesIn(retry_rows),
                         [](const ::testing::TestParamInfo<RetryRow>& test_info) {
                           return std::string(test_info.param.name);
                         });

TEST(Replayable, MethodsAndIdempotencyKeys) {
  for (auto method : {http::verb::get, http::verb::head, http::verb::options, http::verb::trace}) {
    EXPECT_TRUE(is_replayable(method, false)) << http::to_string(method);
  }
  for (auto method : {http::verb::post, http::verb::put, http::verb::patch, http::verb::delete_}) {
    EXPECT_FALSE(is_replayable(method, false)) << http::to_string(method);
    EXPECT_TRUE(is_replayable(method, true)) << http::to_string(method) << " with a key";
  }
}

struct ReuseRow {
  const char* name;
  ReuseFacts facts;
  bool reusable;
};

// ReuseFacts fields in order: response_keep_alive, request_keep_alive, body_skipped,
// answered_early, bytes_left_over, status.
const ReuseRow reuse_rows[] = {
    {"clean_exchange", {true, true, false, false, false, 200}, true},
    {"server_said_close", {false, true, false, false, false, 200}, false},
    {"request_said_close", {true, false, false, false, false, 200}, false},
    {"final_status_before_100_continue", {true, true, true, false, false, 417}, false},
    {"early_answer_while_writing_body", {true, true, false, true, false, 413}, false},
    {"bytes_past_the_response", {true, true, false, false, true, 200}, false},
    {"switching_protocols", {true, true, false, false, false, 101}, false},
    {"error_status_still_reusable", {true, true, false, false, false, 500}, true},
};

class Reuse : public ::testing::TestWithParam<ReuseRow> {};

TEST_P(Reuse, FollowsGo) { EXPECT_EQ(is_reusable(GetParam().facts), GetParam().reusable); }

INSTANTIATE_TEST_SUITE_P(Go, Reuse, ::testing::ValuesIn(reuse_rows),
                         [](const ::testing::TestParamInfo<ReuseRow>& test_info) {
                           return std::string(test_info.param.name);
                         });

TEST(StatusLine, InformationalFinalAndSwitching) {
  EXPECT_EQ(classify_status(100), StatusKind::continue_100);
  EXPECT_EQ(classify_status(102), StatusKind::informational);
  EXPECT_EQ(classify_status(103), StatusKind::informational);
  EXPECT_EQ(classify_status(199), StatusKind::informational);
  EXPECT_EQ(classify_status(101), StatusKind::final);  // the end of HTTP/1.1 here
  EXPECT_EQ(classify_status(200), StatusKind::final);
  EXPECT_EQ(classify_status(417), StatusKind::final);
  EXPECT_EQ(max_informational_responses, 5);  // Go's limit, "too many 1xx"
}

TEST(ExpectContinue, OnlyWithBodyHeaderAndSetting) {
  EXPECT_TRUE(waits_for_continue(true, "100-continue", true));
  EXPECT_TRUE(waits_for_continue(true, "100-Continue", true));    // case-insensitive, as Go
  EXPECT_FALSE(waits_for_continue(false, "100-continue", true));  // no body: nothing to hold
  EXPECT_FALSE(waits_for_continue(true, "100-continue", false));  // expect_continue 0: at once
  EXPECT_FALSE(waits_for_continue(true, "", true));
}

}  // namespace
}  // namespace tunedhttp::detail
