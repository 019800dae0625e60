#pragma once
// Runs a scenario: an in-process mock server and a tuned client on one io_context.

#include <tunedhttp/harness/result.hpp>
#include <tunedhttp/harness/scenario.hpp>

namespace tunedhttp::harness {

/// Runs `scenario` to the end (or to its first step that cannot complete) and checks every
/// expectation. Never hangs: each step has a deadline (Scenario::step_deadline scaled by
/// TUNEDHTTP_TIMING_SCALE). Never throws for a failing client or server: failures are reported
/// in the result.
ScenarioResult run_scenario(const Scenario& scenario);

/// The tolerance the scenario's timers get: its own `tolerance` scaled, or timing_tolerance().
std::chrono::nanoseconds scenario_tolerance(const Scenario& scenario);

}  // namespace tunedhttp::harness
