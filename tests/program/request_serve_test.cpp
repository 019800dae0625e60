// `tunedhttp request` against our own `tunedhttp serve`: each of the four faults makes
// `request --json` report the matching error name (none for withhold-continue) and times
// consistent with the limit: never early, at most the project's timing tolerance late. Each
// has a twin whose fault stays inside the limit and succeeds. --max-time ends a stall.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <utility>

#include "program_test_support.hpp"

namespace tunedhttp::program::testing {
namespace {

constexpr auto limit = 300ms;

std::string limit_text() { return std::to_string(limit.count()) + "ms"; }

TEST(RequestServe, StallAcceptIsAConnectTimeout) {
  START_SERVE(serve, false, "--fault", "stall-accept");
  const auto run = run_request({serve.url, "--connect", limit_text(), "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  const auto& line = run.lines[0];
  EXPECT_EQ(line["error"], "connect_timeout") << line.dump();
  EXPECT_TRUE(line["status"].is_null());
  expect_within_limit(line["elapsed_ms"].get<double>(), limit, "elapsed_ms");
  expect_within_limit(trace_ms(line, "dial_done") - trace_ms(line, "dial_start"), limit,
                      "dial_start → dial_done");
}

TEST(RequestServe, DelayedTlsHandshakeIsATlsHandshakeTimeout) {
  START_SERVE(serve, true, "--tls", "--fault", "delay-tls-handshake=2s");
  const auto run = run_request(
      {serve.url, "--cacert", serve.ca_path, "--tls-handshake", limit_text(), "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  const auto& line = run.lines[0];
  EXPECT_EQ(line["error"], "tls_handshake_timeout") << line.dump();
  expect_within_limit(line["elapsed_ms"].get<double>() - trace_ms(line, "dial_done"), limit,
                      "dial_done → end (elapsed_ms minus the TCP connect)");
  expect_within_limit(trace_ms(line, "tls_handshake_done") - trace_ms(line, "tls_handshake_start"),
                      limit, "tls_handshake_start → tls_handshake_done");
}

TEST(RequestServe, TlsHandshakeDelayInsideTheLimitSucceeds) {
  START_SERVE(serve, true, "--tls", "--fault", "delay-tls-handshake=" + limit_text());
  const auto run =
      run_request({serve.url, "--cacert", serve.ca_path, "--tls-handshake", "3s", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  EXPECT_EQ(run.lines[0]["status"], 200) << run.lines[0].dump();
  EXPECT_GE(
      trace_ms(run.lines[0], "tls_handshake_done") - trace_ms(run.lines[0], "tls_handshake_start"),
      static_cast<double>(limit.count()))
      << "the delay was not applied";
}

TEST(RequestServe, HeldHeadersAreAResponseHeaderTimeout) {
  START_SERVE(serve, false, "--fault", "hold-headers=5s");
  const auto run = run_request({serve.url, "--response-header", limit_text(), "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  const auto& line = run.lines[0];
  EXPECT_EQ(line["error"], "response_header_timeout") << line.dump();
  expect_within_limit(line["elapsed_ms"].get<double>() - trace_ms(line, "wrote_request"), limit,
                      "wrote_request → end");
  EXPECT_FALSE(line["trace"].contains("got_response_headers")) << line.dump();
}

TEST(RequestServe, HeadersHeldInsideTheLimitSucceed) {
  START_SERVE(serve, false, "--fault", "hold-headers=" + limit_text());
  const auto run = run_request({serve.url, "--response-header", "3s", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  const auto& line = run.lines[0];
  EXPECT_EQ(line["status"], 200) << line.dump();
  EXPECT_GE(trace_ms(line, "got_response_headers") - trace_ms(line, "wrote_request"),
            static_cast<double>(limit.count()))
      << "the hold was not applied: " << line.dump();
}

TEST(RequestServe, WithheldContinueSendsTheBodyAfterExpectContinue) {
  START_SERVE(serve, false, "--fault", "withhold-continue");
  const auto run =
      run_request({serve.url, "-X", "PUT", "--data", "body sent anyway", "-H",
                   "Expect: 100-continue", "--expect-continue", limit_text(), "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  const auto& line = run.lines[0];
  EXPECT_TRUE(line["error"].is_null()) << "expect_continue is never an error: " << line.dump();
  EXPECT_TRUE(line["status"].is_number()) << line.dump();
  EXPECT_FALSE(line["trace"].contains("got_100_continue")) << line.dump();
  expect_within_limit(trace_ms(line, "wrote_request") - trace_ms(line, "wait_100_continue"), limit,
                      "wait_100_continue → wrote_request");
}

TEST(RequestServe, MaxTimeEndsAStallThatNoSettingCovers) {
  // response_header is 0 (wait forever) by default: only --max-time ends this. It cancels the
  // request, which closes the connection: the next request dials again.
  START_SERVE(serve, false, "--fault", "hold-headers");
  const auto run =
      run_request({serve.url, "--max-time", limit_text(), "--count", "2", "--json"}, 10s);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 2u) << run.out;
  for (std::size_t i = 0; i < run.lines.size(); ++i) {
    const auto& line = run.lines[i];
    EXPECT_EQ(line["error"], "max_time_exceeded") << line.dump();
    expect_within_limit(line["elapsed_ms"].get<double>(), limit, "elapsed_ms");
    EXPECT_TRUE(line["trace"].contains("response_done"))
        << "the request was not ended: " << line.dump();
    EXPECT_EQ(line["connection"], i + 1) << "a cancelled request's connection was pooled";
  }
  EXPECT_LT(run.wall, 5s) << "the program must exit once its requests are done";
}

}  // namespace
}  // namespace tunedhttp::program::testing

namespace tunedhttp::program::testing {
namespace {

// Reads a whole file (empty when missing).
std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(RequestServe, TimelineAndTraceOutDrawTheFiredLimit) {
  START_SERVE(serve, false, "--fault", "hold-headers=5s");
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tunedhttp-request-timeline-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto svg_path = dir / "request.svg";
  const auto trace_path = dir / "request.json";
  const auto run = run_request({serve.url, "--response-header", limit_text(), "--timeline",
                                svg_path.string(), "--trace-out", trace_path.string()});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const auto svg = slurp(svg_path);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("id=\"limit-response_header-c1\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("id=\"fired-response_header-c1\""), std::string::npos) << svg;
  EXPECT_EQ(svg.find("id=\"limit-connect-c1\""), std::string::npos)
      << "a limit that ended long before its deadline stretches the picture";
  const auto trace = nlohmann::json::parse(slurp(trace_path));
  ASSERT_TRUE(trace.contains("traceEvents"));
  EXPECT_FALSE(trace["traceEvents"].empty());
  for (const auto& event : trace["traceEvents"]) {
    EXPECT_TRUE(event.contains("name") && event.contains("ph") && event.contains("pid") &&
                event.contains("tid"))
        << event.dump();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tunedhttp::program::testing

namespace tunedhttp::program::testing {
namespace {

// --threads: several threads run the workers and one shared client. Every request is reported
// once, whole (no interleaved lines), and connections are still reused; --max-time still ends
// stalled requests on every thread.
TEST(RequestServe, ThreadsShareOneClient) {
  START_SERVE(serve, false);
  const auto run = run_request(
      {serve.url, "--threads", "2", "--parallel", "4", "--count", "25", "--json", "-v"}, 20s);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 100u) << run.out;
  std::set<std::pair<int, int>> seen;
  int reused = 0;
  for (const auto& line : run.lines) {
    EXPECT_EQ(line["status"], 200) << line.dump();
    seen.emplace(line["worker"].get<int>(), line["seq"].get<int>());
    if (line["reused"].get<bool>()) ++reused;
  }
  EXPECT_EQ(seen.size(), 100u) << "a (worker, seq) reported twice";
  EXPECT_GE(reused, 90) << "connections were not reused across threads";
  EXPECT_NE(run.err.find("* pool:"), std::string::npos) << run.err;

  START_SERVE(held, false, "--fault", "hold-headers");
  const auto stalled = run_request(
      {held.url, "--threads", "2", "--parallel", "2", "--max-time", limit_text(), "--json"}, 10s);
  EXPECT_EQ(stalled.exit_code, 1) << stalled.err;
  ASSERT_EQ(stalled.lines.size(), 2u) << stalled.out;
  for (const auto& line : stalled.lines) {
    EXPECT_EQ(line["error"], "max_time_exceeded") << line.dump();
    expect_within_limit(line["elapsed_ms"].get<double>(), limit, "elapsed_ms");
  }
}

}  // namespace
}  // namespace tunedhttp::program::testing
