// `tunedhttp serve --fault reset=...` against two clients nobody here wrote the server for: our
// `tunedhttp request` names the error for the reset, and Go's net/http (the Go peer) reports
// "connection reset by peer".
#include "program_test_support.hpp"

namespace tunedhttp::program::testing {
namespace {

TEST(ResetClients, OursNamesTheResetAfterHeaders) {
  START_SERVE(serve, false, "--fault", "reset=after-headers");
  const auto run = run_request({serve.url, "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  EXPECT_EQ(run.lines[0]["error"], "connection_reset") << run.lines[0].dump();
  EXPECT_TRUE(run.lines[0]["status"].is_null());
}

TEST(ResetClients, OursNamesTheResetMidBody) {
  START_SERVE(serve, false, "--fault", "reset=mid-body:10", "--respond-with", "lambda");
  const auto run = run_request({serve.url, "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  EXPECT_EQ(run.lines[0]["error"], "connection_reset") << run.lines[0].dump();
}

#ifdef TUNEDHTTP_GO_PEER
TEST(ResetClients, GosClientGetsConnectionResetByPeerAfterHeaders) {
  START_SERVE(serve, false, "--fault", "reset=after-headers");
  const std::string input = R"({"requests": [{"url": ")" + serve.url + R"(", "deadline": "5s"}]})";
  Process peer{{"/bin/sh", "-c", "printf '%s' \"$1\" | \"$0\" client", TUNEDHTTP_GO_PEER, input}};
  const auto line = peer.read_line(Clock::now() + 10s);
  peer.wait(Clock::now() + 10s);
  ASSERT_TRUE(line) << "the Go peer printed nothing: " << peer.err();
  const auto result = nlohmann::json::parse(*line);
  EXPECT_EQ(result["error"], "connection_reset") << *line;
  EXPECT_NE(result["message"].get<std::string>().find("connection reset by peer"),
            std::string::npos)
      << *line;
}
#endif

}  // namespace
}  // namespace tunedhttp::program::testing
