#pragma once
// The loop every sequential request benchmark runs: one request per iteration, timed one by one.

#include <string>

#include "allocation_counter.hpp"
#include "common.hpp"

namespace tunedhttp::bench {

/// Runs `one_request()` once per iteration; it returns an empty string on success, else what went
/// wrong (the benchmark then stops with that error). Reports requests/s (items_per_second), the
/// per-request latency p50/p99 in microseconds, and heap allocations per request on this thread
/// (allocs_per_request: the client's own, as the servers run on threads of their own).
template <class OneRequest>
void run_request_loop(benchmark::State& state, OneRequest&& one_request) {
  LatencyRecorder latencies;
  const auto allocations_before = allocations();
  for (auto _ : state) {
    const auto start = Clock::now();
    const std::string error = one_request();
    latencies.add(Clock::now() - start);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  state.counters["allocs_per_request"] = benchmark::Counter(
      static_cast<double>(allocations() - allocations_before), benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(static_cast<std::int64_t>(latencies.size()));
  latencies.report(state);
}

}  // namespace tunedhttp::bench
