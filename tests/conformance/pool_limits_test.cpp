// Go: TestTransportMaxIdleConns, TestTransportMaxPerHostIdleConns,
// TestTransportCloseIdleConnsThenReturn, TestTransportIdleCacheKeys.
#include <condition_variable>
#include <mutex>

#include "conformance_support.hpp"

namespace tunedhttp::conformance {
namespace {

using mockserver::EventKind;

// Lets server scripts through one at a time, as Go's tests do with a channel.
class Gate {
 public:
  void open_one() {
    std::lock_guard lock(mutex_);
    ++tickets_;
    changed_.notify_all();
  }
  /// Takes a ticket; false at the deadline.
  bool pass(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_until(lock, deadline, [&] { return tickets_ > 0; })) return false;
    --tickets_;
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int tickets_ = 0;
};

// Go: MaxIdleConns = 4 and requests to ten hosts one after another: the idle set never exceeds
// four, and it is always the four most recently used hosts. Our hosts are six servers
// (scheme+host+port keys), so the cap has to evict across hosts.
TEST(GoTransport, TestTransportMaxIdleConns) {
  constexpr int hosts = 6;
  std::vector<std::unique_ptr<ScriptedServer>> servers;
  std::vector<std::atomic<int>> accepted(hosts);
  for (int i = 0; i < hosts; ++i) {
    servers.push_back(std::make_unique<ScriptedServer>(keep_alive_script(accepted[i])));
  }
  Settings settings;
  settings.max_all_idle_conns = 4;
  ClientFixture fixture(settings);

  for (int i = 0; i < hosts; ++i) {
    SCOPED_TRACE("host " + std::to_string(i));
    ASSERT_FALSE(fixture.request(get(servers[i]->url())).error);
    const auto stats = fixture.client().pool_stats();
    EXPECT_EQ(stats.idle, static_cast<std::uint64_t>(std::min(i + 1, 4)));
    for (int j = std::max(0, i - 3); j <= i; ++j) {
      const auto key = "http://127.0.0.1:" + std::to_string(servers[j]->port());
      EXPECT_EQ(stats.idle_per_host.count(key), 1u) << "recent host " << j << " not idle";
    }
  }
  EXPECT_EQ(closes(fixture.client().pool_stats(), CloseReason::global_cap), 2u);
}

// Go: MaxIdleConnsPerHost = 2 and three requests held by the server at once; as they finish
// one by one the host's idle list holds 1, then 2, then still 2 (the third is closed).
TEST(GoTransport, TestTransportMaxPerHostIdleConns) {
  Gate release;
  std::atomic<int> got_requests{0};
  ScriptedServer server([&](Peer& peer) {
    while (!peer.read_headers(Clock::now() + 5s).empty()) {
      const int n = ++got_requests;
      if (!release.pass(Clock::now() + 5s)) return;
      peer.write(ok_response("res" + std::to_string(n)));
    }
  });
  Settings settings;
  settings.max_host_idle_conns = 2;
  ClientFixture fixture(settings);
  const auto key = "http://127.0.0.1:" + std::to_string(server.port());

  std::vector<Outcome> outcomes(3);
  for (auto& outcome : outcomes) start_request(fixture, get(server.url()), outcome);
  ASSERT_TRUE(fixture.run_until([&] { return got_requests.load() == 3; }, 3s));
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u);

  const std::uint64_t want_idle[] = {1, 2, 2};
  for (std::size_t done = 1; done <= 3; ++done) {
    SCOPED_TRACE("after response " + std::to_string(done));
    release.open_one();
    ASSERT_TRUE(fixture.run_until(
        [&] {
          std::size_t finished = 0;
          for (const auto& outcome : outcomes) finished += outcome.completed ? 1 : 0;
          return finished == done;
        },
        3s));
    const auto stats = fixture.client().pool_stats();
    EXPECT_EQ(stats.idle_per_host.count(key) ? stats.idle_per_host.at(key) : 0u,
              want_idle[done - 1]);
    EXPECT_EQ(stats.idle_per_host.size(), 1u);
  }
  for (const auto& outcome : outcomes) EXPECT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(closes(fixture.client().pool_stats(), CloseReason::host_cap), 1u);
}

// Go: two idle connections; CloseIdleConnections empties the pool; a connection that comes
// back afterwards (it was busy during the call) is NOT pooled, until a new request asks for a
// connection — from then on connections are pooled again.
TEST(GoTransport, TestTransportCloseIdleConnsThenReturn) {
  Gate release;
  std::atomic<int> got_requests{0};
  std::atomic<bool> hold{false};
  ScriptedServer server([&](Peer& peer) {
    while (!peer.read_headers(Clock::now() + 5s).empty()) {
      ++got_requests;
      if (hold.load() && !release.pass(Clock::now() + 5s)) return;
      peer.write(ok_response());
    }
  });
  ClientFixture fixture;

  const auto two = fixture.parallel({get(server.url()), get(server.url())});
  ASSERT_FALSE(two[0].error || two[1].error);
  EXPECT_EQ(fixture.client().pool_stats().idle, 2u);
  fixture.client().close_idle_connections();
  EXPECT_EQ(fixture.client().pool_stats().idle, 0u) << "after close idle";
  EXPECT_EQ(closes(fixture.client().pool_stats(), CloseReason::client_closed), 2u);

  // A request in flight across close_idle_connections().
  hold = true;
  Outcome busy;
  start_request(fixture, get(server.url()), busy);
  ASSERT_TRUE(fixture.run_until([&] { return got_requests.load() == 3; }, 3s));
  fixture.client().close_idle_connections();
  release.open_one();
  ASSERT_TRUE(fixture.run_until([&] { return busy.completed; }, 3s));
  ASSERT_FALSE(busy.error) << busy.error.message();
  const auto returned_idle = fixture.client().pool_stats().idle;

  // A new request takes the transport out of its closed-idle state: pooled again.
  hold = false;
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  EXPECT_EQ(fixture.client().pool_stats().idle, 1u) << "not pooled after a new request";

  // Go: "put didn't fail" is fatal — the returning connection must not be kept.
  EXPECT_EQ(returned_idle, 0u) << "a connection returned after close_idle_connections was kept";
}

// Go: after one request the idle keys are exactly ["|http|host:port"]; after
// CloseIdleConnections there are none.
TEST(GoTransport, TestTransportIdleCacheKeys) {
  MockServer server({});
  ClientFixture fixture;
  EXPECT_TRUE(fixture.client().pool_stats().idle_per_host.empty());

  ASSERT_FALSE(fixture.request(get(server.url("/"))).error);
  auto stats = fixture.client().pool_stats();
  ASSERT_EQ(stats.idle_per_host.size(), 1u);
  EXPECT_EQ(stats.idle_per_host.begin()->first,
            "http://127.0.0.1:" + std::to_string(server.server().port()));
  EXPECT_EQ(stats.idle_per_host.begin()->second, 1u);

  fixture.client().close_idle_connections();
  stats = fixture.client().pool_stats();
  EXPECT_TRUE(stats.idle_per_host.empty()) << "idle keys left after close_idle_connections()";
  EXPECT_EQ(stats.idle, 0u);
  EXPECT_TRUE(server.events().wait_for(EventKind::closed_by_peer, 1, Clock::now() + 1s));
}

}  // namespace
}  // namespace tunedhttp::conformance
