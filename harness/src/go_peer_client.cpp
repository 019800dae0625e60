#include "go_peer_client.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/system/errc.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <tunedhttp/settings_table.hpp>
#include <tunedhttp/units.hpp>
#include <type_traits>

namespace tunedhttp::harness::detail {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

std::string duration_text(std::chrono::nanoseconds d) { return std::to_string(d.count()) + "ns"; }

std::optional<TracePoint> trace_point_named(const std::string& name) {
  for (const auto point : all_trace_points) {
    if (trace_point_name(point) == name) return point;
  }
  return std::nullopt;
}

// A field of a result line, or `fallback` when absent, null or of another type.
template <class T>
T field(const json& object, const char* key, T fallback) {
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    return found->is_string() ? found->template get<std::string>() : fallback;
  } else if constexpr (std::is_same_v<T, bool>) {
    return found->is_boolean() ? found->template get<bool>() : fallback;
  } else {
    return found->is_number() ? found->template get<T>() : fallback;
  }
}

Clock::time_point after(Clock::time_point start, double ms) {
  return start +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms));
}

// A Go result line as our RequestOutcome: the same names, times on the same clock.
RequestOutcome outcome_of(const json& line) {
  RequestOutcome outcome;
  outcome.completed = true;
  outcome.started = Clock::time_point(std::chrono::nanoseconds(field(line, "mono_start_ns", 0LL)));
  outcome.completed_at = after(outcome.started, field(line, "elapsed_ms", 0.0));
  if (line.contains("status") && line["status"].is_number()) {
    outcome.status = line["status"].get<unsigned>();
  }
  if (line.contains("error") && line["error"].is_string()) {
    outcome.error_name = line["error"].get<std::string>();
    outcome.error = make_error_code(boost::system::errc::io_error);
  }
  outcome.error_message = field(line, "message", std::string{});
  const std::uint64_t connection = field(line, "connection", std::uint64_t{0});
  if (line.contains("trace") && line["trace"].is_object()) {
    for (const auto& [name, ms] : line["trace"].items()) {
      const auto point = trace_point_named(name);
      if (!point || !ms.is_number() || *point == TracePoint::connect_start ||
          *point == TracePoint::connect_done) {
        continue;  // attempts come from `connects`, one pair per address
      }
      TraceEvent event;
      event.point = *point;
      event.at = after(outcome.started, ms.get<double>());
      event.connection = connection;
      if (*point == TracePoint::got_conn) event.reused = field(line, "reused", false);
      outcome.trace.push_back(event);
    }
  }
  if (line.contains("connects") && line["connects"].is_array()) {
    for (const auto& attempt : line["connects"]) {
      const std::string family = field(attempt, "family", std::string{});
      const std::string detail = family + " " + field(attempt, "address", std::string{});
      TraceEvent start;
      start.point = TracePoint::connect_start;
      start.at = after(outcome.started, field(attempt, "start_ms", 0.0));
      start.detail = detail;
      outcome.trace.push_back(start);
      if (attempt.contains("done_ms") && attempt["done_ms"].is_number()) {
        TraceEvent done = start;
        done.point = TracePoint::connect_done;
        done.at = after(outcome.started, attempt["done_ms"].get<double>());
        outcome.trace.push_back(done);
      }
    }
  }
  std::stable_sort(outcome.trace.begin(), outcome.trace.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.at < b.at; });
  if (line.contains("keep_alive") && line["keep_alive"].is_object()) {
    const auto& keep_alive = line["keep_alive"];
    outcome.keep_alive.read = true;
    outcome.keep_alive.enabled = field(keep_alive, "enabled", false);
    outcome.keep_alive.idle_seconds = field(keep_alive, "idle_s", 0);
    outcome.keep_alive.interval_seconds = field(keep_alive, "interval_s", 0);
  }
  return outcome;
}

// The settings that differ from their defaults (the Go peer starts from the same AWS SDK
// defaults), under their names, and a block's members under the block when it is enabled;
// durations in nanoseconds, so nothing is rounded on the way. A setting the Go peer does not
// know reaches it only when a scenario sets it, and is then refused by name.
json settings_json(const Settings& s) {
  const Settings defaults;
  json settings = json::object();
  for (const auto& row : settings_table) {
    const bool is_default = value_text(s, row) == value_text(defaults, row);
    if (row.in_keep_alive_block() ? !s.keep_alive.enable : is_default) continue;
    const auto duration = duration_value(s, row);
    const auto count = count_value(s, row);
    const json value = duration ? json(duration_text(*duration))
                       : count  ? json(*count)
                                : json(value_text(s, row));  // a rate, N/D
    const auto dot = row.name.find('.');
    if (dot == std::string_view::npos) {
      settings[std::string(row.name)] = value;
    } else {
      settings[std::string(row.name.substr(0, dot))][std::string(row.name.substr(dot + 1))] = value;
    }
  }
  return settings;
}

}  // namespace

GoPeerClient::GoPeerClient(const std::string& program, const ClientSpec& client,
                           const std::string& ca_pem, unsigned short server_port,
                           const std::string& proxy_url, OnResult on_result)
    : process_({program, "session"}), on_result_(std::move(on_result)) {
  json config = {{"settings", settings_json(client.settings)}};
  if (!ca_pem.empty()) config["ca_pem"] = ca_pem;
  if (!proxy_url.empty()) config["proxy"] = proxy_url;
  if (!client.resolve.empty()) {
    // The Go peer takes "host:port" keys: the scenario's names are for its server.
    json resolve = json::object();
    for (const auto& [name, addresses] : client.resolve) {
      resolve[name + ":" + std::to_string(server_port)] = addresses;
    }
    config["resolve"] = resolve;
  }
  process_.write_line(config.dump());
  const auto deadline = Clock::now() + std::chrono::seconds{5};
  while (auto line = process_.read_line(deadline)) {
    const auto parsed = json::parse(*line, nullptr, false);
    if (!parsed.is_discarded() && field(parsed, "op", std::string{}) == "ready") return;
  }
  throw std::runtime_error("the Go peer " + program + " did not start: " + process_.error_text());
}

void GoPeerClient::start(int id, const std::vector<GoRequest>& requests) {
  json list = json::array();
  for (const auto& request : requests) {
    list.push_back({{"method", request.method},
                    {"url", request.url},
                    {"headers", request.headers},
                    {"body_size", request.body_size}});
  }
  process_.write_line(json{{"op", "requests"}, {"id", id}, {"requests", list}}.dump());
}

void GoPeerClient::dispatch(const std::string& line) {
  const auto parsed = json::parse(line, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return;
  const std::string op = field(parsed, "op", std::string{});
  const int id = field(parsed, "id", -1);
  if (op == "result") {
    on_result_(id, field(parsed, "index", std::size_t{0}), outcome_of(parsed));
  } else if (op == "pool") {
    pools_[id] = {field(parsed, "dials", std::uint64_t{0}),
                  field(parsed, "reuses", std::uint64_t{0})};
  } else if (op == "done") {
    done_.insert(id);
  }
}

void GoPeerClient::pump_until(Clock::time_point deadline, const std::function<bool()>& done) {
  while (!done()) {
    auto line = process_.read_line(deadline);
    if (!line) return;
    dispatch(*line);
  }
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> GoPeerClient::pool(
    Clock::time_point deadline) {
  const int id = next_id_++;
  process_.write_line(json{{"op", "pool"}, {"id", id}}.dump());
  pump_until(deadline, [&] { return pools_.count(id) != 0; });
  if (pools_.count(id) == 0) return std::nullopt;
  return pools_[id];
}

bool GoPeerClient::close_idle(Clock::time_point deadline) {
  const int id = next_id_++;
  process_.write_line(json{{"op", "close_idle"}, {"id", id}}.dump());
  pump_until(deadline, [&] { return done_.count(id) != 0; });
  return done_.erase(id) != 0;
}

std::string GoPeerClient::find_program(const std::string& hint) {
  namespace fs = std::filesystem;
  if (!hint.empty()) return hint;
  std::error_code error;
  const auto self = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const auto beside = self.parent_path().parent_path() / "peers/go/tunedhttp-go-peer";
    if (fs::exists(beside, error)) return beside.string();
  }
  if (const char* path = std::getenv("PATH")) {
    std::string paths = path;
    for (std::size_t start = 0; start <= paths.size();) {
      auto end = paths.find(':', start);
      if (end == std::string::npos) end = paths.size();
      const auto candidate = fs::path(paths.substr(start, end - start)) / "tunedhttp-go-peer";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
      start = end + 1;
    }
  }
  return {};
}

}  // namespace tunedhttp::harness::detail
