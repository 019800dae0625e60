// A request without a body on a pooled connection: each test warms a connection with a first
// request, then checks the second, which takes that connection, on each driver: async_request's
// lean path (client/src/bodiless_exchange.hpp) and the coroutines. In the serial/ run of
// client_tests (CMakeLists.txt) their handlers run on the client's serial executor; in the other
// run, on a strand of the request's own. All four must behave as the coroutines do for a dialed
// connection, so they are held to the same assertions.
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;

// A server that answers every connection's first request with ok_response() and hands the
// second to `second` (which returns false to end the connection). Later requests get
// ok_response() again.
ScriptedServer::Script warm_then(std::function<bool(Peer&)> second) {
  return [second = std::move(second)](Peer& peer) {
    for (int served = 0;; ++served) {
      if (peer.read_headers(Clock::now() + 3s).empty()) return;
      if (served == 1) {
        if (!second(peer)) return;
      } else {
        peer.write(ok_response());
      }
    }
  };
}

// The trace points of request `request`, in order.
std::vector<TracePoint> points_of(const ClientFixture& fixture, std::uint64_t request) {
  std::vector<TracePoint> points;
  for (const auto& event : fixture.events()) {
    if (event.request == request) points.push_back(event.point);
  }
  return points;
}

// Which driver carries the request that takes the pooled connection.
enum class Driver { lean, coroutines };

// Each test runs over plain connections and over TLS, and on each driver: the lean path, and
// the coroutines, which a body timer sends it to (Client's lean_path_fits). One hour of
// body_read_idle never fires in a test, and the coroutines then hold the pooled connection to
// the same assertions.
class PooledExchange : public ::testing::TestWithParam<std::tuple<bool, Driver>> {
 protected:
  bool tls() const { return std::get<0>(GetParam()); }
  Settings settings_for(Settings settings) const {
    if (std::get<1>(GetParam()) == Driver::coroutines) settings.body_read_idle = 1h;
    return settings;
  }
  ClientOptions options_for(Settings settings = {}) const {
    ClientOptions options;
    options.settings = settings_for(settings);
    if (tls()) options.tls = trusting_localhost();
    return options;
  }
  std::unique_ptr<ScriptedServer> serve(ScriptedServer::Script script) const {
    return std::make_unique<ScriptedServer>(
        std::move(script), tls() ? std::optional(localhost_material()) : std::nullopt);
  }
  std::unique_ptr<ClientFixture> client(Settings settings = {}) const {
    return std::make_unique<ClientFixture>(options_for(settings));
  }
};

INSTANTIATE_TEST_SUITE_P(Drivers, PooledExchange,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Values(Driver::lean, Driver::coroutines)),
                         [](const ::testing::TestParamInfo<std::tuple<bool, Driver>>& param) {
                           return std::string(std::get<0>(param.param) ? "tls" : "plain") +
                                  (std::get<1>(param.param) == Driver::lean ? "_lean"
                                                                            : "_coroutines");
                         });

// Runs the warm-up request; the test's own is then request 2, on the same connection.
void warm(ClientFixture& fixture, const ScriptedServer& server) {
  const auto first = fixture.request(get(server.url()));
  ASSERT_FALSE(first.error) << first.error.message();
  ASSERT_EQ(fixture.client().pool_stats().idle, 1u);
}

// Request 2 took the warm connection.
void expect_reused(const ClientFixture& fixture) {
  for (const auto& event : fixture.events(TracePoint::got_conn)) {
    if (event.request == 2) {
      EXPECT_TRUE(event.reused) << "request 2 did not take the pooled connection";
      return;
    }
  }
  ADD_FAILURE() << "request 2 got no connection";
}

TEST_P(PooledExchange, TracesEveryPointInGosOrder) {
  const auto server = serve(warm_then([](Peer& peer) {
    peer.write(ok_response("second"));
    return true;
  }));
  const auto fixture = client();
  warm(*fixture, *server);

  const auto outcome = fixture->request(get(server->url()));

  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "second");
  expect_reused(*fixture);
  const std::vector<TracePoint> expected{TracePoint::get_conn,
                                         TracePoint::got_conn,
                                         TracePoint::wrote_headers,
                                         TracePoint::wrote_request,
                                         TracePoint::got_first_response_byte,
                                         TracePoint::got_response_headers,
                                         TracePoint::response_done,
                                         TracePoint::put_idle_conn};
  EXPECT_EQ(points_of(*fixture, 2), expected);
  EXPECT_EQ(fixture->client().pool_stats().idle, 1u);
  EXPECT_EQ(server->accepted(), 1);
}

// Of each pair, the first request dials, so the coroutines send it; the second takes the pooled
// connection (the lean path in the serial/ run). The server must see the same bytes from both,
// for a bare request and for one with fields of its own.
TEST_P(PooledExchange, SendsTheBytesAFreshConnectionSends) {
  std::mutex mutex;
  std::vector<std::string> heads;
  const auto server = serve([&](Peer& peer) {
    for (;;) {
      auto head = peer.read_headers(Clock::now() + 3s);
      if (head.empty()) return;
      {
        std::lock_guard lock(mutex);
        heads.push_back(std::move(head));
      }
      peer.write(ok_response());
    }
  });
  const auto fixture = client();
  auto with_fields = get(server->url("/p?q=1"));
  with_fields.set(http::field::user_agent, "mine/1");
  with_fields.set("X-Trace", "7");
  for (const auto& request : {get(server->url("/p?q=1")), with_fields}) {
    fixture->client().close_idle_connections();  // the first of the two dials
    for (int i = 0; i < 2; ++i) {
      const auto outcome = fixture->request(request);
      ASSERT_FALSE(outcome.error) << outcome.error.message();
    }
  }

  EXPECT_EQ(server->accepted(), 2);
  std::lock_guard lock(mutex);
  ASSERT_EQ(heads.size(), 4u);
  const std::string host = "Host: 127.0.0.1:" + std::to_string(server->port()) + "\r\n";
  EXPECT_EQ(heads[0], "GET /p?q=1 HTTP/1.1\r\n" + host + "User-Agent: tunedhttp/0.1\r\n\r\n");
  EXPECT_EQ(heads[1], heads[0]);
  EXPECT_EQ(heads[2],
            "GET /p?q=1 HTTP/1.1\r\nUser-Agent: mine/1\r\nX-Trace: 7\r\n" + host + "\r\n");
  EXPECT_EQ(heads[3], heads[2]);
}

TEST_P(PooledExchange, ResponseHeaderFiresOnTime) {
  std::promise<bool> client_closed;
  const auto server = serve(warm_then([&](Peer& peer) {
    client_closed.set_value(peer.wait_eof(Clock::now() + 3s));  // hold the headers
    return false;
  }));
  Settings settings;
  settings.response_header = 300ms;
  const auto fixture = client(settings);
  warm(*fixture, *server);

  const auto outcome = fixture->request(get(server->url()));

  ASSERT_TRUE(outcome.completed) << "the request hung";
  EXPECT_EQ(outcome.error, errc::response_header_timeout) << outcome.error.message();
  expect_reused(*fixture);
  const auto written = fixture->at(TracePoint::wrote_request, 2);
  ASSERT_TRUE(written);
  expect_fired_on_time(*written, outcome.finished, settings.response_header);
  EXPECT_TRUE(client_closed.get_future().get()) << "the client kept the connection open";
  EXPECT_EQ(fixture->client().pool_stats().idle, 0u);
  EXPECT_EQ(fixture->client().pool_stats().retries, 0u) << "a timeout is not retried";
}

TEST_P(PooledExchange, HeadersInsideTheLimitKeepTheConnection) {
  const auto server = serve(warm_then([](Peer& peer) {
    peer.wait_readable(Clock::now() + 150ms);  // think (nothing more will come)
    peer.write(ok_response("late"));
    return true;
  }));
  Settings settings;
  settings.response_header = 300ms;
  const auto fixture = client(settings);
  warm(*fixture, *server);

  const auto outcome = fixture->request(get(server->url()));

  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "late");
  const auto written = fixture->at(TracePoint::wrote_request, 2);
  const auto headers = fixture->at(TracePoint::got_response_headers, 2);
  ASSERT_TRUE(written && headers);
  EXPECT_GE(*headers - *written, 140ms);
  EXPECT_EQ(fixture->client().pool_stats().idle, 1u);
  // The timer armed for request 2 is gone: a third request on the connection is not cut short.
  const auto third = fixture->request(get(server->url()));
  EXPECT_FALSE(third.error) << third.error.message();
  EXPECT_EQ(server->accepted(), 1);
}

TEST_P(PooledExchange, InformationalResponsesThenACloseDelimitedBody) {
  const auto server = serve(warm_then([tls = tls()](Peer& peer) {
    peer.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n");
    peer.write("HTTP/1.1 200 OK\r\n\r\nuntil the end");
    // The end of the body is the close; over TLS a close without close_notify is a truncation.
    if (tls) peer.send_close_notify();
    return false;
  }));
  const auto fixture = client();
  warm(*fixture, *server);

  const auto outcome = fixture->request(get(server->url()));

  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "until the end");
  const auto points = points_of(*fixture, 2);
  EXPECT_NE(std::find(points.begin(), points.end(), TracePoint::got_1xx_response), points.end());
  EXPECT_EQ(fixture->client().pool_stats().idle, 0u)
      << "a close-delimited body ends its connection";
}

TEST_P(PooledExchange, HeadResponseHasNoBody) {
  const auto server = serve(warm_then([](Peer& peer) {
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    return true;
  }));
  const auto fixture = client();
  warm(*fixture, *server);

  const auto outcome = fixture->request(make_request(http::verb::head, server->url()));

  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "");
  EXPECT_EQ(outcome.response[http::field::content_length], "5");
  // Still in sync: the next request reads its own response on the same connection.
  const auto third = fixture->request(get(server->url()));
  ASSERT_FALSE(third.error) << third.error.message();
  EXPECT_EQ(third.response.body(), "ok");
  EXPECT_EQ(server->accepted(), 1);
}

TEST_P(PooledExchange, MalformedResponseFailsWithoutRetry) {
  const auto server = serve(warm_then([](Peer& peer) {
    peer.write("HTTP/1.1 2OO OK\r\n\r\n");
    return false;
  }));
  const auto fixture = client();
  warm(*fixture, *server);

  const auto outcome = fixture->request(get(server->url()));

  EXPECT_EQ(outcome.error, errc::malformed_response) << outcome.error.message();
  EXPECT_EQ(fixture->client().pool_stats().retries, 0u) << "response bytes came: no retry";
  EXPECT_EQ(fixture->client().pool_stats().idle, 0u);
  EXPECT_EQ(server->accepted(), 1);
}

TEST_P(PooledExchange, ClosedWithoutAnAnswerIsRetriedOnANewConnection) {
  const auto server = serve(warm_then([](Peer& /*peer*/) {
    return false;  // read the request, answer nothing, close
  }));
  const auto fixture = client();
  warm(*fixture, *server);

  const auto outcome = fixture->request(get(server->url()));

  ASSERT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.response.body(), "ok");
  EXPECT_EQ(fixture->client().pool_stats().retries, 1u);
  EXPECT_EQ(server->accepted(), 2) << "the retry dials a new connection";
  EXPECT_EQ(fixture->events(TracePoint::get_conn).size(), 3u)
      << "one get_conn for the warm-up, one for each attempt of request 2";
}

TEST_P(PooledExchange, NotRetriedWhenNotReplayable) {
  const auto server = serve(warm_then([](Peer& /*peer*/) { return false; }));
  const auto fixture = client();
  warm(*fixture, *server);

  auto post = make_request(http::verb::post, server->url());
  post.content_length(0);
  const auto outcome = fixture->request(post);

  EXPECT_EQ(outcome.error, errc::server_closed_connection) << outcome.error.message();
  EXPECT_EQ(fixture->client().pool_stats().retries, 0u) << "a POST is not sent twice";
  EXPECT_EQ(server->accepted(), 1);
}

TEST_P(PooledExchange, CancelledWhileWaitingForHeaders) {
  std::promise<bool> client_closed;
  const auto server = serve(warm_then([&](Peer& peer) {
    client_closed.set_value(peer.wait_eof(Clock::now() + 3s));
    return false;
  }));
  const auto fixture = client();
  warm(*fixture, *server);

  Clock::time_point cancelled_at;
  const auto outcome = request_with_deadline(*fixture, get(server->url()), 200ms, cancelled_at);

  ASSERT_TRUE(outcome.completed) << "the request hung";
  EXPECT_EQ(outcome.error, boost::asio::error::operation_aborted) << outcome.error.message();
  EXPECT_GE(outcome.finished, cancelled_at);
  EXPECT_LT(outcome.finished - cancelled_at, timing_tolerance());
  EXPECT_TRUE(client_closed.get_future().get()) << "the client kept the connection open";
  EXPECT_EQ(fixture->client().pool_stats().idle, 0u);
}

// A request still waiting for its response when its client and io_context are destroyed (a
// program shutting down): its connection's socket is closed, not kept open by the request and
// the idle read it adopted holding each other.
TEST_P(PooledExchange, DestroyedWhileWaitingClosesTheSocket) {
  std::promise<bool> client_closed;
  const auto server = serve(warm_then([&](Peer& peer) {
    client_closed.set_value(peer.wait_eof(Clock::now() + 5s));  // hold the response
    return false;
  }));
  auto fixture = client();
  warm(*fixture, *server);
  bool completed = false;
  fixture->client().async_request(get(server->url()),
                                  [&](boost::system::error_code, Response) { completed = true; });
  ASSERT_TRUE(fixture->run_until(
      [&] { return fixture->at(TracePoint::wrote_request, 2).has_value(); }, 2000ms));

  fixture.reset();  // the client first, then its io_context with the read still pending

  EXPECT_FALSE(completed);
  auto closed = client_closed.get_future();
  ASSERT_EQ(closed.wait_for(3s), std::future_status::ready);
  EXPECT_TRUE(closed.get()) << "the socket outlived its client and io_context";
}

// The client remembers the last target it resolved (Client::State::destination_of): requests
// that alternate between two servers must each still reach their own, on its own connection.
TEST_P(PooledExchange, AlternatingTargetsEachReachTheirOwnServer) {
  auto answering = [](std::string name) {
    return [name](Peer& peer) {
      while (!peer.read_headers(Clock::now() + 3s).empty()) peer.write(ok_response(name));
    };
  };
  const auto first = serve(answering("first"));
  const auto second = serve(answering("second"));
  const auto fixture = client();

  for (int round = 0; round < 3; ++round) {
    const auto a = fixture->request(get(first->url("/a")));
    ASSERT_FALSE(a.error) << a.error.message();
    EXPECT_EQ(a.response.body(), "first");
    const auto b = fixture->request(get(second->url("/b")));
    ASSERT_FALSE(b.error) << b.error.message();
    EXPECT_EQ(b.response.body(), "second");
  }
  EXPECT_EQ(first->accepted(), 1);
  EXPECT_EQ(second->accepted(), 1);
  EXPECT_EQ(fixture->client().pool_stats().idle, 2u);
}

// A client whose io_context runs on a thread of its own (one thread: the executor is serial, so
// pooled requests take the lean path in both runs) and requests made from another thread, as the
// Client's thread safety allows: each completes, on the same connection, and under TSan without
// a race between the request's start on the caller's thread and its handlers on the context's.
TEST_P(PooledExchange, RequestsFromAnotherThreadThanTheContexts) {
  const auto server = serve([](Peer& peer) {
    while (!peer.read_headers(Clock::now() + 3s).empty()) peer.write(ok_response());
  });
  boost::asio::io_context context(1);
  auto work = boost::asio::make_work_guard(context);
  Client client(context.get_executor(), options_for());
  std::thread runner([&context] { context.run(); });

  for (int i = 0; i < 20; ++i) {
    auto done = client.async_request(get(server->url()), boost::asio::use_future);
    ASSERT_EQ(done.wait_for(5s), std::future_status::ready) << "request " << i;
    const Response response = done.get();
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response.body(), "ok");
  }
  EXPECT_EQ(client.pool_stats().dials, 1u);
  EXPECT_EQ(server->accepted(), 1);

  client.close_idle_connections();
  work.reset();
  context.stop();
  runner.join();
}

// A client on a pool of four threads (as Pool.ThreadPoolExecutorShareOneClient's), so its
// executor is not serial: each pooled request runs on a strand of its own (the lean path binds
// its handlers to it).
class ThreadedClient {
 public:
  explicit ThreadedClient(ClientOptions options) : client_(threads_.get_executor(), options) {}
  ~ThreadedClient() {
    client_.close_idle_connections();
    threads_.join();
  }

  Client& client() { return client_; }

  // Runs `workers` chains of `per_worker` requests: each chain's next request starts from its
  // previous one's completion, on whichever thread that ran. `url_for(left)` names each request
  // (`left` counts down to 1), and `check(left, ec, response)` judges each, one at a time.
  // False when they did not all end within 30 s.
  bool run_chains(
      int workers, int per_worker, const std::function<std::string(int)>& url_for,
      const std::function<void(int, boost::system::error_code, const Response&)>& check) {
    // Shared with the completions: the last one may still be leaving next() when this returns.
    struct Chains : std::enable_shared_from_this<Chains> {
      std::mutex mutex;
      int finished = 0;
      std::promise<void> done;
      std::function<void(int)> next;
    };
    auto chains = std::make_shared<Chains>();
    chains->next = [this, workers, &url_for, &check, raw = chains.get()](int left) {
      if (left == 0) {
        bool last = false;
        {
          std::lock_guard lock(raw->mutex);
          last = ++raw->finished == workers;
        }
        if (last) raw->done.set_value();
        return;
      }
      client_.async_request(get(url_for(left)),
                            [&check, left, held = raw->shared_from_this()](
                                boost::system::error_code ec, Response response) {
                              {
                                std::lock_guard lock(held->mutex);
                                check(left, ec, response);
                              }
                              held->next(left - 1);
                            });
    };
    auto done = chains->done.get_future();
    for (int i = 0; i < workers; ++i) chains->next(per_worker);
    return done.wait_for(30s) == std::future_status::ready;
  }

 private:
  boost::asio::thread_pool threads_{4};
  Client client_;
};

// Eight workers share a ThreadedClient, their requests completing on whichever thread. Every one
// must succeed, the connections must be reused, and under TSan nothing may race.
TEST_P(PooledExchange, ManyThreadsShareOneClient) {
  const auto server = serve([](Peer& peer) {
    while (!peer.read_headers(Clock::now() + 5s).empty()) peer.write(ok_response());
  });
  Settings settings;
  settings.max_host_idle_conns = 8;
  ThreadedClient threaded(options_for(settings));

  constexpr int workers = 8;
  constexpr int per_worker = 25;
  int succeeded = 0;
  std::vector<std::string> failures;
  ASSERT_TRUE(threaded.run_chains(
      workers, per_worker, [&](int) { return server->url(); },
      [&](int, boost::system::error_code ec, const Response& response) {
        if (!ec && response.result_int() == 200 && response.body() == "ok") {
          ++succeeded;
        } else {
          failures.push_back(ec ? ec.message() : std::to_string(response.result_int()));
        }
      }));

  EXPECT_EQ(succeeded, workers * per_worker);
  EXPECT_TRUE(failures.empty()) << failures.front();
  // Connections are reused, not one per request. (More dials than workers is Go's behaviour
  // too: a request that finds every connection busy dials, though one comes back meanwhile.
  // How many more depends on the machine: on a quiet one 8 to 30 of the 200, and with another
  // process busy on every CPU, TLS handshakes stall and up to 75 were seen.)
  const auto stats = threaded.client().pool_stats();
  EXPECT_LE(stats.dials, static_cast<std::uint64_t>(workers * per_worker / 2));
  EXPECT_GE(stats.reuses, static_cast<std::uint64_t>(workers * per_worker / 2));
}

// As ManyThreadsShareOneClient, with every other request held by the server past
// response_header: on the lean path each of those ends in its timer's handler closing the
// connection while the read is in flight, on whichever thread, and the next request dials or
// takes another connection. Each request gets its own outcome, and under TSan nothing races.
TEST_P(PooledExchange, ManyThreadsWithTimeoutsShareOneClient) {
  const auto server = serve([](Peer& peer) {
    for (;;) {
      const auto head = peer.read_headers(Clock::now() + 5s);
      if (head.empty()) return;
      if (head.find("GET /held ") != std::string::npos) {
        peer.wait_eof(Clock::now() + 5s);  // until the client gives up and closes
        return;
      }
      peer.write(ok_response());
    }
  });
  Settings settings;
  settings.max_host_idle_conns = 8;
  settings.response_header = 100ms;
  ThreadedClient threaded(options_for(settings));

  constexpr int workers = 8;
  constexpr int per_worker = 6;
  auto held = [](int left) { return left % 2 == 0; };
  int answered = 0;
  int timed_out = 0;
  std::vector<std::string> unexpected;
  ASSERT_TRUE(threaded.run_chains(
      workers, per_worker, [&](int left) { return server->url(held(left) ? "/held" : "/"); },
      [&](int left, boost::system::error_code ec, const Response& response) {
        if (held(left) && ec == errc::response_header_timeout) {
          ++timed_out;
        } else if (!held(left) && !ec && response.body() == "ok") {
          ++answered;
        } else {
          unexpected.push_back(std::string(held(left) ? "held: " : "answered: ") +
                               (ec ? ec.message() : std::to_string(response.result_int())));
        }
      }));

  EXPECT_EQ(answered, workers * per_worker / 2);
  EXPECT_EQ(timed_out, workers * per_worker / 2);
  EXPECT_TRUE(unexpected.empty()) << unexpected.front();
}

}  // namespace
}  // namespace tunedhttp::testing
