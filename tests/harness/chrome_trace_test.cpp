// Chrome Trace Event export: every event has the fields the format requires (name, ph, ts, pid,
// tid; dur for complete events; s for instant events), processes and threads are named, times
// are microseconds since the first event, and `tunedhttp run --trace-out` writes such a file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tunedhttp/error.hpp>
#include <tunedhttp/harness/chrome_trace.hpp>

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using tunedhttp::TraceEvent;
using tunedhttp::TracePoint;
using tunedhttp::harness::Timeline;
using tunedhttp::mockserver::EventKind;
using Clock = std::chrono::steady_clock;

Timeline tls_timeout_sample(Clock::time_point t0) {
  auto event = [&](TracePoint point, std::chrono::milliseconds at, std::uint64_t connection) {
    TraceEvent e;
    e.point = point;
    e.at = t0 + at;
    e.connection = connection;
    e.request = 1;
    return e;
  };
  Timeline timeline;
  timeline.title = "tls_handshake/sample";
  timeline.client = {event(TracePoint::get_conn, 0ms, 0), event(TracePoint::dial_start, 1ms, 1),
                     event(TracePoint::dial_done, 3ms, 1),
                     event(TracePoint::tls_handshake_start, 3ms, 1),
                     event(TracePoint::tls_handshake_done, 204ms, 1)};
  timeline.client.back().error = tunedhttp::errc::tls_handshake_timeout;
  timeline.server = {{EventKind::accepted, t0 + 2ms, 1, 0, ""},
                     {EventKind::closed_by_peer, t0 + 205ms, 1, 0, ""}};
  timeline.limits = {{"tls_handshake", 1, t0 + 3ms, 200ms, 201ms}};
  return timeline;
}

// The format's required fields, per event phase.
void expect_valid_event(const json& event) {
  ASSERT_TRUE(event.is_object()) << event;
  ASSERT_TRUE(event.contains("name") && event["name"].is_string()) << event;
  ASSERT_TRUE(event.contains("ph") && event["ph"].is_string()) << event;
  ASSERT_TRUE(event.contains("ts") && event["ts"].is_number()) << event;
  ASSERT_TRUE(event.contains("pid") && event["pid"].is_number_integer()) << event;
  ASSERT_TRUE(event.contains("tid") && event["tid"].is_number_integer()) << event;
  const std::string ph = event["ph"];
  EXPECT_TRUE(ph == "i" || ph == "X" || ph == "M") << "unexpected ph " << event;
  if (ph == "X") {
    ASSERT_TRUE(event.contains("dur") && event["dur"].is_number()) << event;
    EXPECT_GE(event["dur"].get<double>(), 0) << event;
  }
  if (ph == "i") {
    ASSERT_TRUE(event.contains("s") && event["s"].is_string()) << event;
    const std::string s = event["s"];
    EXPECT_TRUE(s == "g" || s == "p" || s == "t") << event;
  }
  if (ph == "M") {
    ASSERT_TRUE(event.contains("args") && event["args"].is_object()) << event;
  }
  EXPECT_GE(event["ts"].get<double>(), 0) << event;
}

const json* find(const json& events, const std::string& name, const std::string& ph) {
  for (const auto& event : events) {
    if (event["name"] == name && event["ph"] == ph) return &event;
  }
  return nullptr;
}

TEST(ChromeTrace, EveryEventHasTheRequiredFields) {
  const json document =
      json::parse(tunedhttp::harness::chrome_trace_json({tls_timeout_sample(Clock::now())}));
  ASSERT_TRUE(document.contains("traceEvents"));
  ASSERT_TRUE(document["traceEvents"].is_array());
  EXPECT_EQ(document["displayTimeUnit"], "ms");
  ASSERT_FALSE(document["traceEvents"].empty());
  for (const auto& event : document["traceEvents"]) expect_valid_event(event);
}

TEST(ChromeTrace, ClientAndServerAreProcessesAndConnectionsThreads) {
  const json events = json::parse(
      tunedhttp::harness::chrome_trace_json({tls_timeout_sample(Clock::now())}))["traceEvents"];
  std::map<int, std::string> processes;
  std::set<std::pair<int, int>> threads;
  for (const auto& event : events) {
    if (event["ph"] != "M") continue;
    if (event["name"] == "process_name") processes[event["pid"]] = event["args"]["name"];
    if (event["name"] == "thread_name") {
      threads.emplace(event["pid"], event["tid"]);
      EXPECT_EQ(event["args"]["name"], "connection " + std::to_string(event["tid"].get<int>()));
    }
  }
  ASSERT_EQ(processes.size(), 2U);
  EXPECT_EQ(processes[1], "tls_handshake/sample · client");
  EXPECT_EQ(processes[2], "tls_handshake/sample · server");
  EXPECT_EQ(threads, (std::set<std::pair<int, int>>{{1, 1}, {2, 1}}));
  // Every non-metadata event sits on a named thread.
  for (const auto& event : events) {
    if (event["ph"] == "M") continue;
    EXPECT_EQ(threads.count({event["pid"], event["tid"]}), 1U) << event;
  }
}

TEST(ChromeTrace, TimesAreMicrosecondsSinceTheFirstEvent) {
  const json events = json::parse(
      tunedhttp::harness::chrome_trace_json({tls_timeout_sample(Clock::now())}))["traceEvents"];
  const json* start = find(events, "tls_handshake_start", "i");
  ASSERT_NE(start, nullptr);
  EXPECT_DOUBLE_EQ((*start)["ts"].get<double>(), 3000);
  EXPECT_EQ((*start)["s"], "t");
  const json* get_conn = find(events, "get_conn", "i");
  ASSERT_NE(get_conn, nullptr);
  EXPECT_DOUBLE_EQ((*get_conn)["ts"].get<double>(), 0);
  EXPECT_EQ((*get_conn)["tid"], 1);  // placed on the connection its request got

  const json* handshake = find(events, "tls_handshake", "X");
  ASSERT_NE(handshake, nullptr);
  EXPECT_DOUBLE_EQ((*handshake)["ts"].get<double>(), 3000);
  EXPECT_DOUBLE_EQ((*handshake)["dur"].get<double>(), 201000);
  EXPECT_EQ((*handshake)["args"]["failed"], true);
  const json* dial = find(events, "dial", "X");
  ASSERT_NE(dial, nullptr);
  EXPECT_DOUBLE_EQ((*dial)["dur"].get<double>(), 2000);

  const json* limit = find(events, "limit tls_handshake", "X");
  ASSERT_NE(limit, nullptr);
  EXPECT_DOUBLE_EQ((*limit)["dur"].get<double>(), 200000);
  EXPECT_DOUBLE_EQ((*limit)["args"]["lateness_ms"].get<double>(), 1);
  const json* fired = find(events, "fired tls_handshake", "i");
  ASSERT_NE(fired, nullptr);
  EXPECT_DOUBLE_EQ((*fired)["ts"].get<double>(), 204000);

  const json* done = find(events, "tls_handshake_done", "i");
  ASSERT_NE(done, nullptr);
  EXPECT_EQ((*done)["args"]["error"], "tls_handshake_timeout");
}

TEST(ChromeTrace, TimelinesShareOneAxisWithTheirOwnProcesses) {
  const auto t0 = Clock::now();
  const json events = json::parse(tunedhttp::harness::chrome_trace_json(
      {tls_timeout_sample(t0), tls_timeout_sample(t0 + 1s)}))["traceEvents"];
  std::set<int> pids;
  double latest = 0;
  for (const auto& event : events) {
    pids.insert(event["pid"].get<int>());
    latest = std::max(latest, event["ts"].get<double>());
  }
  EXPECT_EQ(pids, (std::set<int>{1, 2, 3, 4}));
  EXPECT_DOUBLE_EQ(latest, 1'205'000);  // the second timeline's last server event
}

TEST(ChromeTrace, EmptyInputIsAValidDocument) {
  const json document = json::parse(tunedhttp::harness::chrome_trace_json({}));
  EXPECT_TRUE(document["traceEvents"].is_array());
  EXPECT_EQ(document["displayTimeUnit"], "ms");
}

TEST(ChromeTrace, RunWritesTheTraceFile) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("tunedhttp-trace-" + std::to_string(::getpid()) + ".json");
  const std::string scenario = std::string(TUNEDHTTP_SOURCE_DIR) +
                               "/scenarios/tls_handshake/fires_when_handshake_delayed.yaml";
  const std::string command = std::string(TUNEDHTTP_PROGRAM) + " run --trace-out " + file.string() +
                              " " + scenario + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(file);
  const json document = json::parse(in);
  ASSERT_TRUE(document["traceEvents"].is_array());
  for (const auto& event : document["traceEvents"]) expect_valid_event(event);
  EXPECT_NE(find(document["traceEvents"], "tls_handshake_start", "i"), nullptr);
  EXPECT_NE(find(document["traceEvents"], "limit tls_handshake", "X"), nullptr);
  EXPECT_NE(find(document["traceEvents"], "accepted", "i"), nullptr);
  std::filesystem::remove(file);
}

}  // namespace
