// The idle pool: idle_conn, max_all_idle_conns, max_host_idle_conns, reuse and retry.
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <future>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;

// Serves keep-alive requests until the client closes; `delay_for` picks a per-connection delay
// before each response (by accept order, from 1).
ScriptedServer::Script keep_alive_script(
    std::atomic<int>& accepted,
    std::function<std::chrono::milliseconds(int)> delay_for = [](int) { return 0ms; }) {
  return [&accepted, delay_for](Peer& peer) {
    const int number = ++accepted;
    while (!peer.read_headers(Clock::now() + 5s).empty()) {
      if (const auto delay = delay_for(number); delay > 0ms) {
        peer.wait_readable(Clock::now() + delay);
      }
      peer.write(ok_response("conn" + std::to_string(number)));
    }
  };
}

TEST(Pool, SecondRequestReusesTheConnection) {
  std::atomic<int> accepted{0};
  ScriptedServer server(keep_alive_script(accepted));
  ClientFixture fixture;
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  const auto second = fixture.request(get(server.url()));
  ASSERT_FALSE(second.error) << second.error.message();
  const auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.dials, 1u);
  EXPECT_EQ(stats.reuses, 1u);
  EXPECT_EQ(server.accepted(), 1);
  const auto got = fixture.events(TracePoint::got_conn);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0].reused);
  EXPECT_TRUE(got[1].reused);
}

TEST(Pool, CheckoutIsLastInFirstOut) {
  std::atomic<int> accepted{0};
  // The second connection answers 100 ms later, so it goes back to the pool last.
  ScriptedServer server(keep_alive_script(accepted, [](int n) { return n == 2 ? 100ms : 0ms; }));
  ClientFixture fixture;
  const auto first = fixture.parallel({get(server.url()), get(server.url())});
  ASSERT_FALSE(first[0].error);
  ASSERT_FALSE(first[1].error);
  ASSERT_EQ(fixture.client().pool_stats().idle, 2u);
  const auto next = fixture.request(get(server.url()));
  ASSERT_FALSE(next.error);
  EXPECT_EQ(next.response.body(), "conn2") << "not the most recently idled connection";
}

TEST(Pool, HostCapClosesTheReturnedConnection) {
  std::atomic<int> accepted{0};
  ScriptedServer server(keep_alive_script(accepted, [](int n) { return n == 2 ? 100ms : 0ms; }));
  Settings settings;
  settings.max_host_idle_conns = 1;
  ClientFixture fixture(settings);
  const auto outcomes = fixture.parallel({get(server.url()), get(server.url())});
  ASSERT_FALSE(outcomes[0].error);
  ASSERT_FALSE(outcomes[1].error);
  auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.idle, 1u);
  EXPECT_EQ(stats.closes_by_reason[CloseReason::host_cap], 1u);
  const auto put = fixture.events(TracePoint::put_idle_conn);
  ASSERT_EQ(put.size(), 2u);
  EXPECT_EQ(put[0].detail, "");
  EXPECT_EQ(put[1].detail, "host_cap");
}

TEST(Pool, ZeroHostCapMeansTwo) {
  std::atomic<int> accepted{0};
  ScriptedServer server(keep_alive_script(accepted));
  Settings settings;
  settings.max_host_idle_conns = 0;
  ClientFixture fixture(settings);
  const auto outcomes = fixture.parallel({get(server.url()), get(server.url()), get(server.url())});
  for (const auto& outcome : outcomes) ASSERT_FALSE(outcome.error);
  auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.idle, 2u);
  EXPECT_EQ(stats.closes_by_reason[CloseReason::host_cap], 1u);
}

TEST(Pool, GlobalCapEvictsTheLeastRecentlyIdledOfAnyHost) {
  std::atomic<int> accepted_a{0};
  std::atomic<int> accepted_b{0};
  ScriptedServer a(keep_alive_script(accepted_a));
  ScriptedServer b(keep_alive_script(accepted_b));
  Settings settings;
  settings.max_all_idle_conns = 1;
  ClientFixture fixture(settings);
  ASSERT_FALSE(fixture.request(get(a.url())).error);
  ASSERT_FALSE(fixture.request(get(b.url())).error);
  auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.idle, 1u);
  EXPECT_EQ(stats.closes_by_reason[CloseReason::global_cap], 1u);
  ASSERT_EQ(stats.idle_per_host.size(), 1u);
  EXPECT_EQ(stats.idle_per_host.begin()->first, "http://127.0.0.1:" + std::to_string(b.port()));
  const auto closed = fixture.events(TracePoint::idle_conn_closed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].connection, 1u);
  EXPECT_EQ(closed[0].detail, "global_cap");
}

TEST(Pool, IdleTimeoutClosesFromTheClientSide) {
  std::promise<Clock::time_point> eof_seen;
  ScriptedServer server([&](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write(ok_response());
    if (peer.wait_eof(Clock::now() + 3s)) eof_seen.set_value(Clock::now());
  });
  Settings settings;
  settings.idle_conn = 300ms;
  ClientFixture fixture(settings);
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  auto future = eof_seen.get_future();
  fixture.run_until([&] { return future.wait_for(0s) == std::future_status::ready; }, 3s);
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready) << "the client never closed it";
  const auto put = fixture.at(TracePoint::put_idle_conn);
  ASSERT_TRUE(put);
  expect_fired_on_time(*put, future.get(), settings.idle_conn);
  EXPECT_EQ(fixture.client().pool_stats().closes_by_reason[CloseReason::idle_timeout], 1u);
  EXPECT_EQ(fixture.events(TracePoint::idle_conn_closed).size(), 1u);
}

TEST(Pool, IdleConnectionUsedWithinTheTimeoutIsReused) {
  std::atomic<int> accepted{0};
  ScriptedServer server(keep_alive_script(accepted));
  Settings settings;
  settings.idle_conn = 300ms;
  ClientFixture fixture(settings);
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  fixture.run_until([] { return false; }, 150ms);  // idle for half the limit
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  EXPECT_EQ(fixture.client().pool_stats().reuses, 1u);
  const auto got = fixture.events(TracePoint::got_conn);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_GE(got[1].idle_time, 140ms);
  EXPECT_LT(got[1].idle_time, 300ms);
}

TEST(Pool, ConnectionCloseIsNotReused) {
  ScriptedServer server([](Peer& peer) {
    peer.read_headers(Clock::now() + 2s);
    peer.write(ok_response("bye", "Connection: close\r\n"));
  });
  ClientFixture fixture;
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  EXPECT_EQ(fixture.client().pool_stats().dials, 2u);
  EXPECT_EQ(fixture.client().pool_stats().closes_by_reason[CloseReason::not_reusable], 2u);
}

TEST(Pool, ResponseHeaderTimeoutIsNeverPooled) {
  std::atomic<int> accepted{0};
  ScriptedServer server([&](Peer& peer) {
    const int number = ++accepted;
    peer.read_headers(Clock::now() + 2s);
    if (number == 1) {
      peer.wait_eof(Clock::now() + 3s);
      return;
    }
    peer.write(ok_response());
  });
  Settings settings;
  settings.response_header = 200ms;
  ClientFixture fixture(settings);
  EXPECT_EQ(fixture.request(get(server.url())).error, errc::response_header_timeout);
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  EXPECT_EQ(fixture.client().pool_stats().dials, 2u);
  EXPECT_EQ(fixture.client().pool_stats().reuses, 0u);
}

TEST(Pool, ServerClosedIdleConnectionIsNotHandedOut) {
  std::atomic<int> accepted{0};
  ScriptedServer server([&](Peer& peer) {
    ++accepted;
    peer.read_headers(Clock::now() + 2s);
    peer.write(ok_response());
    peer.close();  // drops the keep-alive connection without saying so
  });
  ClientFixture fixture;
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  // Wait until our side can see the EOF, as a real idle gap would allow.
  fixture.run_until([] { return false; }, 50ms);
  const auto second = fixture.request(get(server.url()));
  ASSERT_FALSE(second.error) << second.error.message();
  auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.dials, 2u);
  EXPECT_EQ(stats.closes_by_reason[CloseReason::server_closed], 1u);
  EXPECT_EQ(stats.retries, 0u);
}

// The server reads a second request on the kept connection, then closes without answering:
// the race Go's retry rule exists for.
ScriptedServer::Script closes_on_second_request(std::atomic<int>& accepted) {
  return [&accepted](Peer& peer) {
    const int number = ++accepted;
    for (int served = 0; !peer.read_headers(Clock::now() + 2s).empty(); ++served) {
      if (number == 1 && served == 1) return;  // drop it mid-exchange
      peer.write(ok_response("ok" + std::to_string(number)));
    }
  };
}

TEST(Pool, StaleConnectionIsRetriedOnceForIdempotentRequests) {
  std::atomic<int> accepted{0};
  ScriptedServer server(closes_on_second_request(accepted));
  ClientFixture fixture;
  ASSERT_FALSE(fixture.request(get(server.url())).error);
  const auto second = fixture.request(get(server.url()));
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "ok2");
  EXPECT_EQ(fixture.client().pool_stats().retries, 1u);
}

TEST(Pool, WrittenNonIdempotentRequestIsNotRetried) {
  std::atomic<int> accepted{0};
  ScriptedServer server(closes_on_second_request(accepted));
  ClientFixture fixture;
  ASSERT_FALSE(fixture.request(make_request(http::verb::post, server.url(), "a")).error);
  const auto second = fixture.request(make_request(http::verb::post, server.url(), "b"));
  EXPECT_EQ(second.error, errc::server_closed_connection) << second.error.message();
  EXPECT_EQ(fixture.client().pool_stats().retries, 0u);
  EXPECT_EQ(accepted.load(), 1);
}

// The server answers the first request on each connection. The first connection it closes
// once the test says the client has pooled it (after the client's idle read has started), and
// then tells the test: the client's kernel has the FIN before the next request starts, while the
// client's event loop (run only inside fixture.request) has not seen it.
struct ClosesWhenPooled {
  std::atomic<int> accepted{0};
  std::promise<void> pooled;
  std::promise<void> closed;

  ScriptedServer::Script script() {
    return [this](Peer& peer) {
      const int number = ++accepted;
      if (peer.read_headers(Clock::now() + 2s).empty()) return;
      peer.write(ok_response("conn" + std::to_string(number)));
      if (number > 1) {
        peer.wait_eof(Clock::now() + 2s);
        return;
      }
      if (pooled.get_future().wait_for(2s) != std::future_status::ready) return;
      peer.close();
      closed.set_value();
    };
  }

  // Runs the first request, then has the server close its connection.
  void first_request_then_close(ClientFixture& fixture, const std::string& url) {
    ASSERT_FALSE(fixture.request(get(url)).error);
    ASSERT_EQ(fixture.client().pool_stats().idle, 1u);
    pooled.set_value();
    ASSERT_EQ(closed.get_future().wait_for(2s), std::future_status::ready);
  }
};

// Go's readLoop race: the server closed the idle connection, and the request took it before the
// event loop ran the idle read. The request adopts that read (IdleRead): EOF before any response
// byte on a reused connection, so a GET is tried again on a new connection (Go retries
// errServerClosedIdle), and the checkout made no system call to find out.
TEST(Pool, CloseTheLoopHasNotSeenIsRetriedForAReplayableRequest) {
  ClosesWhenPooled closes;
  ScriptedServer server(closes.script());
  ClientFixture fixture;
  closes.first_request_then_close(fixture, server.url());
  if (HasFatalFailure()) return;

  const auto second = fixture.request(get(server.url()));
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "conn2");
  const auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.retries, 1u);
  EXPECT_EQ(stats.dials, 2u);
  const auto got = fixture.events(TracePoint::got_conn);
  ASSERT_EQ(got.size(), 3u);  // first request; second's reused attempt; its retry
  EXPECT_TRUE(got[1].reused);
  EXPECT_FALSE(got[2].reused);
}

// The same race for a request Go would not send twice (a POST without an idempotency key): the
// idle connection is peeked at before it is handed out, so the close is found before anything
// is written, and the request goes on a new connection with no retry and no error.
TEST(Pool, CloseTheLoopHasNotSeenIsProbedForANonReplayableRequest) {
  ClosesWhenPooled closes;
  ScriptedServer server(closes.script());
  ClientFixture fixture;
  closes.first_request_then_close(fixture, server.url());
  if (HasFatalFailure()) return;

  const auto second = fixture.request(make_request(http::verb::post, server.url(), "b"));
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "conn2");
  const auto stats = fixture.client().pool_stats();
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_EQ(stats.dials, 2u);
  EXPECT_EQ(stats.closes_by_reason.at(CloseReason::server_closed), 1u);
  const auto got = fixture.events(TracePoint::got_conn);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[1].reused);
}

TEST(Pool, ManyWorkersThroughOneClient) {
  constexpr int workers = 64;
  constexpr int per_worker = 50;
  for (const int host_cap : {100, 10}) {
    SCOPED_TRACE("max_host_idle_conns=" + std::to_string(host_cap));
    const int fds_before = open_fd_count();
    {
      std::atomic<int> accepted{0};
      ScriptedServer server(keep_alive_script(accepted));
      Settings settings;
      settings.max_host_idle_conns = host_cap;
      settings.max_all_idle_conns = 100;
      ClientFixture fixture(settings);
      int finished = 0;
      int failures = 0;
      std::function<void(int)> next = [&](int remaining) {
        fixture.client().async_request(get(server.url()),
                                       [&, remaining](boost::system::error_code ec, Response) {
                                         if (ec) ++failures;
                                         if (remaining > 1) {
                                           next(remaining - 1);
                                         } else {
                                           ++finished;
                                         }
                                       });
      };
      for (int i = 0; i < workers; ++i) next(per_worker);
      ASSERT_TRUE(fixture.run_until([&] { return finished == workers; }, 30s));
      EXPECT_EQ(failures, 0);
      auto stats = fixture.client().pool_stats();
      // Every request ran on a connection it dialed or one it reused; a dial that lost the
      // race to a returned connection became a spare, so dials + reuses can exceed requests.
      EXPECT_GE(stats.dials + stats.reuses, static_cast<std::uint64_t>(workers * per_worker));
      EXPECT_GE(stats.dials, static_cast<std::uint64_t>(workers));
      // Every dialed connection is accounted for: still idle, or closed for a reason.
      std::uint64_t closed = 0;
      for (const auto& [reason, count] : stats.closes_by_reason) closed += count;
      EXPECT_EQ(stats.dials, stats.idle + closed);
      EXPECT_EQ(stats.closes_by_reason[CloseReason::error], 0u);
      if (host_cap >= workers) {
        EXPECT_EQ(stats.closes_by_reason[CloseReason::host_cap], 0u);
        EXPECT_EQ(stats.idle, stats.dials);
      } else {
        EXPECT_EQ(stats.idle, static_cast<std::uint64_t>(host_cap));
        EXPECT_GT(stats.closes_by_reason[CloseReason::host_cap], 0u);
      }
    }
    EXPECT_EQ(open_fd_count(), fds_before) << "a socket leaked";
  }
}

}  // namespace
}  // namespace tunedhttp::testing

namespace tunedhttp::testing {
namespace {

// Requests complete on several threads at once; the pool, the counters and the trace hook must
// hold up (run under ThreadSanitizer in CI). Over TLS, an idle connection's read in flight and
// the next request's write on another thread share one connection.
void share_one_client_across_threads(bool tls) {
  constexpr int workers = 16;
  constexpr int per_worker = 20;
  std::atomic<int> accepted{0};
  ScriptedServer server(keep_alive_script(accepted),
                        tls ? std::optional(localhost_material()) : std::nullopt);
  boost::asio::thread_pool threads(4);
  std::atomic<int> traced{0};
  ClientOptions options;
  if (tls) options.tls = trusting_localhost();
  options.settings.max_host_idle_conns = 4;
  options.trace = [&](const TraceEvent&) { ++traced; };
  auto client = std::make_unique<Client>(threads.get_executor(), options);
  std::atomic<int> finished{0};
  std::atomic<int> failures{0};
  std::promise<void> all_done;
  std::function<void(int)> next = [&](int remaining) {
    client->async_request(get(server.url()),
                          [&, remaining](boost::system::error_code ec, Response) {
                            if (ec) ++failures;
                            if (remaining > 1) {
                              next(remaining - 1);
                            } else if (++finished == workers) {
                              all_done.set_value();
                            }
                          });
  };
  for (int i = 0; i < workers; ++i) next(per_worker);
  ASSERT_EQ(all_done.get_future().wait_for(30s), std::future_status::ready) << "requests hung";
  EXPECT_EQ(failures.load(), 0);
  auto stats = client->pool_stats();
  EXPECT_GE(stats.dials + stats.reuses, static_cast<std::uint64_t>(workers * per_worker));
  EXPECT_LE(stats.idle, 4u);
  EXPECT_GT(traced.load(), workers * per_worker);
  EXPECT_GT(stats.reuses, 0u);
  client.reset();
  threads.join();
}

TEST(Pool, ThreadPoolExecutorShareOneClient) { share_one_client_across_threads(false); }

TEST(Pool, ThreadPoolExecutorShareOneClientOverTls) { share_one_client_across_threads(true); }

// Serial executors (an io_context told it has one thread, or a strand) run requests without a
// strand of their own: parallel requests still complete, reuse and keep the pool's counts.
// `wait_for(n)` returns once n requests have finished (or gives up after its deadline).
void expect_two_parallel_rounds(Client& client, const std::string& url, std::atomic<int>& finished,
                                const std::function<void(int)>& wait_for) {
  std::atomic<int> failures{0};
  for (int round = 1; round <= 2; ++round) {
    for (int i = 0; i < 4; ++i) {
      client.async_request(get(url), [&](boost::system::error_code ec, Response) {
        if (ec) ++failures;
        ++finished;
      });
    }
    // The second round starts after the first has finished, so it reuses its connections.
    wait_for(4 * round);
    ASSERT_EQ(finished.load(), 4 * round) << "requests hung";
  }
  EXPECT_EQ(failures.load(), 0);
  // Each request got its own dial or a reused connection; dials that lost the race feed the
  // pool. With the default host cap of 2, the second round reuses at least two. A request of the
  // second round that missed them starts a dial, and Go's hand-off may serve it first: that dial
  // is counted when it ends, before or after this look, so the bound is one dial per request.
  const auto stats = client.pool_stats();
  EXPECT_GE(stats.dials + stats.reuses, 8u);
  EXPECT_LE(stats.dials, 8u);
  EXPECT_GE(stats.reuses, 2u);
}

TEST(Pool, OneThreadIoContextNeedsNoStrand) {
  std::atomic<int> accepted{0};
  ScriptedServer server(keep_alive_script(accepted));
  boost::asio::io_context one_thread{1};
  Client client(one_thread.get_executor(), Settings{});
  std::atomic<int> finished{0};
  expect_two_parallel_rounds(client, server.url(), finished, [&](int count) {
    const auto deadline = Clock::now() + 10s;
    while (finished.load() < count && Clock::now() < deadline) one_thread.run_one_for(100ms);
  });
}

TEST(Pool, StrandExecutorNeedsNoStrandOfItsOwn) {
  std::atomic<int> accepted{0};
  ScriptedServer server(keep_alive_script(accepted));
  boost::asio::thread_pool threads(2);
  {
    Client client(boost::asio::make_strand(threads.get_executor()), Settings{});
    std::atomic<int> finished{0};
    expect_two_parallel_rounds(client, server.url(), finished, [&](int count) {
      const auto deadline = Clock::now() + 10s;
      while (finished.load() < count && Clock::now() < deadline) std::this_thread::yield();
    });
  }
  threads.join();
}

}  // namespace
}  // namespace tunedhttp::testing
