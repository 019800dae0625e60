// tunedhttp's own benchmarks: fresh vs reused connections (plain and TLS), the TLS handshake,
// concurrency × per-host idle caps, timer precision, and memory per idle connection.
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>
#include <tunedhttp/client.hpp>
#include <tunedhttp/mockserver/server.hpp>

#include "request_loop.hpp"

extern char** environ;

namespace tunedhttp::bench {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using namespace std::chrono_literals;

ClientOptions options_for(const std::string& ca_pem, Settings settings = {}) {
  ClientOptions options;
  options.settings = settings;
  options.tls.ca_pem = ca_pem;
  return options;
}

std::string check_response(const error_code& ec, const Response& response) {
  if (ec) return "tunedhttp: " + error_name(ec) + ": " + ec.message();
  return response.body().size() == 13 ? "" : "tunedhttp: unexpected body";
}

// Runs handlers on the calling thread until `done()` or the deadline. Idle connections keep
// timers pending, so io_context::run() would not return: this runs handler by handler.
template <class Done>
bool run_until(asio::io_context& context, Done done, Clock::duration limit = 10s) {
  const auto deadline = Clock::now() + limit;
  context.restart();
  while (!done()) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero() || context.run_one_for(left) == 0) return done();
  }
  return true;
}

// ---- fresh vs reused -----------------------------------------------------------------------

void tunedhttp_requests(benchmark::State& state, bool tls, bool fresh) {
  const BenchServer& server = shared_server(tls);
  BlockingClient client(options_for(server.ca_pem()));
  const Request request = make_request(http::verb::get, server.base_url());
  const auto dials_before = client.client().pool_stats().dials;
  run_request_loop(state, [&] {
    error_code ec;
    const Response response = client.request(request, ec);
    if (fresh) client.client().close_idle_connections();
    return check_response(ec, response);
  });
  const auto stats = client.client().pool_stats();
  state.counters["dials_per_request"] = benchmark::Counter(
      static_cast<double>(stats.dials - dials_before), benchmark::Counter::kAvgIterations);
}

// The fault-injecting mock server runs on its own io_context and thread.
struct MockServerThread {
  explicit MockServerThread(mockserver::ServerOptions options)
      : server(context.get_executor(), std::move(options)) {
    server.start();
    thread = std::thread([this] { context.run(); });
  }
  ~MockServerThread() {
    server.stop();
    work.reset();
    context.stop();
    thread.join();
  }
  asio::io_context context{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{context.get_executor()};
  mockserver::Server server;
  std::thread thread;
};

// The same reused-connection loop against tunedhttp::mockserver::Server instead of BenchServer:
// what the mock server's instrumentation (event log, fault hooks) costs per request.
void tunedhttp_against_mockserver(benchmark::State& state) {
  mockserver::ServerOptions server_options;
  server_options.default_route.body = "hello, world\n";
  MockServerThread mock(server_options);
  BlockingClient client(options_for(""));
  const Request request = make_request(http::verb::get, mock.server.base_url());
  run_request_loop(state, [&] {
    error_code ec;
    const Response response = client.request(request, ec);
    return check_response(ec, response);
  });
}

// ---- the TLS handshake, from the trace -------------------------------------------------------

void tunedhttp_tls_handshake(benchmark::State& state) {
  const BenchServer& server = shared_server(true);
  LatencyRecorder connect_times;
  LatencyRecorder handshake_times;
  Clock::time_point dial_start, tls_start;
  ClientOptions options = options_for(server.ca_pem());
  options.trace = [&](const TraceEvent& event) {
    switch (event.point) {
      case TracePoint::dial_start:
        dial_start = event.at;
        break;
      case TracePoint::dial_done:
        connect_times.add(event.at - dial_start);
        break;
      case TracePoint::tls_handshake_start:
        tls_start = event.at;
        break;
      case TracePoint::tls_handshake_done:
        handshake_times.add(event.at - tls_start);
        break;
      default:
        break;
    }
  };
  BlockingClient client(std::move(options));
  const Request request = make_request(http::verb::get, server.base_url());
  run_request_loop(state, [&] {
    error_code ec;
    const Response response = client.request(request, ec);
    client.client().close_idle_connections();
    return check_response(ec, response);
  });
  connect_times.report(state, "tcp_connect_");
  handshake_times.report(state, "tls_handshake_");
}

// ---- concurrency × per-host idle cap ---------------------------------------------------------

// `workers` request loops run at once on one io_context (this thread); each iteration is
// `workers` × requests_per_worker requests. Reports dials per request: with a per-host cap below
// the number of workers, connections put back past the cap are closed and new ones dialed.
void concurrency(benchmark::State& state) {
  const auto cap = static_cast<int>(state.range(0));
  const auto workers = static_cast<int>(state.range(1));
  const int requests_per_worker = 4;
  const BenchServer& server = shared_server(false);
  asio::io_context context{1};
  Settings settings;
  settings.max_host_idle_conns = cap;
  Client client(context.get_executor(), options_for("", settings));
  const Request request = make_request(http::verb::get, server.base_url());
  LatencyRecorder latencies;
  std::string failure;
  std::int64_t requests = 0;

  for (auto _ : state) {
    int left = workers * requests_per_worker;
    int running = 0;
    std::function<void()> start_one = [&] {
      --left;
      ++running;
      const auto start = Clock::now();
      client.async_request(request, [&, start](error_code ec, Response response) {
        latencies.add(Clock::now() - start);
        --running;
        ++requests;
        if (auto error = check_response(ec, response); !error.empty()) failure = error;
        if (left > 0 && failure.empty()) start_one();
      });
    };
    for (int i = 0; i < workers; ++i) start_one();
    if (!run_until(context, [&] { return running == 0; })) failure = "timed out";
    if (!failure.empty()) {
      state.SkipWithError(failure.c_str());
      break;
    }
  }
  const auto stats = client.pool_stats();
  state.SetItemsProcessed(requests);
  latencies.report(state);
  state.counters["dials_per_request"] =
      static_cast<double>(stats.dials) / static_cast<double>(std::max<std::int64_t>(requests, 1));
  state.counters["effective_cap"] = effective_max_host_idle_conns(settings);
}

// ---- timer precision -------------------------------------------------------------------------

constexpr auto timer_limit = 20ms;
int firings() { return smoke() ? 3 : 50; }

// Keeps one core busy (a spinning thread) while alive, when asked.
class BusyCore {
 public:
  explicit BusyCore(bool busy) {
    if (!busy) return;
    thread_ = std::thread([this] {
      volatile std::uint64_t sink = 0;
      while (!stop_.load(std::memory_order_relaxed)) sink = sink + 1;
    });
  }
  ~BusyCore() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One firing: returns how long after `timer_limit` the timer fired, or an error message.
using Firing = std::function<std::variant<Clock::duration, std::string>(asio::io_context&)>;

void timer_precision(benchmark::State& state, bool busy, const Firing& fire) {
  asio::io_context context{1};
  BusyCore spinner(busy);
  LatencyRecorder lateness;
  for (auto _ : state) {
    for (int i = 0; i < firings(); ++i) {
      auto outcome = fire(context);
      if (auto* error = std::get_if<std::string>(&outcome)) {
        state.SkipWithError(error->c_str());
        return;
      }
      const auto late = std::get<Clock::duration>(outcome);
      if (late < Clock::duration::zero()) {
        state.SkipWithError("a timer fired early");
        return;
      }
      lateness.add(late);
    }
  }
  lateness.report(state, "lateness_", true);
  state.counters["firings"] = static_cast<double>(lateness.size());
}

// Records the time of the first occurrence of each trace point in a request.
struct TraceTimes {
  std::map<TracePoint, Clock::time_point> at;
  TraceHook hook() {
    return [this](const TraceEvent& event) { at.try_emplace(event.point, event.at); };
  }
  std::optional<Clock::duration> between(TracePoint from, TracePoint to) const {
    const auto start = at.find(from), end = at.find(to);
    if (start == at.end() || end == at.end()) return std::nullopt;
    return end->second - start->second;
  }
};

void response_header_timer(benchmark::State& state, bool busy) {
  mockserver::ServerOptions server_options;
  server_options.faults.push_back({"hold_headers", {{"for", "10s"}}, {}});
  MockServerThread mock(server_options);
  timer_precision(
      state, busy, [&](asio::io_context& context) -> std::variant<Clock::duration, std::string> {
        Settings settings;
        settings.response_header = timer_limit;
        Client client(context.get_executor(), options_for("", settings));
        TraceTimes trace;
        std::optional<error_code> result;
        client.async_request(make_request(http::verb::get, mock.server.base_url()), trace.hook(),
                             [&](error_code ec, Response) { result = ec; });
        if (!run_until(context, [&] { return result.has_value(); })) return "no completion";
        if (*result != errc::response_header_timeout) return "got " + error_name(*result);
        const auto fired = trace.between(TracePoint::wrote_request, TracePoint::response_done);
        if (!fired) return "missing trace points";
        return *fired - Clock::duration(timer_limit);
      });
}

void expect_continue_timer(benchmark::State& state, bool busy) {
  mockserver::ServerOptions server_options;
  server_options.faults.push_back({"withhold_continue", {}, {}});
  MockServerThread mock(server_options);
  Settings settings;
  settings.expect_continue = timer_limit;
  asio::io_context* bound = nullptr;
  std::unique_ptr<Client> client;
  timer_precision(
      state, busy, [&](asio::io_context& context) -> std::variant<Clock::duration, std::string> {
        if (bound != &context) {
          client = std::make_unique<Client>(context.get_executor(), options_for("", settings));
          bound = &context;
        }
        auto request =
            make_request(http::verb::post, mock.server.base_url(), std::string(1024, 'x'));
        request.set(http::field::expect, "100-continue");
        TraceTimes trace;
        std::optional<error_code> result;
        client->async_request(std::move(request), trace.hook(),
                              [&](error_code ec, Response) { result = ec; });
        if (!run_until(context, [&] { return result.has_value(); })) return "no completion";
        if (*result) return "got " + error_name(*result);
        const auto fired = trace.between(TracePoint::wait_100_continue, TracePoint::wrote_request);
        if (!fired) return "missing trace points";
        return *fired - Clock::duration(timer_limit);
      });
  client.reset();
}

void idle_conn_timer(benchmark::State& state, bool busy) {
  const BenchServer& server = shared_server(false);
  timer_precision(state, busy,
                  [&](asio::io_context& context) -> std::variant<Clock::duration, std::string> {
                    Settings settings;
                    settings.idle_conn = timer_limit;
                    std::optional<Clock::time_point> put_at, closed_at;
                    ClientOptions options = options_for("", settings);
                    options.trace = [&](const TraceEvent& event) {
                      if (event.point == TracePoint::put_idle_conn && event.detail.empty())
                        put_at = event.at;
                      if (event.point == TracePoint::idle_conn_closed) closed_at = event.at;
                    };
                    Client client(context.get_executor(), std::move(options));
                    std::optional<error_code> result;
                    client.async_request(make_request(http::verb::get, server.base_url()),
                                         [&](error_code ec, Response) { result = ec; });
                    if (!run_until(context, [&] { return closed_at.has_value(); }))
                      return "idle_conn never fired";
                    if (*result) return "got " + error_name(*result);
                    if (!put_at) return "connection not pooled";
                    return *closed_at - *put_at - Clock::duration(timer_limit);
                  });
}

// ---- memory per idle connection --------------------------------------------------------------

std::size_t heap_in_use() {
  const auto info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// The bench server in a child process (`bench --serve`), so that mallinfo2() in this process
// counts the client's allocations only.
class ChildServer {
 public:
  explicit ChildServer(bool tls) {
    int to_child[2], from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    posix_spawn_file_actions_addclose(&actions, to_child[1]);
    posix_spawn_file_actions_addclose(&actions, from_child[0]);
    char program[] = "/proc/self/exe";
    char serve[] = "--serve";
    char plain_mode[] = "plain";
    char tls_mode[] = "tls";
    char* argv[] = {program, serve, tls ? tls_mode : plain_mode, nullptr};
    const int spawned = posix_spawn(&pid_, program, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_ = to_child[1];
    if (spawned != 0) throw std::runtime_error("posix_spawn failed");
    FILE* out = fdopen(from_child[0], "r");
    char line[512];
    bool ready = false;
    for (int n = 0; std::fgets(line, sizeof line, out); ++n) {
      std::string text(line);
      if (n == 0) {
        port_ = static_cast<unsigned short>(std::stoi(text));
      } else if (text == "READY\n") {
        ready = true;
        break;
      } else {
        ca_pem_ += text;
      }
    }
    std::fclose(out);
    if (!ready) throw std::runtime_error("the child server did not start");
  }
  ~ChildServer() {
    ::close(stdin_);  // the child serves until its stdin closes
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;

  std::string base_url(bool tls) const {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + "/";
  }
  const std::string& ca_pem() const { return ca_pem_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  unsigned short port_ = 0;
  std::string ca_pem_;
};

void memory_per_idle_conn(benchmark::State& state, bool tls) {
  const int connections = smoke() ? 10 : 100;
  ChildServer child(tls);
  asio::io_context context{1};
  Settings settings;
  settings.max_host_idle_conns = connections;
  settings.max_all_idle_conns = connections;
  Client client(context.get_executor(), options_for(child.ca_pem(), settings));
  const Request request = make_request(http::verb::get, child.base_url(tls));

  // Opens `connections` connections at once and waits until all of them are idle in the pool.
  auto fill = [&]() -> std::string {
    int running = 0;
    std::string failure;
    for (int i = 0; i < connections; ++i) {
      ++running;
      client.async_request(request, [&](error_code ec, Response response) {
        --running;
        if (auto error = check_response(ec, response); !error.empty()) failure = error;
      });
    }
    const bool filled = run_until(context, [&] {
      return running == 0 && client.pool_stats().idle == static_cast<std::uint64_t>(connections);
    });
    if (!failure.empty()) return failure;
    return filled ? "" : "the pool did not fill";
  };

  for (auto _ : state) {
    // A first round warms up what is allocated once (TLS context tables, Asio's recycled
    // handler memory), then the measured round.
    if (auto error = fill(); !error.empty()) {
      state.SkipWithError(error.c_str());
      return;
    }
    client.close_idle_connections();
    run_until(
        context, [] { return false; }, 50ms);
    const std::size_t before = heap_in_use();
    if (auto error = fill(); !error.empty()) {
      state.SkipWithError(error.c_str());
      return;
    }
    const std::size_t after = heap_in_use();
    state.counters["bytes_per_idle_conn"] =
        (static_cast<double>(after) - static_cast<double>(before)) / connections;
    state.counters["idle_conns"] = connections;
    client.close_idle_connections();
    run_until(
        context, [] { return false; }, 50ms);
  }
}

}  // namespace

void register_client_benchmarks() {
  for (const bool tls : {false, true}) {
    const std::string security = tls ? "tls" : "plain";
    for (const bool fresh : {false, true}) {
      const std::string mode = fresh ? "fresh" : "reused";
      benchmark::RegisterBenchmark(("requests/" + security + "/" + mode + "/tunedhttp").c_str(),
                                   tunedhttp_requests, tls, fresh)
          ->UseRealTime();
    }
  }
  benchmark::RegisterBenchmark("requests/plain/reused/tunedhttp_vs_mockserver",
                               tunedhttp_against_mockserver)
      ->UseRealTime();
  benchmark::RegisterBenchmark("tls_handshake/tunedhttp", tunedhttp_tls_handshake)->UseRealTime();

  auto* grid = benchmark::RegisterBenchmark("concurrency", concurrency)
                   ->ArgNames({"max_host_idle_conns", "workers"})
                   ->UseRealTime();
  for (const int cap : {0, 10, 100}) {
    for (const int workers : {1, 2, 4, 8, 16, 32, 64}) grid->Args({cap, workers});
  }

  for (const bool busy : {false, true}) {
    const std::string load = busy ? "busy" : "idle";
    benchmark::RegisterBenchmark(("timer/response_header/" + load).c_str(), response_header_timer,
                                 busy)
        ->Iterations(1)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("timer/expect_continue/" + load).c_str(), expect_continue_timer,
                                 busy)
        ->Iterations(1)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("timer/idle_conn/" + load).c_str(), idle_conn_timer, busy)
        ->Iterations(1)
        ->UseRealTime();
  }

  for (const bool tls : {false, true}) {
    benchmark::RegisterBenchmark(tls ? "memory/tls" : "memory/plain", memory_per_idle_conn, tls)
        ->Iterations(1)
        ->UseRealTime();
  }
}

}  // namespace tunedhttp::bench
