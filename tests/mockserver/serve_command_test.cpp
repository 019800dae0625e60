// `tunedhttp serve` as a subprocess, driven by curl: each of the four stalls shown to a client
// nobody here wrote; bad SPECs exit 2; SIGTERM exits 0 and leaves no temporary file.
#include <signal.h>
#include <sys/stat.h>

#include <regex>
#include <sstream>
#include <tunedhttp/test_support/process.hpp>
#include <vector>

#include "curl_support.hpp"

namespace tunedhttp::mockserver::testing {
namespace {

using test_support::Process;
using test_support::Serve;

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
                                        {"--fault", "delay-tls-handshake=1s"},
                                        {"--fault", "stall-connect"},
                                        {"--fault", "reject-connect=200"}}) {
    Process process{Serve::command(TUNEDHTTP_PROGRAM, args)};
    EXPECT_EQ(process.wait(Clock::now() + 5s), 2) << args[1];
    EXPECT_NE(process.err().find(args[1]), std::string::npos) << process.err();
    EXPECT_EQ(process.err().find('\n'), process.err().size() - 1) << "one line: " << process.err();
    EXPECT_EQ(process.out(), "");
  }
}

TEST(Serve, ProxyForwardsAndTunnelsForCurl) {
  SKIP_WITHOUT_CURL();
  Serve origin{TUNEDHTTP_PROGRAM, {"--respond-with", "s3"}};
  Serve proxy{TUNEDHTTP_PROGRAM, {"--proxy", "--events"}};
  const std::string proxy_url = proxy.url.substr(0, proxy.url.size() - 1);  // no trailing '/'
  auto forwarded = curl({"--max-time", "5", "-x", proxy_url, origin.url + "object"});
  EXPECT_EQ(forwarded.exit_code, 0) << forwarded.err;
  EXPECT_EQ(forwarded.status, 200);
  auto tunnelled = curl({"--max-time", "5", "-p", "-x", proxy_url, origin.url});
  EXPECT_EQ(tunnelled.exit_code, 0) << tunnelled.err;
  EXPECT_EQ(tunnelled.connect_status, 200);
  // The events name each target.
  const std::string authority = origin.url.substr(7, origin.url.size() - 8);  // 127.0.0.1:PORT
  bool saw_forward = false;
  bool saw_connect = false;
  const auto deadline = Clock::now() + 2s;
  while (!(saw_forward && saw_connect)) {
    auto line = proxy.process().read_line(deadline);
    if (!line) break;
    saw_forward |= line->find(R"("kind":"proxy_forward")") != std::string::npos &&
                   line->find(R"("detail":")" + origin.url + R"(object")") != std::string::npos;
    saw_connect |= line->find(R"("kind":"proxy_connect")") != std::string::npos &&
                   line->find(R"("detail":")" + authority + R"(")") != std::string::npos;
  }
  EXPECT_TRUE(saw_forward) << "no proxy_forward event naming " << origin.url << "object";
  EXPECT_TRUE(saw_connect) << "no proxy_connect event naming " << authority;

  Serve stalled{TUNEDHTTP_PROGRAM, {"--proxy", "--fault", "stall-connect"}};
  auto result = curl(
      {"--max-time", "0.5", "-p", "-x", stalled.url.substr(0, stalled.url.size() - 1), origin.url});
  expect_curl_timed_out(result, 500ms, "curl -p through serve --proxy --fault stall-connect");
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
