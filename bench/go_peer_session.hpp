#pragma once
// Go's net/http client for the benchmarks: the project's Go peer (peers/go) in `session` mode,
// kept for the whole run. Its `bench` command times its own requests, so no process start or
// pipe is in its figure.

#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <string>

#include "child_process.hpp"

namespace tunedhttp::bench {

/// The Go client's max_host_idle_conns in every benchmark: high enough that the caps do not
/// decide a result.
inline constexpr int go_max_host_idle = 100;

class GoPeerSession {
 public:
  /// The run's session, started on first use; nullptr when the Go peer is not built or did not
  /// start.
  static GoPeerSession* shared();

  struct Result {
    double elapsed_seconds = 0;
    long long failed = 0;
    long long dials = 0;
  };

  /// `count` GETs of `url` from `workers` goroutines; nullopt when the peer did not answer.
  std::optional<Result> bench(const std::string& url, int workers, int count);

 private:
  explicit GoPeerSession(std::unique_ptr<ChildProcess> peer) : peer_(std::move(peer)) {}
  std::unique_ptr<ChildProcess> peer_;
  int id_ = 0;
};

/// The benchmark loop for Go's client: per iteration, `count` GETs of `url` from `workers`
/// goroutines, timed by Go; reports requests/s and dials per request. Skips the benchmark when
/// the Go peer is missing or its client failed a request.
void measure_go_client(benchmark::State& state, const std::string& url, int workers, int count);

}  // namespace tunedhttp::bench
