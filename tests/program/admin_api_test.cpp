// `tunedhttp serve --admin`: curl drives the control API while clients use the server. A fault
// added at run time makes Go's client time out, a bad SPEC is refused with 400 and changes
// nothing, clearing the faults lets the next request through, and GET /events shows it all.
#include <sstream>

#include "program_test_support.hpp"

namespace tunedhttp::program::testing {
namespace {

struct Curl {
  int exit_code = -1;
  int status = 0;
  std::string body;
  std::string err;
};

/// curl METHOD URL [with a JSON body, or @FILE]; the body (without its last newlines) and the
/// status.
Curl curl(const std::string& method, const std::string& url, const std::string& data = "") {
  std::vector<std::string> args{TUNEDHTTP_CURL, "--silent", "--show-error", "--max-time",    "10",
                                "--request",    method,     "--write-out",  "\n%{http_code}"};
  if (!data.empty()) {
    args.insert(args.end(), {"--header", "Content-Type: application/json", "--data-binary", data});
  }
  args.push_back(url);
  Process process{args};
  Curl result;
  result.exit_code = process.wait(Clock::now() + 15s);
  result.err = process.err();
  const auto& out = process.out();
  const auto last = out.rfind('\n');
  result.body = out.substr(0, last == std::string::npos ? 0 : last);
  while (!result.body.empty() && result.body.back() == '\n') result.body.pop_back();
  if (last != std::string::npos) result.status = std::atoi(out.c_str() + last + 1);
  return result;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

/// `serve --admin 127.0.0.1:0` and its admin URL (the line after the URL).
struct AdminServe {
  explicit AdminServe(bool tls = false)
      : serve(TUNEDHTTP_BINARY,
              tls ? std::vector<std::string>{"--admin", "127.0.0.1:0", "--tls"}
                  : std::vector<std::string>{"--admin", "127.0.0.1:0"},
              tls) {
    const auto line = serve.process().read_line(Clock::now() + 10s);
    if (line && line->rfind("admin: ", 0) == 0) admin = line->substr(7);
  }
  Serve serve;
  std::string admin;  ///< "http://127.0.0.1:PORT/"
};

#define START_ADMIN_SERVE(name)                                                                  \
  AdminServe name;                                                                               \
  ASSERT_FALSE(name.serve.url.empty()) << "serve did not start: " << name.serve.process().err(); \
  ASSERT_EQ(name.admin.rfind("http://127.0.0.1:", 0), 0u) << "no admin line"

#ifdef TUNEDHTTP_CURL

TEST(AdminApi, ServePrintsTheAdminLineAfterTheUrlAndCa) {
  AdminServe tls(true);
  ASSERT_FALSE(tls.serve.url.empty()) << tls.serve.process().err();
  EXPECT_FALSE(tls.serve.ca_path.empty());
  EXPECT_EQ(tls.admin.rfind("http://127.0.0.1:", 0), 0u);
  EXPECT_EQ(curl("GET", tls.admin + "faults").body, "[]");
}

#ifdef TUNEDHTTP_GO_PEER
TEST(AdminApi, CurlDrivesARunGosClientTimesOutABadSpecIsRefusedClearedFaultsServe) {
  START_ADMIN_SERVE(serve);
  // Add hold-headers=2s.
  const auto added = curl("POST", serve.admin + "faults", R"("hold-headers=2s")");
  ASSERT_EQ(added.status, 201) << added.body << added.err;
  const auto fault = nlohmann::json::parse(added.body);
  EXPECT_EQ(fault["spec"], "hold-headers=2s");
  EXPECT_EQ(fault["name"], "hold_headers");
  EXPECT_EQ(fault["parameters"]["for"], "2s");

  // Go's client times out on it (response_header 300ms).
  const std::string input = R"({"settings": {"response_header": "300ms"}, "requests": [{"url": ")" +
                            serve.serve.url + R"("}]})";
  Process peer{{"/bin/sh", "-c", "printf '%s' \"$1\" | \"$0\" client", TUNEDHTTP_GO_PEER, input}};
  const auto line = peer.read_line(Clock::now() + 10s);
  peer.wait(Clock::now() + 10s);
  ASSERT_TRUE(line) << peer.err();
  EXPECT_EQ(nlohmann::json::parse(*line)["error"], "response_header_timeout") << *line;

  // A bad SPEC: 400 naming it, faults unchanged.
  const auto refused =
      curl("PUT", serve.admin + "faults", R"(["hold-headers=1s", "hold-headers=soon"])");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("hold-headers=soon"), std::string::npos) << refused.body;
  const auto unchanged = nlohmann::json::parse(curl("GET", serve.admin + "faults").body);
  ASSERT_EQ(unchanged.size(), 1u) << unchanged.dump();
  EXPECT_EQ(unchanged[0]["spec"], "hold-headers=2s");

  // Cleared, the next request succeeds at once.
  const auto cleared = curl("DELETE", serve.admin + "faults");
  EXPECT_EQ(cleared.status, 200);
  EXPECT_EQ(cleared.body, "[]");
  const auto next = run_request({serve.serve.url, "--response-header", "300ms", "--json"});
  ASSERT_EQ(next.lines.size(), 1u) << next.out << next.err;
  EXPECT_EQ(next.lines[0]["status"], 200) << next.lines[0].dump();

  // The log shows all of it, in order.
  const auto events = json_lines(curl("GET", serve.admin + "events").body);
  std::vector<std::string> story;
  for (const auto& event : events) {
    const std::string kind = event["kind"];
    if (kind == "faults_changed" || kind == "request_headers_read" || kind == "closed_by_peer" ||
        kind == "response_done") {
      story.push_back(kind + " " + event["detail"].get<std::string>());
    }
  }
  ASSERT_GE(story.size(), 6u) << nlohmann::json(story).dump();
  EXPECT_EQ(story[0], "faults_changed hold-headers=2s");
  EXPECT_EQ(story[1], "request_headers_read GET /");
  EXPECT_EQ(story[2].rfind("closed_by_peer", 0), 0u) << "Go gave up: " << story[2];
  EXPECT_EQ(story[3], "faults_changed ");
  EXPECT_EQ(story[4], "request_headers_read GET /");
  EXPECT_EQ(story[5], "response_done ");
  const auto stats = nlohmann::json::parse(curl("GET", serve.admin + "stats").body);
  EXPECT_EQ(stats["requests"], 2);
  EXPECT_EQ(stats["faults_fired"]["hold_headers"], 1);
}
#endif

TEST(AdminApi, CountedTargetsFailTheNextNThenSucceed) {
  START_ADMIN_SERVE(serve);
  // Two requests before the change do not count.
  run_request({serve.serve.url, "--count", "2", "--json"});
  const auto put = curl("PUT", serve.admin + "faults", R"(["reset=after-headers,request:1-2"])");
  ASSERT_EQ(put.status, 200) << put.body;
  const auto run = run_request({serve.serve.url, "--count", "3", "--json"});
  ASSERT_EQ(run.lines.size(), 3u) << run.out << run.err;
  EXPECT_EQ(run.lines[0]["error"], "connection_reset") << run.lines[0].dump();
  EXPECT_EQ(run.lines[1]["error"], "connection_reset") << run.lines[1].dump();
  EXPECT_EQ(run.lines[2]["status"], 200) << run.lines[2].dump();
}

TEST(AdminApi, EventsSinceAndLongPoll) {
  START_ADMIN_SERVE(serve);
  run_request({serve.serve.url, "--json"});
  const auto all = json_lines(curl("GET", serve.admin + "events").body);
  ASSERT_FALSE(all.empty());
  const auto last = all.back()["seq"].get<std::uint64_t>();
  const auto since = std::to_string(last);
  EXPECT_EQ(curl("GET", serve.admin + "events?since=" + since).body, "");
  // A long poll returns when the next event comes, not at its wait.
  Process poll{{TUNEDHTTP_CURL, "--silent", "--max-time", "10",
                serve.admin + "events?since=" + since + "&wait=5s"}};
  run_request({serve.serve.url, "--json"});
  const auto started = Clock::now();
  EXPECT_EQ(poll.wait(Clock::now() + 10s), 0);
  EXPECT_LT(Clock::now() - started, 3s) << "the long poll waited out its 5 s";
  const auto fresh = json_lines(poll.out());
  ASSERT_FALSE(fresh.empty());
  EXPECT_GT(fresh.front()["seq"].get<std::uint64_t>(), last);
  // An empty poll ends at its wait.
  const auto quiet_started = Clock::now();
  const auto quiet =
      curl("GET", serve.admin + "events?since=" + std::to_string(last + 1000) + "&wait=200ms");
  EXPECT_EQ(quiet.body, "");
  EXPECT_GE(Clock::now() - quiet_started, 200ms);
  // Cleared, and reset.
  EXPECT_EQ(curl("DELETE", serve.admin + "events").status, 200);
  EXPECT_EQ(curl("GET", serve.admin + "events").body, "");
  EXPECT_EQ(curl("POST", serve.admin + "faults", R"("idle-close=1s")").status, 201);
  EXPECT_EQ(curl("POST", serve.admin + "reset").status, 200);
  EXPECT_EQ(curl("GET", serve.admin + "faults").body, "[]");
  EXPECT_EQ(curl("GET", serve.admin + "events").body, "");
}

TEST(AdminApi, RemovesOneFaultByIdAndRefusesNonsense) {
  START_ADMIN_SERVE(serve);
  const auto put =
      curl("PUT", serve.admin + "faults", R"(["hold-headers=5s,path:/slow", "idle-close=1s"])");
  ASSERT_EQ(put.status, 200) << put.body;
  const auto faults = nlohmann::json::parse(put.body);
  ASSERT_EQ(faults.size(), 2u);
  const auto id = faults[0]["id"].get<std::uint64_t>();
  EXPECT_EQ(faults[0]["target"]["path"], "/slow");
  EXPECT_EQ(curl("DELETE", serve.admin + "faults/" + std::to_string(id)).status, 200);
  EXPECT_EQ(curl("DELETE", serve.admin + "faults/" + std::to_string(id)).status, 404);
  const auto left = nlohmann::json::parse(curl("GET", serve.admin + "faults").body);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["spec"], "idle-close=1s");
  EXPECT_EQ(curl("PUT", serve.admin + "faults", "not json").status, 400);
  EXPECT_EQ(curl("POST", serve.admin + "faults", R"({"spec": 3})").status, 400);
  EXPECT_EQ(curl("GET", serve.admin + "events?since=x").status, 400);
  EXPECT_EQ(curl("GET", serve.admin + "events?wait=forever").status, 400);
  EXPECT_EQ(curl("PATCH", serve.admin + "faults").status, 405);
  TemporaryDirectory directory;
  const auto big = directory.write("big.json", "[\"" + std::string(2 << 20, 'x') + "\"]");
  EXPECT_EQ(curl("PUT", serve.admin + "faults", "@" + big).status, 413);
  EXPECT_EQ(curl("GET", serve.admin + "nothing").status, 404);
  // The data listener never answers for the API.
  EXPECT_EQ(curl("GET", serve.serve.url + "faults").body, "ok");
}

#endif

TEST(AdminApi, BadAdminAddressIsAUsageError) {
  const auto run = run_program({"serve", "--admin", "nowhere:1"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--admin"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace tunedhttp::program::testing
