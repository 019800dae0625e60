// The expectation checks, without sockets: "got X; want Y", never early, at most tolerance late.
#include "expectations.hpp"

#include <gtest/gtest.h>

#include <tunedhttp/error.hpp>
#include <tunedhttp/harness/report.hpp>

namespace tunedhttp::harness::detail {
namespace {

using std::chrono::milliseconds;

TEST(Timing, NeverEarlyAndAtMostToleranceLate) {
  EXPECT_TRUE(
      judge_timing(SettingId::connect, milliseconds{200}, milliseconds{200}, milliseconds{100})
          .passed);
  EXPECT_TRUE(
      judge_timing(SettingId::connect, milliseconds{200}, milliseconds{300}, milliseconds{100})
          .passed);
  const auto early =
      judge_timing(SettingId::connect, milliseconds{200}, milliseconds{199}, milliseconds{100});
  EXPECT_FALSE(early.passed);
  EXPECT_NE(describe_timing_failure(early).find("early by"), std::string::npos);
  const auto late =
      judge_timing(SettingId::connect, milliseconds{200}, milliseconds{301}, milliseconds{100});
  EXPECT_FALSE(late.passed);
  EXPECT_EQ(late.lateness(), milliseconds{101});
  EXPECT_NE(describe_timing_failure(late).find("late by"), std::string::npos);
}

TEST(Outcome, StatusAndErrorSayGotAndWant) {
  RequestExpectation want_error;
  want_error.error = "response_header_timeout";
  RequestOutcome ok;
  ok.completed = true;
  ok.status = 200;
  auto failures = check_outcome(want_error, ok);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], "got status 200; want error response_header_timeout");

  RequestExpectation want_status;
  want_status.status = 200;
  RequestOutcome failed;
  failed.error = tunedhttp::make_error_code(tunedhttp::errc::connect_timeout);
  failed.error_name = "connect_timeout";
  failures = check_outcome(want_status, failed);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], "got error connect_timeout; want status 200");
  EXPECT_TRUE(check_outcome(want_status, ok).empty());
}

TEST(Outcome, ReusedAndTracePoints) {
  RequestExpectation expect;
  expect.status = 200;
  expect.reused = true;
  expect.trace = {"got_100_continue"};
  expect.no_trace = {"wait_100_continue"};
  RequestOutcome outcome;
  outcome.status = 200;
  TraceEvent got_conn;
  got_conn.point = TracePoint::got_conn;
  got_conn.reused = false;
  TraceEvent waiting;
  waiting.point = TracePoint::wait_100_continue;
  outcome.trace = {got_conn, waiting};
  const auto failures = check_outcome(expect, outcome);
  ASSERT_EQ(failures.size(), 3u);
  EXPECT_EQ(failures[0], "got a new connection; want a reused one");
  EXPECT_EQ(failures[1], "got no trace point got_100_continue; want it");
  EXPECT_EQ(failures[2], "got trace point wait_100_continue; want none");
}

TEST(Pool, CountersAndCloseReasons) {
  PoolExpectation expect;
  expect.dials = 1;
  expect.idle = 0;
  expect.closes = {{"host_cap", 1}, {"global_cap", 0}};
  PoolStats stats;
  stats.dials = 2;
  stats.idle = 0;
  stats.closes_by_reason = {{"host_cap", 1}};
  const auto failures = check_pool(expect, stats);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], "pool dials: got 2; want 1");
}

TEST(ServerEvents, CountsAndPresence) {
  ServerEventsStep expect;
  expect.events.push_back({"closed_by_peer", 1, std::nullopt, std::nullopt});
  expect.events.push_back({"continue_sent", std::nullopt, 0, std::nullopt});
  std::vector<mockserver::Event> events;
  EXPECT_FALSE(server_events_present(expect, events));
  events.push_back({mockserver::EventKind::closed_by_peer, {}, 1, 0, ""});
  EXPECT_TRUE(server_events_present(expect, events));
  EXPECT_TRUE(check_server_events(expect, events).empty());
  events.push_back({mockserver::EventKind::continue_sent, {}, 1, 1, ""});
  const auto failures = check_server_events(expect, events);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], "server events continue_sent: got 1; want 0");
}

}  // namespace
}  // namespace tunedhttp::harness::detail

namespace tunedhttp::harness {
namespace {

using std::chrono::milliseconds;

// The table's timing columns show a failing measurement first, else the latest one.
TEST(ReportTable, ShowsTheLatestMeasurementWhenAllPassed) {
  ScenarioResult result;
  result.name = "idle_conn/two_timings";
  result.passed = true;
  result.timings.push_back(
      {SettingId::idle_conn, milliseconds{100}, milliseconds{110}, milliseconds{100}, true});
  result.timings.push_back(
      {SettingId::idle_conn, milliseconds{300}, milliseconds{320}, milliseconds{100}, true});
  const std::string table = format_table({result});
  EXPECT_NE(table.find("idle_conn 300ms (2 timings)"), std::string::npos)
      << "got:\n"
      << table << "want the latest measurement (300ms) shown";
  EXPECT_NE(table.find("320ms"), std::string::npos) << table;
}

TEST(ReportTable, ShowsAFailingMeasurementBeforeTheLatest) {
  ScenarioResult result;
  result.name = "idle_conn/one_failed";
  result.timings.push_back(
      {SettingId::idle_conn, milliseconds{100}, milliseconds{90}, milliseconds{100}, false});
  result.timings.push_back(
      {SettingId::idle_conn, milliseconds{300}, milliseconds{320}, milliseconds{100}, true});
  const std::string table = format_table({result});
  EXPECT_NE(table.find("idle_conn 100ms (2 timings)"), std::string::npos) << table;
}

}  // namespace
}  // namespace tunedhttp::harness
