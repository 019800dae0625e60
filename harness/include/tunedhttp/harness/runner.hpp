#pragma once
// Runs a scenario: an in-process mock server and a tuned client on one io_context.

#include <tunedhttp/harness/result.hpp>
#include <tunedhttp/harness/scenario.hpp>

namespace tunedhttp::harness {

/// Whose client a run drives through the scenario's steps.
enum class Peer {
  tunedhttp,  ///< ours, in process.
  go,         ///< Go's net/http Transport, through the Go peer (peers/go, `session` mode).
};

/// How a scenario is run.
struct RunOptions {
  Peer peer = Peer::tunedhttp;
  /// The Go peer program; empty: found next to this program or on PATH.
  std::string go_peer_program;
};

/// "tunedhttp" or "go".
const char* peer_name(Peer peer);

/// The Go peer program: `hint` when given, else build/peers/go/tunedhttp-go-peer beside this
/// program, else tunedhttp-go-peer on PATH; empty when none is found.
std::string find_go_peer(const std::string& hint);

/// Runs `scenario` to the end (or to its first step that cannot complete) and checks every
/// expectation. Never hangs: each step has a deadline (Scenario::step_deadline scaled by
/// TUNEDHTTP_TIMING_SCALE). Never throws for a failing client or server: failures are reported
/// in the result.
/// With Peer::go, what Go does not show is not checked: pool counters other than dials and
/// reuses, which idle connection was reused, and a pooled connection's own close (expect_timer
/// conn_keep_alive); everything else is judged as for ours.
ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options = {});

/// The tolerance the scenario's timers get: its own `tolerance` scaled, or timing_tolerance().
std::chrono::nanoseconds scenario_tolerance(const Scenario& scenario);

}  // namespace tunedhttp::harness
