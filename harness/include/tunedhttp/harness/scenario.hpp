#pragma once
// The scenario model: what a scenario file says, after loading and validation (docs/scenarios.md).
// Plain values only; no YAML and no Asio here.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tunedhttp/mockserver/fault_config.hpp>
#include <tunedhttp/mockserver/route.hpp>
#include <tunedhttp/pool_stats.hpp>
#include <tunedhttp/settings.hpp>
#include <tunedhttp/settings_table.hpp>
#include <variant>
#include <vector>

namespace tunedhttp::harness {

/// Bounds on what a scenario (or `tunedhttp request`) may ask for, checked when it loads: past
/// them a run would exhaust descriptors or memory before it told anything about the settings.
/// Requests sent at once by one step (`parallel`), and by `request --parallel`.
inline constexpr unsigned max_parallel_requests = 1000;
/// A request body held in memory (`body:` of a request step).
inline constexpr std::uint64_t max_request_body = 64ull * 1024 * 1024;
/// A generated response body (`body_size:` of a route); the mock server writes it in pieces.
inline constexpr std::uint64_t max_route_body = 16ull * 1024 * 1024 * 1024;
/// The longest a step may be allowed to take (`step_deadline`): a scenario may raise its
/// deadline up to this, but not remove it, so `tunedhttp run` always ends.
inline constexpr std::chrono::nanoseconds max_step_deadline = std::chrono::minutes{10};
/// The largest scenario file read (a scenario is a page of YAML, not a data set).
inline constexpr std::uint64_t max_scenario_file = 256 * 1024;

/// A place in a scenario file, 1-based, for messages ("file:line:column").
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

/// "file:line:column".
std::string to_string(const SourceLocation& where);

/// `server:` — the in-process mock server.
struct ServerSpec {
  bool tls = false;
  /// Numeric addresses to listen on, all on one port (default: 127.0.0.1 alone). Faults can
  /// target one (`target: {listener: "::1"}`); the base URL uses the first.
  std::vector<std::string> listen;
  std::vector<mockserver::FaultConfig> faults;
  std::map<std::string, mockserver::Route> routes;  ///< path → answer; other paths get 200 "ok".
};

/// `client:` — the eight settings (AWS SDK defaults for those not given), the extensions, and
/// names that resolve to chosen addresses.
struct ClientSpec {
  Settings settings;
  /// Host name → numeric addresses, in order (ClientOptions::resolve); a request's `host` may
  /// be one of these names.
  std::map<std::string, std::vector<std::string>> resolve;
  /// Names of the settings the file sets, in file order, with their text ("200ms", "1").
  std::vector<std::pair<std::string, std::string>> configured;
};

/// TCP keep-alive options seen on a request's socket (`keep_alive: 30s` or `keep_alive: off`).
struct KeepAliveExpectation {
  bool enabled = true;
  std::chrono::seconds period{0};  ///< TCP_KEEPIDLE = TCP_KEEPINTVL, when enabled.
};

/// Which idle connection a reused request must get (`connection: most_recently_idled`).
enum class ConnectionChoice { most_recently_idled, least_recently_idled };

/// Every ConnectionChoice, in declaration order.
inline constexpr ConnectionChoice all_connection_choices[] = {
    ConnectionChoice::most_recently_idled, ConnectionChoice::least_recently_idled};

/// "most_recently_idled", as a scenario writes it.
const char* connection_choice_name(ConnectionChoice choice);

/// `expect:` under a request: what each of its (parallel) requests must end with.
/// Exactly one of `status`, `error` and `pending_after` is set.
struct RequestExpectation {
  std::optional<unsigned> status;    ///< the final status (implies no error).
  std::optional<std::string> error;  ///< an error's short name (`response_header_timeout`).
  /// The request must still be pending this long after it started (a limit that does not
  /// fire in a scenario's time, e.g. the 30 s default connect); the runner then moves on and
  /// abandons it at the end of the scenario.
  std::optional<std::chrono::nanoseconds> pending_after;
  std::optional<KeepAliveExpectation> keep_alive;  ///< socket options at got_conn.
  std::optional<ConnectionChoice> connection;      ///< which idle connection it reused.
  /// The setting whose timer `fires_after` measures (default: the one whose timeout `error`
  /// names); one whose timer runs during a request (TimerScope::request or request_or_idle).
  std::optional<SettingId> timer;
  std::optional<std::chrono::nanoseconds> fires_after;  ///< never earlier, at most tolerance late.
  std::optional<bool> reused;         ///< whether the connection came from the idle pool.
  std::vector<std::string> trace;     ///< trace points that must appear.
  std::vector<std::string> no_trace;  ///< trace points that must not appear.
  /// How many connect attempts (`connect_start`) the request made, over every address.
  std::optional<std::uint64_t> connect_attempts;
};

/// `- request:` — send `parallel` identical requests at once and wait for all of them.
struct RequestStep {
  std::string method = "GET";
  std::string path = "/";
  /// The host name in the URL instead of the server's 127.0.0.1, e.g. `localhost`: the same
  /// server under another pool key (scheme + host + port), to show cross-host pool rules.
  std::string host;
  std::uint64_t body_size = 0;
  std::map<std::string, std::string> headers;
  unsigned parallel = 1;
  RequestExpectation expect;
};

/// `- wait: D` — let time pass (idle timers run).
struct WaitStep {
  std::chrono::nanoseconds duration{0};
};

/// `- expect_pool:` — the client's pool counters now.
struct PoolExpectation {
  std::optional<std::uint64_t> dials;
  std::optional<std::uint64_t> reuses;
  std::optional<std::uint64_t> retries;
  std::optional<std::uint64_t> idle;
  std::map<CloseReason, std::uint64_t> closes;  ///< close reason → count.
};

/// One line of `- expect_server:` — how many events of a kind the server logged.
struct ServerEventExpectation {
  std::string event;                        ///< EventKind name (`closed_by_peer`).
  std::optional<std::uint64_t> connection;  ///< the server's connection number (from 1).
  std::optional<std::uint64_t> count;       ///< exact count; absent = at least one.
  std::optional<std::string> detail;        ///< the event's detail must equal this.
};

/// `- expect_server:` — waits (up to the step deadline) for the events expected to exist.
struct ServerEventsStep {
  std::vector<ServerEventExpectation> events;
};

/// `- expect_timer:` — a timer that fires without a request pending (idle_conn): waits for it.
struct TimerStep {
  /// A setting whose timer runs while a connection is idle (TimerScope::idle or request_or_idle).
  SettingId timer = SettingId::idle_conn;
  std::chrono::nanoseconds fires_after{0};
  std::optional<std::uint64_t> connection;  ///< client connection; default: last one put idle.
};

/// `- close_idle: true` — the client's close_idle_connections() (Go's CloseIdleConnections):
/// idle connections close now, and connections still in use close when they come back, until
/// a request asks for a connection again.
struct CloseIdleStep {};

using StepKind = std::variant<RequestStep, WaitStep, PoolExpectation, ServerEventsStep, TimerStep,
                              CloseIdleStep>;

/// One step with where it is written.
struct Step {
  StepKind kind;
  SourceLocation where;
};

/// A whole scenario file.
struct Scenario {
  std::string name;   ///< `name:`, or "<folder>/<file stem>".
  std::string about;  ///< one sentence.
  std::string file;   ///< the path it was loaded from.
  std::string group;  ///< the folder name (the setting), for labels and reports.
  /// How late a timer may fire; default timing_tolerance(). Scaled by TUNEDHTTP_TIMING_SCALE.
  std::optional<std::chrono::nanoseconds> tolerance;
  /// Longest a single step may take before the runner gives up on it (scaled as well).
  std::chrono::nanoseconds step_deadline = std::chrono::seconds{5};
  ServerSpec server;
  ClientSpec client;
  std::vector<Step> steps;
  /// `go: {differs: "why"}`: Go's client is known to behave otherwise here, on purpose; a run
  /// with the Go peer reports the difference instead of failing.
  std::optional<std::string> go_differs;
};

}  // namespace tunedhttp::harness
