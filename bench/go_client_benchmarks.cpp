// tunedhttp beside Go's net/http client, the same GETs of the same in-process server with 1, 8
// and 64 workers. Go's side is the project's Go peer (peers/go, `session` mode, its `bench`
// command), kept for the whole run; it times its own requests, so no process start or pipe is
// in its figure. Both use max_host_idle_conns 100, so the caps do not decide the result.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tunedhttp/client.hpp>
#include <vector>

#include "common.hpp"

extern char** environ;

namespace tunedhttp::bench {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

constexpr int max_host_idle = 100;

int requests_per_iteration(int workers) {
  return smoke() ? 4 * workers : 2000 * ((workers + 7) / 8);
}

// `tunedhttp-go-peer session` with pipes to its stdin and stdout.
class GoPeerSession {
 public:
  static GoPeerSession* shared() {
    static std::unique_ptr<GoPeerSession> session = start();
    return session.get();
  }

  ~GoPeerSession() {
    if (to_peer_) std::fclose(to_peer_);  // EOF: the peer exits
    if (from_peer_) std::fclose(from_peer_);
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  struct Result {
    double elapsed_seconds = 0;
    long long failed = 0;
    long long dials = 0;
  };

  /// `count` GETs of `url` from `workers` goroutines; nullopt when the peer did not answer.
  std::optional<Result> bench(const std::string& url, int workers, int count) {
    std::fprintf(to_peer_,
                 "{\"op\":\"bench\",\"id\":%d,\"url\":\"%s\",\"workers\":%d,\"count\":%d}\n", ++id_,
                 url.c_str(), workers, count);
    std::fflush(to_peer_);
    char line[512];
    while (std::fgets(line, sizeof line, from_peer_) != nullptr) {
      long long elapsed_ns = 0;
      Result result;
      int id = 0;
      if (std::sscanf(
              line,
              "{\"op\":\"bench\",\"id\":%d,\"elapsed_ns\":%lld,\"failed\":%lld,\"dials\":%lld}",
              &id, &elapsed_ns, &result.failed, &result.dials) == 4 &&
          id == id_) {
        result.elapsed_seconds = static_cast<double>(elapsed_ns) / 1e9;
        return result;
      }
    }
    return std::nullopt;
  }

 private:
  static std::unique_ptr<GoPeerSession> start() {
#ifdef TUNEDHTTP_GO_PEER
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return nullptr;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    char program[] = TUNEDHTTP_GO_PEER;
    char mode[] = "session";
    char* argv[] = {program, mode, nullptr};
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, program, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    if (spawned != 0) {
      ::close(in[1]);
      ::close(out[0]);
      return nullptr;
    }
    auto session = std::unique_ptr<GoPeerSession>(new GoPeerSession);
    session->pid_ = pid;
    session->to_peer_ = ::fdopen(in[1], "w");
    session->from_peer_ = ::fdopen(out[0], "r");
    std::fprintf(session->to_peer_, "{\"settings\":{\"max_host_idle_conns\":%d}}\n", max_host_idle);
    std::fflush(session->to_peer_);
    char line[128];
    if (std::fgets(line, sizeof line, session->from_peer_) == nullptr ||
        std::string(line).find("ready") == std::string::npos) {
      return nullptr;
    }
    return session;
#else
    return nullptr;
#endif
  }

  GoPeerSession() = default;
  pid_t pid_ = -1;
  std::FILE* to_peer_ = nullptr;
  std::FILE* from_peer_ = nullptr;
  int id_ = 0;
};

void go_nethttp(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  GoPeerSession* peer = GoPeerSession::shared();
  if (peer == nullptr) {
    state.SkipWithError("the Go peer (peers/go) is not built or did not start");
    return;
  }
  const std::string url = shared_server(false).base_url();
  const int count = requests_per_iteration(workers);
  long long dials = 0;
  std::int64_t requests = 0;
  for (auto _ : state) {
    const auto result = peer->bench(url, workers, count);
    if (!result || result->failed != 0) {
      state.SkipWithError("Go's client failed requests");
      return;
    }
    state.SetIterationTime(result->elapsed_seconds);
    dials += result->dials;
    requests += count;
  }
  state.SetItemsProcessed(requests);
  state.counters["dials_per_request"] =
      static_cast<double>(dials) / static_cast<double>(std::max<std::int64_t>(requests, 1));
}

// The same work through one tunedhttp client: `workers` chains of requests, each starting its
// next request from its completion, on as many threads as Go uses cores (one for one worker).
void tunedhttp_workers(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const int threads =
      std::min<int>(workers, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
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
  for (const int workers : {1, 8, 64}) {
    const std::string prefix = "vs_go/workers:" + std::to_string(workers);
    benchmark::RegisterBenchmark((prefix + "/tunedhttp").c_str(), tunedhttp_workers)
        ->Arg(workers)
        ->UseManualTime();
    benchmark::RegisterBenchmark((prefix + "/go_nethttp").c_str(), go_nethttp)
        ->Arg(workers)
        ->UseManualTime();
  }
}

}  // namespace tunedhttp::bench
