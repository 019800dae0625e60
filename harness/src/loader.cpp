// The scenario loader: YAML → Scenario, with every key checked (docs/scenarios.md).
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tunedhttp/error.hpp>
#include <tunedhttp/harness/loader.hpp>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/mockserver/event_log.hpp>
#include <tunedhttp/pool_stats.hpp>
#include <tunedhttp/settings_table.hpp>
#include <tunedhttp/trace.hpp>
#include <tunedhttp/units.hpp>

#include "yaml_fields.hpp"

namespace tunedhttp::harness {
namespace {

using detail::fail_at;
using detail::Fields;

// Name lists for validation, from the libraries' own name functions.
std::set<std::string> trace_point_names() {
  std::set<std::string> names;
  for (const auto point : all_trace_points) names.emplace(trace_point_name(point));
  return names;
}

std::set<std::string> close_reason_names() {
  std::set<std::string> names;
  for (const auto reason : all_close_reasons) names.emplace(close_reason_name(reason));
  return names;
}

std::set<std::string> event_kind_names() {
  std::set<std::string> names;
  for (const auto kind : mockserver::all_event_kinds) {
    names.emplace(mockserver::event_kind_name(kind));
  }
  return names;
}

std::string join(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

std::string read_name(const YAML::Node& node, const std::string& file, const std::string& what,
                      const std::set<std::string>& allowed) {
  std::string name = detail::read_string(node, file, what);
  if (allowed.count(name) == 0) {
    fail_at(node, file, what + ": unknown name '" + name + "' (known: " + join(allowed) + ")");
  }
  return name;
}

std::map<std::string, std::string> read_string_map(const YAML::Node& node, const std::string& file,
                                                   const std::string& what) {
  if (!node.IsMap()) fail_at(node, file, what + ": expected a map of names to values");
  std::map<std::string, std::string> values;
  for (const auto& entry : node) {
    values[detail::read_string(entry.first, file, what + " key")] =
        detail::read_scalar_text(entry.second, file, what + "." + entry.first.Scalar());
  }
  return values;
}

// Header fields the client sends or the server answers with: the client library's own rules
// (RFC 9110 token names, values without CR, LF or other controls), so a file cannot inject.
std::map<std::string, std::string> read_headers(const YAML::Node& node, const std::string& file,
                                                const std::string& what) {
  auto headers = read_string_map(node, file, what);
  for (const auto& entry : node) {
    const std::string& name = entry.first.Scalar();
    if (auto problem = field_problem(name, headers[name]); !problem.empty()) {
      fail_at(field_problem(name, "").empty() ? entry.second : entry.first, file,
              what + ": " + problem);
    }
  }
  return headers;
}

// A path the client sends or the server routes: starts with '/', no space or control character.
std::string read_path(const YAML::Node& node, const std::string& file, const std::string& what) {
  std::string path = detail::read_string(node, file, what);
  if (path.empty() || path.front() != '/') {
    fail_at(node, file, what + ": must start with '/', got " + quote(path));
  }
  if (!is_valid_request_target(path)) {
    fail_at(node, file,
            what + ": no spaces or control characters (CR, LF, ...) in a path, got " + quote(path));
  }
  return path;
}

// A status line's code: a final status a server may send.
unsigned read_status(const YAML::Node& node, const std::string& file, const std::string& what) {
  const auto status = detail::read_integer(node, file, what, 100);
  if (status > 599) {
    fail_at(node, file, what + ": an HTTP status is at most 599, got " + node.Scalar());
  }
  return static_cast<unsigned>(status);
}

// A size no larger than `limit` (what the run would otherwise try to allocate or send).
std::uint64_t read_bounded_size(const YAML::Node& node, const std::string& file,
                                const std::string& what, std::uint64_t limit,
                                const std::string& limit_text) {
  const auto size = detail::read_size(node, file, what);
  if (size > limit)
    fail_at(node, file, what + ": at most " + limit_text + ", got " + node.Scalar());
  return size;
}

// A duration a step waits for: it must fit in the step deadline, so every step ends.
std::chrono::nanoseconds read_step_duration(const YAML::Node& node, const std::string& file,
                                            const std::string& what,
                                            std::chrono::nanoseconds step_deadline) {
  const auto duration = detail::read_duration(node, file, what);
  if (duration < std::chrono::nanoseconds{0}) fail_at(node, file, what + ": must not be negative");
  if (duration >= step_deadline) {
    fail_at(node, file,
            what + ": " + node.Scalar() + " does not fit in the step deadline of " +
                format_duration(step_deadline) + " (raise 'step_deadline', up to " +
                format_duration(max_step_deadline) + ")");
  }
  return duration;
}

// Notes where each document starts, and nothing else.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Where a second YAML document starts, if the text has one. Not YAML::LoadAll: yaml-cpp 0.7
// loops there forever, without consuming anything, on input as small as a stray ','
// (jbeder/yaml-cpp#1040); here two documents starting at one place mean the parser is stuck,
// and the count stops at two.
std::optional<YAML::Mark> second_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts handler;
  while (handler.starts.size() < 2 && parser.HandleNextDocument(handler)) {
    const auto& starts = handler.starts;
    if (starts.size() == 2 && starts[0].pos == starts[1].pos) return std::nullopt;
  }
  if (handler.starts.size() < 2) return std::nullopt;
  return handler.starts[1];
}

// yaml-cpp keeps the first of two equal keys and drops the second without a word; a file
// that says one thing twice is refused instead, wherever the map is.
void reject_duplicate_keys(const YAML::Node& node, const std::string& file) {
  if (node.IsSequence()) {
    for (const auto& item : node) reject_duplicate_keys(item, file);
    return;
  }
  if (!node.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& entry : node) {
    if (entry.first.IsScalar() && !seen.insert(entry.first.Scalar()).second) {
      fail_at(entry.first, file,
              "duplicate key " + quote(entry.first.Scalar()) + " (each key may appear once)");
    }
    reject_duplicate_keys(entry.second, file);
  }
}

// A numeric IP address ("127.0.0.1", "::1"; brackets allowed for IPv6).
std::string read_address(const YAML::Node& node, const std::string& file, const std::string& what) {
  std::string text = detail::read_string(node, file, what);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (!is_ip_address(text)) {
    fail_at(node, file,
            what + ": expected a numeric IP address such as 127.0.0.1 or ::1, got " + quote(text));
  }
  return text;
}

std::vector<std::string> read_address_list(const YAML::Node& node, const std::string& file,
                                           const std::string& what) {
  if (!node.IsSequence() || node.size() == 0) {
    fail_at(node, file, what + ": expected a non-empty list of numeric IP addresses");
  }
  std::vector<std::string> addresses;
  for (const auto& item : node) addresses.push_back(read_address(item, file, what));
  return addresses;
}

mockserver::FaultTarget read_target(const YAML::Node& node, const std::string& file) {
  Fields fields(node, file, "target", {"connection", "request", "path", "listener"});
  fields.finish();
  mockserver::FaultTarget target;
  if (auto n = fields.get("connection")) {
    target.connection = detail::read_integer(n, file, "target.connection", 1);
  }
  if (auto n = fields.get("request")) {
    target.request = detail::read_integer(n, file, "target.request", 1);
  }
  if (auto n = fields.get("path")) target.path = read_path(n, file, "target.path");
  if (auto n = fields.get("listener")) {
    target.listener = read_address(n, file, "target.listener");
  }
  return target;
}

// `- hold_headers: {for: 2s}` with an optional sibling `target: {...}`.
mockserver::FaultConfig read_fault(const YAML::Node& node, const std::string& file) {
  if (!node.IsMap()) fail_at(node, file, "fault: expected a map such as 'hold_headers: {for: 2s}'");
  mockserver::FaultConfig config;
  YAML::Node name_node;
  for (const auto& entry : node) {
    const std::string key = detail::read_string(entry.first, file, "fault key");
    if (key == "target") {
      config.target = read_target(entry.second, file);
      continue;
    }
    if (!config.name.empty()) {
      fail_at(entry.first, file,
              "fault: one fault per list item, got '" + config.name + "' and '" + key + "'");
    }
    config.name = key;
    name_node = entry.first;
    if (entry.second.IsNull()) continue;
    config.parameters = read_string_map(entry.second, file, key);
  }
  if (config.name.empty()) fail_at(node, file, "fault: missing the fault name");
  if (std::string problem = mockserver::validate(config); !problem.empty()) {
    fail_at(name_node, file, "fault: " + problem);
  }
  return config;
}

mockserver::Route read_route(const YAML::Node& node, const std::string& file,
                             const std::string& path) {
  Fields fields(node, file, "route " + path,
                {"status", "body", "body_size", "headers", "chunked", "close"});
  fields.finish();
  mockserver::Route route;
  if (auto n = fields.get("status")) route.status = read_status(n, file, "status");
  if (route.status < 200) {
    fail_at(fields.get("status"), file,
            "status: a route answers with a final status (200 to 599), got " +
                std::to_string(route.status));
  }
  if (auto n = fields.get("body")) route.body = detail::read_string(n, file, "body");
  if (auto n = fields.get("body_size")) {
    route.body_size =
        read_bounded_size(n, file, "body_size", max_route_body, "16GiB (it is sent as generated)");
  }
  if (auto n = fields.get("headers")) route.headers = read_headers(n, file, "headers");
  if (auto n = fields.get("chunked")) route.chunked = detail::read_bool(n, file, "chunked");
  if (auto n = fields.get("close")) route.close = detail::read_bool(n, file, "close");
  return route;
}

ServerSpec read_server(const YAML::Node& node, const std::string& file) {
  Fields fields(node, file, "server", {"tls", "proxy", "listen", "faults", "routes"});
  fields.finish();
  ServerSpec server;
  if (auto n = fields.get("tls")) server.tls = detail::read_bool(n, file, "server.tls");
  if (auto n = fields.get("proxy")) server.proxy = detail::read_bool(n, file, "server.proxy");
  if (auto n = fields.get("listen")) {
    server.listen = read_address_list(n, file, "server.listen");
    if (server.listen.size() > 8) fail_at(n, file, "server.listen: at most 8 addresses");
  }
  if (auto n = fields.get("faults")) {
    if (!n.IsSequence()) fail_at(n, file, "server.faults: expected a list of faults");
    for (const auto& item : n) {
      server.faults.push_back(read_fault(item, file));
      const auto needs = mockserver::requirements_of(server.faults.back().name);
      if (needs.tls && !server.tls) {
        fail_at(item, file, server.faults.back().name + ": needs a TLS server (server.tls: true)");
      }
      if (needs.proxy && !server.proxy) {
        fail_at(item, file,
                server.faults.back().name + ": needs a proxy server (server.proxy: true)");
      }
    }
  }
  if (auto n = fields.get("routes")) {
    if (!n.IsMap()) fail_at(n, file, "server.routes: expected a map of path to route");
    for (const auto& entry : n) {
      const std::string path = read_path(entry.first, file, "server.routes");
      server.routes[path] = read_route(entry.second, file, path);
    }
  }
  return server;
}

// `resolve: {dual.test: ["::1", 127.0.0.1]}`: names the requests may use, and their addresses.
std::map<std::string, std::vector<std::string>> read_resolve(const YAML::Node& node,
                                                             const std::string& file) {
  if (!node.IsMap())
    fail_at(node, file, "client.resolve: expected a map of host name to addresses");
  std::map<std::string, std::vector<std::string>> resolve;
  for (const auto& entry : node) {
    const std::string name = detail::read_string(entry.first, file, "client.resolve key");
    const bool host_name = !name.empty() && name.size() <= 253 &&
                           std::all_of(name.begin(), name.end(), [](unsigned char c) {
                             return std::isalnum(c) || c == '-' || c == '.';
                           });
    if (!host_name) {
      fail_at(entry.first, file,
              "client.resolve: " + quote(name) + " is not a host name (letters, digits, '-', '.')");
    }
    resolve[name] = read_address_list(entry.second, file, "client.resolve." + name);
  }
  return resolve;
}

// One setting's value (its row says whether a duration or a count, and the range).
void read_setting(const YAML::Node& node, const std::string& file, const SettingRow& row,
                  ClientSpec& client) {
  const std::string what = "client." + std::string(row.name);
  detail::require_scalar(node, file, what,
                         row.is_duration() ? "a duration such as 250ms or 1.5s"
                         : row.is_rate()   ? "bytes per second over a duration, N/D (1KiB/5s)"
                                           : "a whole number");
  if (auto problem = set_from_text(client.settings, row, node.Scalar()); !problem.empty()) {
    fail_at(node, file, what + ": " + problem);
  }
  client.configured.emplace_back(std::string(row.name), node.Scalar());
}

// The client's keys: every setting of the table (a block's members under the block's key, as
// `keep_alive: {idle: 1s}`), and `resolve`.
ClientSpec read_client(const YAML::Node& node, const std::string& file) {
  std::vector<std::string> keys{"resolve"};
  for (const auto& row : settings_table) {
    const std::string key(row.name.substr(0, row.name.find('.')));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  Fields fields(node, file, "client", keys);
  fields.finish();
  ClientSpec client;
  // File order for the report's "configured" column.
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (const SettingRow* row = find_setting(key)) {
      read_setting(entry.second, file, *row, client);
      continue;
    }
    if (key == "resolve") continue;
    std::vector<std::string> members;
    for (const auto& row : settings_table) {
      if (row.name.starts_with(key + ".")) members.emplace_back(row.name.substr(key.size() + 1));
    }
    Fields members_of(entry.second, file, "client." + key, members);
    members_of.finish();
    if (entry.second.size() == 0) {
      fail_at(entry.second, file, "client." + key + ": give at least one of its fields");
    }
    for (const auto& member : entry.second) {
      read_setting(member.second, file, *find_setting(key + "." + member.first.Scalar()), client);
    }
  }
  if (auto n = fields.get("resolve")) client.resolve = read_resolve(n, file);
  return client;
}

std::vector<std::string> read_trace_list(const YAML::Node& node, const std::string& file,
                                         const std::string& what) {
  if (!node.IsSequence()) fail_at(node, file, what + ": expected a list of trace point names");
  static const std::set<std::string> names = trace_point_names();
  std::vector<std::string> points;
  for (const auto& item : node) points.push_back(read_name(item, file, what, names));
  return points;
}

// Names of the settings whose timer runs in `scopes`, for `expect.timer` and `expect_timer`.
std::set<std::string> timer_names(std::initializer_list<TimerScope> scopes) {
  std::set<std::string> names;
  for (const auto& row : settings_table) {
    if (std::find(scopes.begin(), scopes.end(), row.scope) != scopes.end()) {
      names.emplace(row.name);
    }
  }
  return names;
}

// What reading a step needs from the rest of the file.
struct StepContext {
  std::chrono::nanoseconds step_deadline;
  std::set<std::string> host_names;  ///< client.resolve's names
};

RequestExpectation read_expectation(const YAML::Node& node, const std::string& file,
                                    std::chrono::nanoseconds step_deadline) {
  Fields fields(node, file, "expect",
                {"status", "error", "pending_after", "timer", "fires_after", "reused", "connection",
                 "keep_alive", "trace", "no_trace", "connect_attempts"});
  fields.finish();
  RequestExpectation expect;
  if (auto n = fields.get("status")) expect.status = read_status(n, file, "expect.status");
  if (auto n = fields.get("error")) {
    static const std::set<std::string> errors = error_names();
    expect.error = read_name(n, file, "expect.error", errors);
  }
  if (auto n = fields.get("pending_after")) {
    expect.pending_after = read_step_duration(n, file, "expect.pending_after", step_deadline);
  }
  const int outcomes =
      (expect.status ? 1 : 0) + (expect.error ? 1 : 0) + (expect.pending_after ? 1 : 0);
  if (outcomes > 1) {
    fail_at(node, file, "expect: give one of 'status', 'error' or 'pending_after', not several");
  }
  if (outcomes == 0) {
    fail_at(node, file, "expect: missing field 'status' or 'error' (or 'pending_after')");
  }
  if (auto n = fields.get("keep_alive")) {
    KeepAliveExpectation keep_alive;
    if (n.IsScalar() && n.Scalar() == "off") {
      keep_alive.enabled = false;
    } else {
      const auto period = detail::read_duration(n, file, "expect.keep_alive (a period or off)");
      if (period % std::chrono::seconds{1} != std::chrono::nanoseconds{0} || period.count() <= 0) {
        fail_at(n, file,
                "expect.keep_alive: the socket holds whole seconds; got '" + n.Scalar() + "'");
      }
      keep_alive.period = std::chrono::duration_cast<std::chrono::seconds>(period);
    }
    expect.keep_alive = keep_alive;
  }
  if (auto n = fields.get("connection")) {
    static const std::set<std::string> choices = [] {
      std::set<std::string> names;
      for (const auto choice : all_connection_choices)
        names.emplace(connection_choice_name(choice));
      return names;
    }();
    const std::string name = read_name(n, file, "expect.connection", choices);
    for (const auto choice : all_connection_choices) {
      if (name == connection_choice_name(choice)) expect.connection = choice;
    }
  }
  if (auto n = fields.get("timer")) {
    static const std::set<std::string> timers =
        timer_names({TimerScope::request, TimerScope::request_or_idle});
    expect.timer = find_setting(read_name(n, file, "expect.timer", timers))->id;
  }
  if (auto n = fields.get("fires_after")) {
    if (expect.pending_after) fail_at(n, file, "expect.fires_after: not with pending_after");
    expect.fires_after = detail::read_duration(n, file, "expect.fires_after");
    if (!expect.timer && expect.error) {
      for (const auto& row : settings_table) {
        if (row.timeout && error_name(make_error_code(*row.timeout)) == *expect.error) {
          expect.timer = row.id;
        }
      }
    }
    if (!expect.timer) {
      fail_at(n, file,
              "expect.fires_after: no timer to measure; add 'timer:' (" +
                  join(timer_names({TimerScope::request, TimerScope::request_or_idle})) +
                  ") or an error such as response_header_timeout");
    }
  } else if (expect.timer) {
    fail_at(fields.get("timer"), file, "expect.timer: needs 'fires_after'");
  }
  if (auto n = fields.get("reused")) expect.reused = detail::read_bool(n, file, "expect.reused");
  if (auto n = fields.get("trace")) expect.trace = read_trace_list(n, file, "expect.trace");
  if (auto n = fields.get("no_trace"))
    expect.no_trace = read_trace_list(n, file, "expect.no_trace");
  if (auto n = fields.get("connect_attempts")) {
    expect.connect_attempts = detail::read_integer(n, file, "expect.connect_attempts", 0);
  }
  return expect;
}

RequestStep read_request(const YAML::Node& node, const YAML::Node& expect_node,
                         const std::string& file, const StepContext& context) {
  Fields fields(node, file, "request", {"method", "path", "host", "body", "headers", "parallel"});
  fields.finish();
  RequestStep request;
  if (auto n = fields.get("method")) {
    request.method = detail::read_string(n, file, "request.method");
    static const std::set<std::string> methods = {"GET",   "HEAD",   "POST",   "PUT",
                                                  "PATCH", "DELETE", "OPTIONS"};
    if (methods.count(request.method) == 0) {
      fail_at(
          n, file,
          "request.method: unknown method '" + request.method + "' (known: " + join(methods) + ")");
    }
  }
  if (auto n = fields.get("path")) request.path = read_path(n, file, "request.path");
  if (auto n = fields.get("host")) {
    request.host = detail::read_string(n, file, "request.host");
    if (request.host != "localhost" && request.host != "127.0.0.1" &&
        context.host_names.count(request.host) == 0) {
      fail_at(n, file,
              "request.host: the mock server answers as localhost, 127.0.0.1 or a name of "
              "client.resolve, got " +
                  quote(request.host));
    }
  }
  if (auto n = fields.get("body")) {
    request.body_size = read_bounded_size(n, file, "request.body", max_request_body, "64MiB");
  }
  if (auto n = fields.get("headers")) request.headers = read_headers(n, file, "request.headers");
  if (auto n = fields.get("parallel")) {
    const auto parallel = detail::read_integer(n, file, "request.parallel", 1);
    if (parallel > static_cast<std::int64_t>(max_parallel_requests)) {
      fail_at(n, file,
              "request.parallel: at most " + std::to_string(max_parallel_requests) +
                  " requests at once (as request --parallel), got " + n.Scalar());
    }
    request.parallel = static_cast<unsigned>(parallel);
  }
  if (!expect_node.IsDefined()) fail_at(node, file, "request: missing field 'expect'");
  request.expect = read_expectation(expect_node, file, context.step_deadline);
  return request;
}

PoolExpectation read_pool(const YAML::Node& node, const std::string& file) {
  Fields fields(node, file, "expect_pool", {"dials", "reuses", "retries", "idle", "closes"});
  fields.finish();
  PoolExpectation pool;
  auto count = [&](const char* key, std::optional<std::uint64_t>& out) {
    if (auto n = fields.get(key))
      out = detail::read_integer(n, file, std::string("expect_pool.") + key, 0);
  };
  count("dials", pool.dials);
  count("reuses", pool.reuses);
  count("retries", pool.retries);
  count("idle", pool.idle);
  if (auto n = fields.get("closes")) {
    if (!n.IsMap()) fail_at(n, file, "expect_pool.closes: expected a map of reason to count");
    static const std::set<std::string> reasons = close_reason_names();
    for (const auto& entry : n) {
      const std::string name = read_name(entry.first, file, "expect_pool.closes", reasons);
      const auto reason =
          std::find_if(std::begin(all_close_reasons), std::end(all_close_reasons),
                       [&](CloseReason candidate) { return name == close_reason_name(candidate); });
      pool.closes[*reason] =
          detail::read_integer(entry.second, file, "expect_pool.closes." + name, 0);
    }
  }
  return pool;
}

ServerEventsStep read_server_events(const YAML::Node& node, const std::string& file) {
  if (!node.IsSequence()) fail_at(node, file, "expect_server: expected a list of events");
  static const std::set<std::string> kinds = event_kind_names();
  ServerEventsStep step;
  for (const auto& item : node) {
    Fields fields(item, file, "expect_server", {"event", "connection", "count", "detail"});
    fields.finish();
    ServerEventExpectation expect;
    expect.event = read_name(fields.require("event"), file, "expect_server.event", kinds);
    if (auto n = fields.get("connection")) {
      expect.connection = detail::read_integer(n, file, "expect_server.connection", 1);
    }
    if (auto n = fields.get("count"))
      expect.count = detail::read_integer(n, file, "expect_server.count", 0);
    if (auto n = fields.get("detail"))
      expect.detail = detail::read_string(n, file, "expect_server.detail");
    step.events.push_back(std::move(expect));
  }
  return step;
}

TimerStep read_timer_step(const YAML::Node& node, const std::string& file) {
  Fields fields(node, file, "expect_timer", {"timer", "fires_after", "connection"});
  fields.finish();
  TimerStep step;
  const YAML::Node timer = fields.require("timer");
  static const std::set<std::string> idle_timers =
      timer_names({TimerScope::idle, TimerScope::request_or_idle});
  const std::string name = detail::read_string(timer, file, "expect_timer.timer");
  if (idle_timers.count(name) == 0) {
    fail_at(timer, file,
            "expect_timer.timer: only " + join(idle_timers) +
                " fire without a request (use a request's 'expect.fires_after' for the "
                "others), got '" +
                timer.Scalar() + "'");
  }
  step.timer = find_setting(name)->id;
  step.fires_after =
      detail::read_duration(fields.require("fires_after"), file, "expect_timer.fires_after");
  if (auto n = fields.get("connection")) {
    step.connection = detail::read_integer(n, file, "expect_timer.connection", 1);
  }
  return step;
}

Step read_step(const YAML::Node& node, const std::string& file, const StepContext& context) {
  Fields fields(
      node, file, "step",
      {"request", "expect", "wait", "expect_pool", "expect_server", "expect_timer", "close_idle"});
  fields.finish();
  const char* kinds[] = {"request",       "wait",         "expect_pool",
                         "expect_server", "expect_timer", "close_idle"};
  std::string kind;
  for (const char* candidate : kinds) {
    if (!fields.get(candidate).IsDefined()) continue;
    if (!kind.empty()) {
      fail_at(node, file,
              "step: one of request, wait, expect_pool, expect_server, expect_timer, "
              "close_idle per step, got both '" +
                  kind + "' and '" + candidate + "'");
    }
    kind = candidate;
  }
  if (kind.empty()) {
    fail_at(node, file,
            "step: missing one of request, wait, expect_pool, expect_server, expect_timer, "
            "close_idle");
  }
  Step step{WaitStep{}, detail::location_of(node, file)};
  const YAML::Node value = fields.get(kind);
  if (kind != "request" && fields.get("expect").IsDefined()) {
    fail_at(fields.get("expect"), file, "step: 'expect' belongs to a request step");
  }
  if (kind == "request") {
    step.kind = read_request(value, fields.get("expect"), file, context);
  } else if (kind == "wait") {
    step.kind = WaitStep{read_step_duration(value, file, "wait", context.step_deadline)};
  } else if (kind == "expect_pool") {
    step.kind = read_pool(value, file);
  } else if (kind == "expect_server") {
    step.kind = read_server_events(value, file);
  } else if (kind == "close_idle") {
    if (!value.IsScalar() || value.Scalar() != "true") {
      fail_at(value, file, "close_idle: expected true");
    }
    step.kind = CloseIdleStep{};
  } else {
    step.kind = read_timer_step(value, file);
  }
  return step;
}

}  // namespace

LoadError::LoadError(SourceLocation where, const std::string& problem)
    : std::runtime_error(to_string(where) + ": " + problem),
      where_(std::move(where)),
      problem_(problem) {}

Scenario load_scenario_text(const std::string& text, const std::string& file) {
  if (text.size() > max_scenario_file) {
    throw LoadError({file, 0, 0}, "larger than " + std::to_string(max_scenario_file / 1024) +
                                      " KiB; a scenario file is a page of YAML");
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
    if (const auto second = second_document(text)) {
      throw LoadError({file, second->line + 1, second->column + 1},
                      "a second YAML document ('---'): a scenario file holds one scenario");
    }
  } catch (const YAML::DeepRecursion& e) {
    throw LoadError(
        {file, e.mark.line + 1, e.mark.column + 1},
        "not valid YAML: nested more than " + std::to_string(e.depth() - 1) + " levels deep");
  } catch (const YAML::Exception& e) {
    throw LoadError({file, e.mark.line + 1, e.mark.column + 1}, "not valid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) {
    // Blank lines and comments only: empty. Anything else yaml-cpp could not read as a document.
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const auto first = line.find_first_not_of(" \t\r");
      if (first != std::string::npos && line[first] != '#') {
        throw LoadError({file, 1, 1},
                        "not valid YAML: no document could be read (a stray character such as "
                        "',' at the top level?)");
      }
    }
    throw LoadError({file, 1, 1}, "empty scenario file");
  }
  reject_duplicate_keys(root, file);
  Fields fields(root, file, "scenario",
                {"name", "about", "tolerance", "step_deadline", "server", "client", "steps", "go"});
  fields.finish();

  Scenario scenario;
  scenario.file = file;
  const std::filesystem::path path(file);
  scenario.group = path.parent_path().filename().string();
  scenario.name =
      scenario.group.empty() ? path.stem().string() : scenario.group + "/" + path.stem().string();
  if (auto n = fields.get("name")) scenario.name = detail::read_string(n, file, "name");
  if (auto n = fields.get("about")) scenario.about = detail::read_string(n, file, "about");
  if (auto n = fields.get("step_deadline")) {
    scenario.step_deadline = detail::read_duration(n, file, "step_deadline");
    if (scenario.step_deadline <= std::chrono::nanoseconds{0}) {
      fail_at(n, file, "step_deadline: must be positive");
    }
    if (scenario.step_deadline > max_step_deadline) {
      fail_at(n, file,
              "step_deadline: at most " + format_duration(max_step_deadline) + " (every step " +
                  "must end), got " + n.Scalar());
    }
  }
  if (auto n = fields.get("tolerance")) {
    scenario.tolerance = detail::read_duration(n, file, "tolerance");
    if (*scenario.tolerance <= std::chrono::nanoseconds{0}) {
      fail_at(n, file, "tolerance: must be positive");
    }
    if (*scenario.tolerance > scenario.step_deadline) {
      fail_at(n, file,
              "tolerance: at most the step deadline (" + format_duration(scenario.step_deadline) +
                  "), got " + n.Scalar());
    }
  }
  if (auto n = fields.get("go")) {
    Fields go(n, file, "go", {"differs"});
    go.finish();
    scenario.go_differs = detail::read_string(go.require("differs"), file, "go.differs");
    if (scenario.go_differs->empty()) fail_at(n, file, "go.differs: say why Go differs");
  }
  if (auto n = fields.get("server")) scenario.server = read_server(n, file);
  if (auto n = fields.get("client")) scenario.client = read_client(n, file);
  const YAML::Node steps = fields.require("steps");
  if (!steps.IsSequence() || steps.size() == 0) {
    fail_at(steps, file, "steps: expected a non-empty list of steps");
  }
  StepContext context{scenario.step_deadline, {}};
  for (const auto& [name, addresses] : scenario.client.resolve) context.host_names.insert(name);
  for (const auto& item : steps) scenario.steps.push_back(read_step(item, file, context));
  return scenario;
}

Scenario load_scenario_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    throw LoadError({path, 0, 0}, "cannot read the file: no such file");
  }
  if (!std::filesystem::is_regular_file(path, error)) {
    throw LoadError({path, 0, 0}, "not a regular file (a scenario is a *.yaml file)");
  }
  const auto size = std::filesystem::file_size(path, error);
  if (!error && size > max_scenario_file) {
    throw LoadError({path, 0, 0}, "larger than " + std::to_string(max_scenario_file / 1024) +
                                      " KiB; a scenario file is a page of YAML");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError({path, 0, 0}, "cannot read the file");
  // Read at most one byte past the limit, whatever the file grew to since its size was taken.
  std::string text(max_scenario_file + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw LoadError({path, 0, 0}, "cannot read the file");
  text.resize(static_cast<std::size_t>(in.gcount()));
  return load_scenario_text(text, path);
}

}  // namespace tunedhttp::harness
