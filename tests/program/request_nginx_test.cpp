// `tunedhttp request` against a server nobody here wrote: Debian's nginx, started per
// test with a generated config on an ephemeral port. Reuse across --count, --idle-conn closing
// from our side, nginx's own keepalive_timeout survived, a 100-continue PUT, TLS verification.
#include <set>

#include "program_test_support.hpp"

namespace tunedhttp::program::testing {
namespace {

TEST(RequestNginx, CountFiveDialsOnceAndReusesFourTimes) {
  START_NGINX(nginx);
  const auto run = run_request({nginx.url(), "--count", "5", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 5u) << run.out;
  for (std::size_t i = 0; i < run.lines.size(); ++i) {
    const auto& line = run.lines[i];
    EXPECT_EQ(line["status"], 200) << line.dump();
    EXPECT_TRUE(line["error"].is_null()) << line.dump();
    EXPECT_EQ(line["seq"], i + 1) << line.dump();
    EXPECT_EQ(line["reused"], i > 0) << "request " << i + 1 << ": " << line.dump();
    EXPECT_EQ(line["connection"], 1) << "got another dial: " << line.dump();
    EXPECT_EQ(line["bytes"], std::string("hello from nginx\n").size());
    // Only the first request dials.
    EXPECT_EQ(line["trace"].contains("dial_start"), i == 0) << line.dump();
  }
}

TEST(RequestNginx, BodyGoesToStdoutWithoutJson) {
  START_NGINX(nginx);
  const auto run = run_request({nginx.url("index.html"), "-v"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "hello from nginx\n");
  EXPECT_NE(run.err.find("* #1.1 200 OK"), std::string::npos) << run.err;
}

TEST(RequestNginx, ParallelWorkersShareOneClient) {
  START_NGINX(nginx);
  // Not "every later request is reused": as in Go, a connection returned while another worker
  // waits for its dial is handed to that worker, and the returning worker's next request may
  // then dial (seen under ASan). Some later request is reused, and fewer connections than
  // requests are made.
  const auto run = run_request(
      {nginx.url(), "--parallel", "3", "--count", "3", "--max-host-idle-conns", "3", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 9u) << run.out;
  std::set<std::pair<int, int>> seen;
  std::set<int> connections;
  int later_reused = 0;
  for (const auto& line : run.lines) {
    EXPECT_EQ(line["status"], 200) << line.dump();
    seen.emplace(line["worker"].get<int>(), line["seq"].get<int>());
    connections.insert(line["connection"].get<int>());
    if (line["seq"] != 1 && line["reused"] == true) ++later_reused;
  }
  EXPECT_GT(later_reused, 0) << run.out;
  EXPECT_EQ(seen.size(), 9u) << "each (worker, seq) once";
  // Not "at most three connections": as in Go, a request waiting for its dial takes a connection
  // returned meanwhile, and the dial's connection goes to the pool for the next request (seen
  // under TSan: five connections, every later request reused).
  EXPECT_LT(connections.size(), seen.size()) << "the workers share connections";
}

// Three requests at once need three connections; the idle caps decide how many stay. One thread
// starts all three before any answer can come back (with more, a slow start may find one
// already returned and reuse it).
TEST(RequestNginx, HostIdleCapClosesTheReturnedConnections) {
  START_NGINX(nginx);
  const auto run = run_request(
      {nginx.url(), "--parallel", "3", "--threads", "1", "--max-host-idle-conns", "1", "-v"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("pool: 3 dials, 0 reuses"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("2 closed host_cap"), std::string::npos) << run.err;
}

TEST(RequestNginx, GlobalIdleCapEvictsTheLeastRecentlyIdled) {
  START_NGINX(nginx);
  const auto run = run_request(
      {nginx.url(), "--parallel", "3", "--threads", "1", "--max-idle-conns", "1", "-v"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("pool: 3 dials, 0 reuses"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("2 closed global_cap"), std::string::npos) << run.err;
}

// idle_conn (90s by default) shorter than nginx's keepalive_timeout (60s here): after a pause
// longer than --idle-conn our pool closes the connection itself, so the next request dials.
TEST(RequestNginx, IdleConnShorterThanKeepaliveTimeoutClosesFromOurSide) {
  START_NGINX(nginx, NginxOptions{.keepalive_timeout = "60s"});
  const auto run = run_request(
      {nginx.url(), "--count", "2", "--interval", "700ms", "--idle-conn", "200ms", "--json", "-v"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 2u) << run.out;
  EXPECT_EQ(run.lines[1]["status"], 200);
  EXPECT_EQ(run.lines[1]["reused"], false) << run.lines[1].dump();
  EXPECT_EQ(run.lines[1]["connection"], 2) << run.lines[1].dump();
  EXPECT_NE(run.err.find("connection 1 closed while idle: idle_timeout"), std::string::npos)
      << "got stderr " << run.err << "; want the pool's idle_timeout close of connection 1";
  // nginx saw the client close its kept-alive connection.
  EXPECT_NE(nginx.error_log().find("client 127.0.0.1 closed keepalive connection"),
            std::string::npos)
      << nginx.error_log();
}

// The twin: the same pause inside --idle-conn keeps the connection.
TEST(RequestNginx, PauseInsideIdleConnReuses) {
  START_NGINX(nginx, NginxOptions{.keepalive_timeout = "60s"});
  const auto run = run_request(
      {nginx.url(), "--count", "2", "--interval", "300ms", "--idle-conn", "3s", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 2u) << run.out;
  EXPECT_EQ(run.lines[1]["reused"], true) << run.lines[1].dump();
  EXPECT_GE(run.lines[1]["idle_ms"].get<double>(), 300.0) << run.lines[1].dump();
}

// nginx's keepalive_timeout shorter than our pause: nginx closes the idle connection; the next
// request must not fail (the close is seen while idle, or the request is retried).
void expect_stale_connection_survived(const std::vector<std::string>& extra) {
  START_NGINX(nginx, NginxOptions{.keepalive_timeout = "300ms"});
  std::vector<std::string> args = {
      nginx.url("upload/stale.txt"), "--count", "3", "--interval", "800ms", "--json", "-v"};
  args.insert(args.end(), extra.begin(), extra.end());
  if (extra.empty()) args[0] = nginx.url();
  const auto run = run_request(args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 3u) << run.out;
  std::uint64_t previous_connection = 0;
  for (const auto& line : run.lines) {
    EXPECT_TRUE(line["error"].is_null()) << line.dump();
    EXPECT_TRUE(line["status"].is_number()) << line.dump();
    // Never the connection nginx closed: a fresh one each time.
    EXPECT_EQ(line["reused"], false) << line.dump();
    EXPECT_GT(line["connection"].get<std::uint64_t>(), previous_connection) << line.dump();
    previous_connection = line["connection"].get<std::uint64_t>();
  }
}

TEST(RequestNginx, NginxKeepaliveTimeoutShorterThanOursIsSurvivedByGet) {
  expect_stale_connection_survived({});
}

TEST(RequestNginx, NginxKeepaliveTimeoutShorterThanOursIsSurvivedByPut) {
  // PUT is not replayable by Go's rules (no Idempotency-Key), so once written it would not be
  // retried: the pool itself must notice nginx's close while the connection is idle.
  expect_stale_connection_survived({"-X", "PUT", "--data", "stale"});
}

TEST(RequestNginx, ExpectContinuePutGetsTheHundredAndSucceeds) {
  START_NGINX(nginx);
  const auto run =
      run_request({nginx.url("upload/continue.txt"), "-X", "PUT", "--data", "body after 100", "-H",
                   "Expect: 100-continue", "--expect-continue", "5s", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  const auto& line = run.lines[0];
  EXPECT_EQ(line["status"], 201) << line.dump();
  const double waited = trace_ms(line, "wait_100_continue");
  const double continued = trace_ms(line, "got_100_continue");
  const double wrote = trace_ms(line, "wrote_request");
  EXPECT_LE(waited, continued);
  EXPECT_LE(continued, wrote);
  // The body left on the 100, not on the 5s timer.
  EXPECT_LT(wrote - waited, 1000.0) << line.dump();
}

TEST(RequestNginx, TlsFailsVerificationWithoutCacert) {
  START_NGINX(nginx, NginxOptions{.tls = true});
  const auto run = run_request({nginx.url(), "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  EXPECT_EQ(run.lines[0]["error"], "certificate_verify_failed") << run.lines[0].dump();
  EXPECT_TRUE(run.lines[0]["status"].is_null());
}

TEST(RequestNginx, TlsSucceedsWithCacertAndReuses) {
  START_NGINX(nginx, NginxOptions{.tls = true});
  const auto run =
      run_request({nginx.url(), "--cacert", nginx.certificate(), "--count", "2", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 2u) << run.out;
  EXPECT_EQ(run.lines[0]["status"], 200) << run.lines[0].dump();
  trace_ms(run.lines[0], "tls_handshake_done");
  EXPECT_EQ(run.lines[1]["reused"], true) << run.lines[1].dump();
  EXPECT_FALSE(run.lines[1]["trace"].contains("tls_handshake_start"))
      << "a reuse needs no handshake";
}

TEST(RequestNginx, TlsInsecureSkipsVerification) {
  START_NGINX(nginx, NginxOptions{.tls = true});
  const auto run = run_request({nginx.url(), "--insecure", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 1u) << run.out;
  EXPECT_EQ(run.lines[0]["status"], 200);
}

}  // namespace
}  // namespace tunedhttp::program::testing
