#include "go_peer_session.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace tunedhttp::bench {

GoPeerSession* GoPeerSession::shared() {
  static const std::unique_ptr<GoPeerSession> session = []() -> std::unique_ptr<GoPeerSession> {
#ifdef TUNEDHTTP_GO_PEER
    auto peer = ChildProcess::spawn({TUNEDHTTP_GO_PEER, "session"});
    if (!peer) return nullptr;
    peer->send_line("{\"settings\":{\"max_host_idle_conns\":" + std::to_string(go_max_host_idle) +
                    "}}");
    const auto ready = peer->read_line();
    if (!ready || ready->find("ready") == std::string::npos) return nullptr;
    return std::unique_ptr<GoPeerSession>(new GoPeerSession(std::move(peer)));
#else
    return nullptr;
#endif
  }();
  return session.get();
}

std::optional<GoPeerSession::Result> GoPeerSession::bench(const std::string& url, int workers,
                                                          int count) {
  ++id_;
  peer_->send_line("{\"op\":\"bench\",\"id\":" + std::to_string(id_) + ",\"url\":\"" + url +
                   "\",\"workers\":" + std::to_string(workers) +
                   ",\"count\":" + std::to_string(count) + "}");
  while (const auto line = peer_->read_line()) {
    long long elapsed_ns = 0;
    Result result;
    int id = 0;
    if (std::sscanf(
            line->c_str(),
            "{\"op\":\"bench\",\"id\":%d,\"elapsed_ns\":%lld,\"failed\":%lld,\"dials\":%lld}", &id,
            &elapsed_ns, &result.failed, &result.dials) == 4 &&
        id == id_) {
      result.elapsed_seconds = static_cast<double>(elapsed_ns) / 1e9;
      return result;
    }
  }
  return std::nullopt;
}

void measure_go_client(benchmark::State& state, const std::string& url, int workers, int count) {
  GoPeerSession* peer = GoPeerSession::shared();
  if (peer == nullptr) {
    state.SkipWithError("the Go peer (peers/go) is not built or did not start");
    return;
  }
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

}  // namespace tunedhttp::bench
