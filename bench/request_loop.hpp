#pragma once
// The loop every sequential request benchmark runs: one request per iteration, timed one by one.

#include <string>

#include "common.hpp"

namespace tunedhttp::bench {

/// Runs `one_request()` once per iteration; it returns an empty string on success, else what went
/// wrong (the benchmark then stops with that error). Reports requests/s (items_per_second) and
/// the per-request latency p50/p99 in microseconds.
template <class OneRequest>
void run_request_loop(benchmark::State& state, OneRequest&& one_request) {
  LatencyRecorder latencies;
  for (auto _ : state) {
    const auto start = Clock::now();
    const std::string error = one_request();
    latencies.add(Clock::now() - start);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(latencies.size()));
  latencies.report(state);
}

}  // namespace tunedhttp::bench
