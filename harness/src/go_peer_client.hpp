#pragma once
// Go's net/http client as the runner's client under test: the Go peer (peers/go,
// `tunedhttp-go-peer session`) kept for a whole scenario, fed request steps and asked for its
// pool counters, its answers turned into the same RequestOutcome our client's give.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tunedhttp/harness/scenario.hpp>
#include <vector>

#include "child_process.hpp"
#include "request_outcome.hpp"

namespace tunedhttp::harness::detail {

/// One request for the Go client.
struct GoRequest {
  std::string method;
  std::string url;
  std::map<std::string, std::string> headers;
  std::uint64_t body_size = 0;
};

class GoPeerClient {
 public:
  /// Called with each finished request: the step's id, its index in the step, its outcome.
  using OnResult = std::function<void(int id, std::size_t index, RequestOutcome outcome)>;

  /// Starts `program session` with the scenario's client settings and resolve override (its
  /// names on `server_port`), trusting `ca_pem`, through `proxy_url` when not empty. Throws
  /// std::runtime_error when it does not become
  /// ready in 5 s.
  GoPeerClient(const std::string& program, const ClientSpec& client, const std::string& ca_pem,
               unsigned short server_port, const std::string& proxy_url, OnResult on_result);

  /// Starts every request at once; their results come through `on_result` while pumping.
  void start(int id, const std::vector<GoRequest>& requests);
  /// Reads and dispatches the peer's lines until `deadline` or until `done()` holds.
  void pump_until(std::chrono::steady_clock::time_point deadline,
                  const std::function<bool()>& done);
  /// The peer's dials and reuses so far (the rest of PoolStats Go does not show), or nullopt
  /// when it did not answer by the deadline.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> pool(
      std::chrono::steady_clock::time_point deadline);

  /// Transport.CloseIdleConnections(); returns whether the peer confirmed it by `deadline`.
  bool close_idle(std::chrono::steady_clock::time_point deadline);

  /// The Go peer's path: `hint` when given, else next to this program
  /// (../../peers/go/tunedhttp-go-peer from build/harness), else `tunedhttp-go-peer` on PATH.
  static std::string find_program(const std::string& hint);

 private:
  void dispatch(const std::string& line);

  ChildProcess process_;
  OnResult on_result_;
  int next_id_ = 1000000;
  std::map<int, std::pair<std::uint64_t, std::uint64_t>> pools_;
  std::set<int> done_;  ///< ids of commands the peer answered with `done`
};

}  // namespace tunedhttp::harness::detail
