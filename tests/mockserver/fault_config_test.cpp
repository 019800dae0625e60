// Fault configs and SPECs: names, parameters, targets, and their error messages; the event log.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <tunedhttp/mockserver/event_log.hpp>
#include <tunedhttp/mockserver/fault_config.hpp>

namespace tunedhttp::mockserver {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(FaultConfig, KnowsEveryRequiredFault) {
  const auto names = fault_names();
  for (const char* name : {"stall_accept", "delay_tls_handshake", "withhold_continue",
                           "hold_headers", "close_after_requests", "drip_body", "idle_close"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

TEST(FaultConfig, AcceptsValidConfigs) {
  EXPECT_EQ(validate({"hold_headers", {{"for", "2s"}, {"after_status_line", "true"}}, {}}), "");
  EXPECT_EQ(validate({"hold_headers", {}, {}}), "");
  EXPECT_EQ(validate({"stall_accept", {{"for", "1.5s"}}, {}}), "");
  EXPECT_EQ(validate({"withhold_continue", {{"reply", "417"}}, {}}), "");
  EXPECT_EQ(validate({"delay_tls_handshake", {{"after_client_hello", "false"}}, {}}), "");
  EXPECT_EQ(validate({"drip_body", {{"chunk", "1KiB"}, {"every", "100ms"}}, {}}), "");
  EXPECT_EQ(validate({"close_after_requests", {{"count", "1"}}, {{2}, {}, {}, {}}}), "");
  EXPECT_EQ(validate({"hold_headers", {}, {{}, {3}, {"/slow"}, {}}}), "");
}

TEST(FaultConfig, RejectsWithAMessageNamingFaultAndParameter) {
  EXPECT_EQ(validate({"hold_headers", {{"fro", "2s"}}, {}}),
            "hold_headers: unknown parameter 'fro' (expected: for, after_status_line)");
  EXPECT_EQ(validate({"hold_headers", {{"for", "2"}}, {}}),
            "hold_headers: parameter 'for' is '2', expected a duration such as 250ms or 2s");
  EXPECT_EQ(validate({"hold_headers", {{"after_status_line", "yes"}}, {}}),
            "hold_headers: parameter 'after_status_line' is 'yes', expected true or false");
  EXPECT_EQ(
      validate({"stall_accept", {{"for", "-1s"}}, {}}).rfind("stall_accept: parameter 'for'", 0),
      0u);
  EXPECT_EQ(validate({"withhold_continue", {{"reply", "4170"}}, {}})
                .rfind("withhold_continue: parameter 'reply'", 0),
            0u);
  EXPECT_EQ(validate({"withhold_continue", {{"reply", "100"}}, {}}),
            "withhold_continue: parameter 'reply' must be a final status (200 to 599)");
  EXPECT_EQ(
      validate({"close_after_requests", {{"count", "0"}}, {}}),
      "close_after_requests: parameter 'count' is '0', expected a whole number of at least 1");
  EXPECT_EQ(validate({"close_after_requests", {}, {}}),
            "close_after_requests: missing parameter 'count'");
  EXPECT_EQ(
      validate({"hold_header", {}, {}}).rfind("unknown fault 'hold_header' (expected one of: ", 0),
      0u);
  EXPECT_NE(validate({"stall_accept", {}, {{}, {}, {"/x"}, {}}}).find("not a path"),
            std::string::npos);
  EXPECT_NE(validate({"hold_headers", {}, {{0}, {}, {}, {}}}).find("numbered from 1"),
            std::string::npos);
}

TEST(FaultSpec, ParsesTheDesignSpecs) {
  auto spec = parse_fault_spec("stall-accept");
  EXPECT_EQ(spec.name, "stall_accept");
  EXPECT_TRUE(spec.parameters.empty());
  EXPECT_EQ(parse_fault_spec("stall-accept=2s").parameters.at("for"), "2s");
  EXPECT_EQ(parse_fault_spec("delay-tls-handshake=2s").parameters.at("for"), "2s");
  EXPECT_TRUE(parse_fault_spec("withhold-continue").parameters.empty());
  EXPECT_EQ(parse_fault_spec("withhold-continue=500ms").parameters.at("for"), "500ms");
  EXPECT_EQ(parse_fault_spec("withhold-continue=reply:417").parameters.at("reply"), "417");
  EXPECT_EQ(parse_fault_spec("hold-headers=5s").parameters.at("for"), "5s");
  EXPECT_EQ(parse_fault_spec("hold-headers").name, "hold_headers");
  EXPECT_EQ(parse_fault_spec("close-after-requests=1").parameters.at("count"), "1");
  auto drip = parse_fault_spec("drip-body=1KiB/100ms");
  EXPECT_EQ(drip.parameters.at("chunk"), "1KiB");
  EXPECT_EQ(drip.parameters.at("every"), "100ms");
  auto targeted =
      parse_fault_spec("hold-headers=5s,after_status_line:true,path:/slow,connection:2");
  EXPECT_EQ(targeted.parameters.at("after_status_line"), "true");
  EXPECT_EQ(targeted.target.path, "/slow");
  EXPECT_EQ(targeted.target.connection, 2u);
  EXPECT_EQ(parse_fault_spec("delay-tls-handshake=1s,after_client_hello:true")
                .parameters.at("after_client_hello"),
            "true");
}

TEST(FaultSpec, ParsesBlackholesAndListenerTargets) {
  auto dark = parse_fault_spec("blackhole");
  EXPECT_EQ(dark.name, "blackhole");
  EXPECT_TRUE(dark.parameters.empty());
  EXPECT_EQ(parse_fault_spec("blackhole=after-headers").parameters.at("after_headers"), "true");
  EXPECT_EQ(parse_fault_spec("blackhole=idle:2s").parameters.at("idle"), "2s");
  EXPECT_EQ(parse_fault_spec("stall-accept=listener:[::1]").target.listener, "::1");
  EXPECT_EQ(parse_fault_spec("blackhole=listener:127.0.0.1").target.listener, "127.0.0.1");
  for (const char* bad : {"blackhole=after-headers,idle:1s", "blackhole=idle:soon",
                          "stall-accept=listener:localhost", "blackhole=request:1"}) {
    EXPECT_THROW(parse_fault_spec(bad), std::invalid_argument) << bad;
  }
}

TEST(FaultSpec, BadSpecsThrowNamingTheSpec) {
  for (const char* bad :
       {"hold-headers=5x", "stall-accept=", "nope", "withhold-continue=reply:abc",
        "close-after-requests", "drip-body=1KiB", "hold-headers=fro:2s", "hold-headers=5s,,",
        "hold-headers=connection:0", "stall-accept=path:/x"}) {
    try {
      parse_fault_spec(bad);
      ADD_FAILURE() << bad << ": no error";
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(std::string("'") + bad + "'"), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
}

TEST(EventLog, WaitForWakesOnRecordAndTimesOutAtTheDeadline) {
  EventLog log;
  const auto start = Clock::now();
  EXPECT_FALSE(log.wait_for(EventKind::accepted, 0, start + 50ms));
  EXPECT_GE(Clock::now() - start, 50ms);

  std::thread recorder([&] {
    log.record({EventKind::accepted, Clock::now(), 1, 0, ""});
    log.record({EventKind::closed_by_peer, Clock::now(), 2, 0, "eof"});
  });
  auto closed = log.wait_for(EventKind::closed_by_peer, 2, Clock::now() + 2s);
  recorder.join();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->detail, "eof");
  EXPECT_FALSE(log.wait_for(EventKind::closed_by_peer, 1, Clock::now() + 10ms));
  EXPECT_EQ(log.snapshot().size(), 2u);
}

TEST(EventLog, EveryKindHasAName) {
  for (const auto kind : all_event_kinds) EXPECT_NE(event_kind_name(kind), "unknown");
  EXPECT_EQ(std::size(all_event_kinds), static_cast<std::size_t>(EventKind::faults_changed) + 1);
}

}  // namespace
}  // namespace tunedhttp::mockserver
