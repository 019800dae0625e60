#pragma once
// What every benchmark of the suite shares: the servers, the request, latency percentiles.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_server.hpp"

namespace tunedhttp::bench {

using Clock = std::chrono::steady_clock;

/// True when TUNEDHTTP_BENCH_SMOKE is set (the ctest smoke run): loops that do a fixed amount of
/// work per iteration (timer firings, pool fills) do a little instead.
inline bool smoke() {
  static const bool value = std::getenv("TUNEDHTTP_BENCH_SMOKE") != nullptr;
  return value;
}

/// The in-process benchmark servers, made on first use and kept for the whole run, so every
/// client and peer talks to the same server.
inline BenchServer& shared_server(bool tls) {
  static BenchServer plain(false);
  static BenchServer secure(true);
  return tls ? secure : plain;
}

/// The request the raw-socket floor writes: what the other clients send, give or take a header.
inline std::string fixed_request(unsigned short port) {
  return "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
         "\r\nUser-Agent: bench\r\n\r\n";
}

/// Per-request latencies of one benchmark run, reported as counters p50_us, p99_us.
class LatencyRecorder {
 public:
  LatencyRecorder() { samples_.reserve(1 << 16); }
  void add(Clock::duration elapsed) {
    samples_.push_back(std::chrono::duration<double, std::micro>(elapsed).count());
  }
  /// The q-quantile (0..1) of the samples so far, in microseconds; 0 without samples.
  double quantile(double q) {
    if (samples_.empty()) return 0;
    const auto index = static_cast<std::size_t>(q * static_cast<double>(samples_.size() - 1));
    std::nth_element(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(index),
                     samples_.end());
    return samples_[index];
  }
  double max() const {
    return samples_.empty() ? 0 : *std::max_element(samples_.begin(), samples_.end());
  }
  std::size_t size() const { return samples_.size(); }
  /// Sets `<prefix>p50_us` and `<prefix>p99_us` (and `<prefix>max_us` when asked).
  void report(benchmark::State& state, const std::string& prefix = "", bool with_max = false) {
    state.counters[prefix + "p50_us"] = quantile(0.50);
    state.counters[prefix + "p99_us"] = quantile(0.99);
    if (with_max) state.counters[prefix + "max_us"] = max();
  }

 private:
  std::vector<double> samples_;
};

/// Registers the benchmarks of each file (called from main, so smoke() is known).
void register_peer_benchmarks();
void register_client_benchmarks();
void register_go_client_benchmarks();
void register_streaming_benchmarks();
void register_server_benchmarks();

}  // namespace tunedhttp::bench
