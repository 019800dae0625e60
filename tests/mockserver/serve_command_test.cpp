// `tunedhttp serve` as a subprocess, driven by curl: each of the four stalls shown to a client
// nobody here wrote; bad SPECs exit 2; SIGTERM exits 0 and leaves no temporary file.
#include <signal.h>
#include <sys/stat.h>

#include <regex>
#include <sstream>
#include <tunedhttp/test_support/process.hpp>
#include <vector>

#include "test_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

using test_support::Process;
using test_support::Serve;

struct CurlResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  /// curl's own timings (-w), in seconds.
  double connect = 0;
  double tls = 0;
  double first_byte = 0;
  double total = 0;
  int status = 0;
};

#ifdef TUNEDHTTP_CURL
CurlResult curl(std::vector<std::string> args) {
  args.insert(args.begin(),
              {TUNEDHTTP_CURL, "--silent", "--show-error", "--output", "/dev/null", "--write-out",
               "%{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total} "
               "%{http_code}"});
  Process process{args};
  CurlResult result;
  result.exit_code = process.wait(Clock::now() + 10s);
  result.out = process.out();
  result.err = process.err();
  std::istringstream{result.out} >> result.connect >> result.tls >> result.first_byte >>
      result.total >> result.status;
  return result;
}
#define SKIP_WITHOUT_CURL() \
  do {                      \
  } while (false)
#else
CurlResult curl(std::vector<std::string>) { return {}; }
#define SKIP_WITHOUT_CURL() GTEST_SKIP() << "curl not found at configure time"
#endif

Clock::duration seconds(double value) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value));
}

constexpr int curl_timed_out = 28;  // CURLE_OPERATION_TIMEDOUT

/// curl's own timers (--connect-timeout, --max-time, --expect100-timeout) may fire a
/// millisecond or so before their time by curl's own clock; what matters here is that the stall
/// outlasted them.
constexpr auto curl_granularity = 10ms;
void expect_curl_timed_out(const CurlResult& result, Clock::duration limit, const char* what) {
  EXPECT_EQ(result.exit_code, curl_timed_out) << what << ": " << result.err;
  expect_elapsed(seconds(result.total) + curl_granularity, limit, what);
}

TEST(Serve, PrintsTheUrlAndServesCurl) {
  SKIP_WITHOUT_CURL();
  Serve serve{TUNEDHTTP_PROGRAM, {}};
  ASSERT_EQ(serve.url.rfind("http://127.0.0.1:", 0), 0u) << serve.url;
  auto result = curl({"--max-time", "5", serve.url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  serve.process().signal(SIGINT);
  EXPECT_EQ(serve.process().wait(Clock::now() + 5s), 0) << serve.process().err();
}

TEST(Serve, StallAcceptLeavesCurlsConnectPending) {
  SKIP_WITHOUT_CURL();
  Serve serve{TUNEDHTTP_PROGRAM, {"--fault", "stall-accept"}};
  auto result = curl({"--connect-timeout", "0.5", serve.url});
  expect_curl_timed_out(result, 500ms, "curl --connect-timeout 0.5");
}

TEST(Serve, DelayTlsHandshakeDelaysCurlsHandshake) {
  SKIP_WITHOUT_CURL();
  Serve serve{TUNEDHTTP_PROGRAM, {"--tls", "--fault", "delay-tls-handshake=300ms"}, true};
  ASSERT_EQ(serve.url.rfind("https://127.0.0.1:", 0), 0u) << serve.url;
  auto result = curl({"--max-time", "5", "--cacert", serve.ca_path, serve.url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  // From curl's start: the server's delay starts at its accept, which curl may notice late.
  expect_elapsed(seconds(result.tls), 300ms, "curl's TLS handshake");

  Serve forever{TUNEDHTTP_PROGRAM, {"--tls", "--fault", "delay-tls-handshake"}, true};
  auto stalled = curl({"--max-time", "0.5", "--cacert", forever.ca_path, forever.url});
  expect_curl_timed_out(stalled, 500ms, "curl --max-time 0.5");
}

TEST(Serve, WithholdContinueMakesCurlWaitItsExpect100Timeout) {
  SKIP_WITHOUT_CURL();
  Serve serve{TUNEDHTTP_PROGRAM, {"--fault", "withhold-continue"}};
  auto result = curl({"--max-time", "5", "--expect100-timeout", "0.3", "-H", "Expect: 100-continue",
                      "--data-binary", "hello", serve.url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  // curl sent the body only when its 0.3 s expect timeout fired.
  expect_elapsed(seconds(result.first_byte - result.connect) + curl_granularity, 300ms,
                 "curl's expect100 wait");
}

TEST(Serve, HoldHeadersMakesCurlTimeOut) {
  SKIP_WITHOUT_CURL();
  Serve serve{TUNEDHTTP_PROGRAM, {"--fault", "hold-headers"}};
  auto stalled = curl({"--max-time", "0.5", serve.url});
  expect_curl_timed_out(stalled, 500ms, "curl --max-time 0.5");

  Serve held{TUNEDHTTP_PROGRAM, {"--fault", "hold-headers=300ms"}};
  auto result = curl({"--max-time", "5", held.url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  expect_elapsed(seconds(result.first_byte - result.connect), 300ms, "response headers");
}

TEST(Serve, EventsArePrintedAsJsonLines) {
  SKIP_WITHOUT_CURL();
  Serve serve{TUNEDHTTP_PROGRAM, {"--events"}};
  auto result = curl({"--max-time", "5", serve.url + "path"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> lines;
  const auto deadline = Clock::now() + 2s;
  while (auto line = serve.process().read_line(deadline)) {
    lines.push_back(*line);
    if (line->find("closed_by") != std::string::npos) break;
  }
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind(R"({"kind":"accepted","at_ms":)", 0), 0u) << lines[0];
  // Every line has the same fields in the same order, times to the microsecond.
  const std::regex line_form{
      R"(\{"kind":"[a-z_]+","at_ms":[0-9]+(\.[0-9]{1,3})?,"connection":[0-9]+,"request":[0-9]+,)"
      R"("detail":"[^"]*","seq":[0-9]+\})"};
  for (const auto& line : lines) EXPECT_TRUE(std::regex_match(line, line_form)) << line;
  EXPECT_NE(lines[1].find(R"("connection":1,"request":1,)"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(R"("detail":"GET /path")"), std::string::npos) << lines[1];
  EXPECT_NE(lines.back().find(R"("kind":"closed_by_peer")"), std::string::npos) << lines.back();
}

TEST(Serve, BadSpecsAndAddressesExit2NamingThem) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--fault", "hold-headers=5x"},
                                        {"--fault", "nope"},
                                        {"--fault", "withhold-continue=reply:99"},
                                        {"--listen", "999.1.1.1:0"},
                                        {"--listen", "127.0.0.1:99999"},
                                        {"--listen", "localhost"},
                                        {"--fault", "delay-tls-handshake=1s"}}) {
    Process process{Serve::command(TUNEDHTTP_PROGRAM, args)};
    EXPECT_EQ(process.wait(Clock::now() + 5s), 2) << args[1];
    EXPECT_NE(process.err().find(args[1]), std::string::npos) << process.err();
    EXPECT_EQ(process.err().find('\n'), process.err().size() - 1) << "one line: " << process.err();
    EXPECT_EQ(process.out(), "");
  }
}

TEST(Serve, SigtermExits0AndRemovesTheCaFile) {
  Serve serve{TUNEDHTTP_PROGRAM, {"--tls"}, true};
  ASSERT_FALSE(serve.ca_path.empty());
  struct stat info {};
  ASSERT_EQ(::stat(serve.ca_path.c_str(), &info), 0) << serve.ca_path;
  RawClient client;
  ASSERT_TRUE(client.connect(tcp::endpoint{
      asio::ip::make_address("127.0.0.1"),
      static_cast<unsigned short>(std::stoi(serve.url.substr(serve.url.rfind(':') + 1)))}));
  serve.process().signal(SIGTERM);
  EXPECT_EQ(serve.process().wait(Clock::now() + 5s), 0) << serve.process().err();
  EXPECT_NE(::stat(serve.ca_path.c_str(), &info), 0) << serve.ca_path << " left behind";
  auto closed = client.read_to_close(Clock::now() + 2s);
  EXPECT_TRUE(closed && closed->error) << "the connection should be closed";
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
