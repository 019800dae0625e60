// `tunedhttp request` with streamed bodies: -o FILE (the body written as it comes, never held
// whole), the body timers' flags against `tunedhttp serve`'s body faults, and the memory a 1 GiB
// download costs (measured by /usr/bin/time -v, the number docs/bench/streaming.md reports).
#include <filesystem>
#include <regex>

#include "program_test_support.hpp"

namespace tunedhttp::program::testing {
namespace {

TEST(RequestStreaming, OutputFileGetsTheWholeBody) {
  START_SERVE(serve, false, "--body-size", "1MiB");
  TemporaryDirectory directory;
  const std::string file = directory.path() + "/body";
  const auto run = run_request({serve.url, "-o", file, "--json", "--count", "2"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 2u) << run.out;
  EXPECT_EQ(run.lines[0]["bytes"], 1u << 20) << run.lines[0].dump();
  EXPECT_EQ(run.lines[1]["reused"], true) << "read to the end: the connection is reused";
  EXPECT_EQ(std::filesystem::file_size(file), 2u << 20) << "the two bodies, one after the other";
}

TEST(RequestStreaming, OutputNeedsOneWorkerAndAWritableFile) {
  const auto parallel = run_request({"http://127.0.0.1:1/", "-o", "/dev/null", "--parallel", "2"});
  EXPECT_EQ(parallel.exit_code, 2);
  EXPECT_NE(parallel.err.find("-o: one file"), std::string::npos) << parallel.err;
  const auto unwritable = run_request({"http://127.0.0.1:1/", "-o", "/nonexistent/dir/body"});
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_NE(unwritable.err.find("-o: cannot write"), std::string::npos) << unwritable.err;
  const auto rate = run_request({"http://127.0.0.1:1/", "--low-speed", "fast"});
  EXPECT_EQ(rate.exit_code, 2);
  EXPECT_NE(rate.err.find("N/D"), std::string::npos) << rate.err;
}

TEST(RequestStreaming, StalledBodyIsABodyReadIdleTimeout) {
  START_SERVE(serve, false, "--body-size", "64KiB", "--fault", "stall-body=after:1KiB");
  const auto run = run_request({serve.url, "-o", "/dev/null", "--body-read-idle", "300ms",
                                "--response-header", "100ms", "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  const auto& line = run.lines[0];
  EXPECT_EQ(line["error"], "body_read_idle_timeout") << line.dump();
  EXPECT_TRUE(line["status"].is_null());
  expect_within_limit(trace_ms(line, "response_done") - trace_ms(line, "got_response_headers"),
                      300ms, "got_response_headers → response_done");
}

TEST(RequestStreaming, SlowBodyIsALowSpeedTimeoutAndAFastOneIsNot) {
  START_SERVE(serve, false, "--body-size", "64KiB", "--fault", "drip-body=100/100ms");
  const auto slow = run_request({serve.url, "--low-speed", "2KiB/500ms", "--json"});
  EXPECT_EQ(slow.exit_code, 1) << slow.err;
  ASSERT_EQ(slow.lines.size(), 1u) << slow.out;
  EXPECT_EQ(slow.lines[0]["error"], "low_speed_timeout") << slow.lines[0].dump();
  expect_within_limit(
      trace_ms(slow.lines[0], "response_done") - trace_ms(slow.lines[0], "got_response_headers"),
      500ms, "got_response_headers → response_done");
  START_SERVE(quick, false, "--body-size", "8KiB", "--fault", "drip-body=1KiB/100ms");
  const auto fast = run_request({quick.url, "--low-speed", "2KiB/500ms", "--json"});
  EXPECT_EQ(fast.exit_code, 0) << fast.err;
  ASSERT_EQ(fast.lines.size(), 1u) << fast.out;
  EXPECT_EQ(fast.lines[0]["bytes"], 8192) << "10 KiB/s is above 2 KiB/s: " << fast.lines[0].dump();
}

// Maximum resident set size of `tunedhttp ARGS...` run under /usr/bin/time -v, in KiB; the run's
// exit code in `exit_code`.
std::optional<long> peak_rss_kib(const std::vector<std::string>& args, int& exit_code) {
  std::vector<std::string> argv{"/usr/bin/time", "-v", TUNEDHTTP_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  Process process(argv);
  exit_code = process.wait(Clock::now() + 60s);
  const std::regex peak(R"(Maximum resident set size \(kbytes\): (\d+))");
  std::smatch found;
  const std::string& err = process.err();
  if (!std::regex_search(err, found, peak)) return std::nullopt;
  return std::stol(found[1].str());
}

TEST(RequestStreaming, OneGibibyteToDevNullStaysUnder64MiB) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The program under test is instrumented too: ASan's shadow memory and quarantine (256 MiB)
  // are in its RSS (362 MiB seen), which then says nothing of the client's memory. The normal
  // build, which `make test` runs first, checks the contract.
  GTEST_SKIP() << "peak RSS is not the client's memory in a sanitizer build";
#endif
  if (!std::filesystem::exists("/usr/bin/time")) GTEST_FAIL() << "needs /usr/bin/time (time)";
  START_SERVE(serve, false, "--body-size", "1GiB");
  int exit_code = -1;
  const auto peak = peak_rss_kib({"request", serve.url, "-o", "/dev/null"}, exit_code);
  EXPECT_EQ(exit_code, 0);
  ASSERT_TRUE(peak) << "no 'Maximum resident set size' from /usr/bin/time -v";
  EXPECT_LT(*peak, 64 * 1024) << "got a peak of " << *peak << " KiB; want under 64 MiB";
  RecordProperty("peak_rss_kib", static_cast<int>(*peak));
}

}  // namespace
}  // namespace tunedhttp::program::testing
