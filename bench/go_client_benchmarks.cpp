// tunedhttp beside Go's net/http client, the same GETs of the same in-process server with 1, 8
// and 64 workers. Go's side is the Go peer's session (go_peer_session.hpp). Both use
// max_host_idle_conns 100, so the caps do not decide the result.

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tunedhttp/client.hpp>
#include <vector>

#include "common.hpp"
#include "go_peer_session.hpp"

namespace tunedhttp::bench {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

constexpr int max_host_idle = go_max_host_idle;

int requests_per_iteration(int workers) {
  return smoke() ? 4 * workers : 2000 * ((workers + 7) / 8);
}

void go_nethttp(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  measure_go_client(state, shared_server(false).base_url(), workers,
                    requests_per_iteration(workers));
}

int cpus() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// The same work through one tunedhttp client: `workers` chains of requests, each starting its
// next request from its completion, on `range(1)` threads of one io_context (one thread: a
// serial executor, so no strand per request).
void tunedhttp_workers(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  asio::io_context context{threads};
  Settings settings;
  settings.max_host_idle_conns = max_host_idle;
  ClientOptions options;
  options.settings = settings;
  Client client(context.get_executor(), options);
  const Request request = make_request(http::verb::get, shared_server(false).base_url());
  const int count = requests_per_iteration(workers);
  std::atomic<int> failures{0};
  std::int64_t requests = 0;
  const auto dials_before = client.pool_stats().dials;
  for (auto _ : state) {
    std::atomic<int> left{count};
    std::atomic<int> completed{0};
    std::function<void()> start_one = [&] {
      if (left.fetch_sub(1) <= 0) return;
      client.async_request(request, [&](boost::system::error_code ec, Response response) {
        if (ec || response.body().size() != 13) ++failures;
        // Idle connections keep timers pending, so run() would not return by itself.
        if (completed.fetch_add(1) + 1 == count) context.stop();
        start_one();
      });
    };
    const auto began = Clock::now();
    context.restart();
    for (int i = 0; i < workers; ++i) start_one();
    std::vector<std::thread> helpers;
    for (int i = 1; i < threads; ++i) helpers.emplace_back([&] { context.run(); });
    context.run();
    for (auto& helper : helpers) helper.join();
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - began).count());
    requests += count;
  }
  if (failures.load() != 0) state.SkipWithError("tunedhttp: failed requests");
  state.SetItemsProcessed(requests);
  state.counters["dials_per_request"] =
      static_cast<double>(client.pool_stats().dials - dials_before) /
      static_cast<double>(std::max<std::int64_t>(requests, 1));
  client.close_idle_connections();
}

}  // namespace

void register_go_client_benchmarks() {
  // One worker again, in the one-CPU pass (`make bench` runs `vs_go_pinned/` under `taskset -c
  // 0`, and the Go peer inherits the mask, so Go runs with GOMAXPROCS 1): client, server and Go
  // share a CPU, as the other one-request-at-a-time benchmarks do. On both CPUs each request
  // waits for an idle CPU to wake, which both clients pay alike and which hides their own cost.
  benchmark::RegisterBenchmark("vs_go_pinned/workers:1/tunedhttp_one_thread", tunedhttp_workers)
      ->Args({1, 1})
      ->UseManualTime();
  benchmark::RegisterBenchmark("vs_go_pinned/workers:1/go_nethttp", go_nethttp)
      ->Arg(1)
      ->UseManualTime();
  for (const int workers : {1, 8, 64}) {
    const std::string prefix = "vs_go/workers:" + std::to_string(workers);
    // One thread, as `request --threads 1` and BlockingClient run; and as many threads as Go
    // uses cores. With the server on the same CPUs, the first is the faster on a small machine.
    benchmark::RegisterBenchmark((prefix + "/tunedhttp_one_thread").c_str(), tunedhttp_workers)
        ->Args({workers, 1})
        ->UseManualTime();
    if (std::min(workers, cpus()) > 1) {
      benchmark::RegisterBenchmark((prefix + "/tunedhttp_all_cpus").c_str(), tunedhttp_workers)
          ->Args({workers, std::min(workers, cpus())})
          ->UseManualTime();
    }
    benchmark::RegisterBenchmark((prefix + "/go_nethttp").c_str(), go_nethttp)
        ->Arg(workers)
        ->UseManualTime();
  }
}

}  // namespace tunedhttp::bench
