// `tunedhttp request` input checks: every usage error exits 2 with one line naming
// the bad value; the help lists every flag with its default; a refused connection is a failed
// request (exit 1) with the contract's JSON fields.
#include <algorithm>

#include "program_test_support.hpp"

namespace tunedhttp::program::testing {
namespace {

struct UsageCase {
  std::string name;  ///< the test's name
  std::vector<std::string> args;
  std::string named;  ///< what the message must name
};

class RequestUsage : public ::testing::TestWithParam<UsageCase> {};

TEST_P(RequestUsage, ExitsTwoNamingTheBadValue) {
  const auto& usage = GetParam();
  const auto run = run_request(usage.args, 10s);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find(usage.named), std::string::npos)
      << "got stderr " << run.err << "; want it to name " << usage.named;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << "want one line: " << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
}

INSTANTIATE_TEST_SUITE_P(
    Request, RequestUsage,
    ::testing::Values(
        UsageCase{"UnknownFlag", {nothing_listens_url, "--bogus"}, "--bogus"},
        UsageCase{"BadConnectDuration", {nothing_listens_url, "--connect", "3x"}, "3x"},
        UsageCase{"DurationWithoutUnit", {nothing_listens_url, "--response-header", "10"}, "'10'"},
        UsageCase{"WordAsDuration", {nothing_listens_url, "--idle-conn", "soon"}, "soon"},
        UsageCase{"FtpUrl", {"ftp://127.0.0.1/"}, "ftp://127.0.0.1/"},
        UsageCase{"NotAUrl", {"not a url"}, "not a url"},
        UsageCase{"UrlWithoutHost", {"http://:80/"}, "http://:80/"},
        UsageCase{"PortOutOfRange", {"http://127.0.0.1:99999/"}, "99999"},
        UsageCase{"UnreadableDataFile",
                  {nothing_listens_url, "--data", "@/nonexistent/tunedhttp-body"},
                  "/nonexistent/tunedhttp-body"},
        UsageCase{"UnreadableCacert",
                  {nothing_listens_url, "--cacert", "/nonexistent/ca.pem"},
                  "/nonexistent/ca.pem"},
        UsageCase{"WordAsCount", {nothing_listens_url, "--count", "abc"}, "abc"},
        UsageCase{"ZeroCount", {nothing_listens_url, "--count", "0"}, "0"},
        UsageCase{"NegativeParallel", {nothing_listens_url, "--parallel", "-3"}, "-3"},
        UsageCase{"ZeroThreads", {nothing_listens_url, "--threads", "0"}, "0"},
        UsageCase{"TooManyThreads", {nothing_listens_url, "--threads", "257"}, "257"},
        UsageCase{"WordAsIdleCap", {nothing_listens_url, "--max-idle-conns", "many"}, "many"},
        UsageCase{"HeaderWithoutColon", {nothing_listens_url, "-H", "no-colon"}, "no-colon"},
        UsageCase{"MethodWithSpace", {nothing_listens_url, "-X", "GE T"}, "GE T"},
        UsageCase{"MissingUrl", {}, "URL"}));

TEST(Request, HelpListsEveryFlagWithItsDefault) {
  const auto run = run_request({"--help"}, 10s);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  for (const char* flag : {"--request",
                           "--data",
                           "--header",
                           "--connect DURATION=30s",
                           "--conn-keep-alive,--keep-alive DURATION=30s",
                           "--tls-handshake DURATION=10s",
                           "--expect-continue DURATION=1s",
                           "--response-header DURATION=0s",
                           "--idle-conn DURATION=90s",
                           "--max-all-idle-conns,--max-idle-conns N=100",
                           "--resolve",
                           "--dual-stack-fallback-delay DURATION=0s",
                           "--keep-alive-count",
                           "--max-host-idle-conns N=10",
                           "--cacert",
                           "--insecure",
                           "--count N=1",
                           "--parallel N=1",
                           "--threads N",
                           "--json",
                           "--verbose",
                           "--max-time DURATION=0s",
                           "--interval DURATION=0s"}) {
    EXPECT_NE(run.out.find(flag), std::string::npos) << "help lacks " << flag << ":\n" << run.out;
  }
}

TEST(Request, RefusedConnectionIsAFailedRequestWithTheContractsFields) {
  RefusingPort refusing;
  const auto run = run_request(
      {"http://127.0.0.1:" + std::to_string(refusing.port()) + "/", "--json", "--count", "2"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 2u) << run.out;
  for (std::size_t i = 0; i < run.lines.size(); ++i) {
    const auto& line = run.lines[i];
    for (const char* key : {"status", "error", "message", "elapsed_ms", "reused", "trace", "worker",
                            "seq", "connection"}) {
      EXPECT_TRUE(line.contains(key)) << "no " << key << " in " << line.dump();
    }
    EXPECT_TRUE(line["status"].is_null()) << line.dump();
    EXPECT_EQ(line["error"], "connection_refused") << line.dump();
    EXPECT_FALSE(line["message"].get<std::string>().empty()) << line.dump();
    EXPECT_EQ(line["reused"], false);
    EXPECT_EQ(line["worker"], 1);
    EXPECT_EQ(line["seq"], i + 1);
    EXPECT_TRUE(line["trace"].contains("dial_start")) << line.dump();
  }
}

// One URL rule set, the client's (Go's url.Parse and Transport): port 0 is a URL, dialled and
// refused by the system (exit 1, not a usage error).
TEST(Request, PortZeroIsDialledAndRefused) {
  const auto run = run_request({"http://127.0.0.1:0/", "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out << run.err;
  EXPECT_EQ(run.lines[0]["error"], "connection_refused") << run.lines[0].dump();
}

// User info is accepted and not sent (Go's Transport); the request goes to the host after '@'.
TEST(Request, UserInfoIsAcceptedAndNotSent) {
  RefusingPort refusing;
  const auto run = run_request(
      {"http://user:secret@127.0.0.1:" + std::to_string(refusing.port()) + "/", "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out << run.err;
  EXPECT_EQ(run.lines[0]["error"], "connection_refused") << run.lines[0].dump();
}

TEST(Request, WithoutJsonAnErrorIsOneLineOnStderr) {
  RefusingPort refusing;
  const auto run = run_request({"http://127.0.0.1:" + std::to_string(refusing.port()) + "/"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_NE(run.err.find("connection_refused"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace tunedhttp::program::testing
