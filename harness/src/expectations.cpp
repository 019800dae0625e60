#include "expectations.hpp"

#include <algorithm>
#include <tunedhttp/units.hpp>

namespace tunedhttp::harness::detail {
namespace {

std::string outcome_text(const RequestOutcome& outcome) {
  if (!outcome.error_name.empty() || outcome.error) {
    std::string name = outcome.error_name.empty() ? outcome.error.message() : outcome.error_name;
    return "error " + name;
  }
  return "status " + std::to_string(outcome.status);
}

bool matches(const ServerEventExpectation& expect, const mockserver::Event& event) {
  if (mockserver::event_kind_name(event.kind) != expect.event) return false;
  if (expect.connection && event.connection != *expect.connection) return false;
  if (expect.detail && event.detail != *expect.detail) return false;
  return true;
}

std::string describe(const ServerEventExpectation& expect) {
  std::string text = expect.event;
  if (expect.connection) text += " on connection " + std::to_string(*expect.connection);
  if (expect.detail) text += " with detail '" + *expect.detail + "'";
  return text;
}

std::uint64_t count_matching(const ServerEventExpectation& expect,
                             const std::vector<mockserver::Event>& events) {
  return static_cast<std::uint64_t>(std::count_if(
      events.begin(), events.end(), [&](const auto& event) { return matches(expect, event); }));
}

}  // namespace

std::vector<std::string> check_outcome(const RequestExpectation& expect,
                                       const RequestOutcome& outcome) {
  std::vector<std::string> failures;
  if (expect.pending_after && outcome.completed) {
    failures.push_back("got " + outcome_text(outcome) + " after " +
                       format_duration(outcome.completed_at - outcome.started) +
                       "; want the request still pending after " +
                       format_duration(*expect.pending_after));
  }
  if (expect.status) {
    if (outcome.error || outcome.status != *expect.status) {
      failures.push_back("got " + outcome_text(outcome) + "; want status " +
                         std::to_string(*expect.status));
    }
  }
  if (expect.error && outcome.error_name != *expect.error) {
    failures.push_back("got " + outcome_text(outcome) + "; want error " + *expect.error);
  }
  if (expect.reused) {
    const TraceEvent* got_conn = outcome.find(TracePoint::got_conn);
    const bool reused = got_conn != nullptr && got_conn->reused;
    if (reused != *expect.reused) {
      failures.push_back(std::string("got ") + (reused ? "a reused" : "a new") +
                         " connection; want " + (*expect.reused ? "a reused" : "a new") + " one");
    }
  }
  if (expect.keep_alive) {
    const auto& got = outcome.keep_alive;
    const auto& want = *expect.keep_alive;
    const std::string want_text =
        want.enabled ? "keep-alive idle=interval=" + std::to_string(want.period.count()) + "s"
                     : "keep-alive off";
    if (!got.read) {
      failures.push_back(
          "got no socket to read keep-alive options from (got_conn without a "
          "socket); want " +
          want_text);
    } else if (got.enabled != want.enabled ||
               (want.enabled && (got.idle_seconds != want.period.count() ||
                                 got.interval_seconds != want.period.count()))) {
      const std::string got_text =
          got.enabled ? "keep-alive idle=" + std::to_string(got.idle_seconds) +
                            "s interval=" + std::to_string(got.interval_seconds) + "s"
                      : "keep-alive off";
      failures.push_back("got " + got_text + "; want " + want_text);
    }
  }
  for (const auto& name : expect.trace) {
    const bool present = std::any_of(outcome.trace.begin(), outcome.trace.end(),
                                     [&](auto& e) { return trace_point_name(e.point) == name; });
    if (!present) failures.push_back("got no trace point " + name + "; want it");
  }
  for (const auto& name : expect.no_trace) {
    const bool present = std::any_of(outcome.trace.begin(), outcome.trace.end(),
                                     [&](auto& e) { return trace_point_name(e.point) == name; });
    if (present) failures.push_back("got trace point " + name + "; want none");
  }
  if (expect.connect_attempts) {
    const auto attempts = static_cast<std::uint64_t>(
        std::count_if(outcome.trace.begin(), outcome.trace.end(),
                      [](auto& e) { return e.point == TracePoint::connect_start; }));
    if (attempts != *expect.connect_attempts) {
      failures.push_back("got " + std::to_string(attempts) + " connect attempts; want " +
                         std::to_string(*expect.connect_attempts));
    }
  }
  return failures;
}

std::vector<std::string> check_connection_choice(ConnectionChoice choice,
                                                 const RequestOutcome& outcome,
                                                 const std::vector<TraceEvent>& history) {
  // The idle list before the request: connections put idle (and not closed since), in order.
  std::vector<std::uint64_t> idle;
  for (const auto& event : history) {
    if (event.at > outcome.started) break;
    if (event.point == TracePoint::put_idle_conn && !event.error && event.detail.empty()) {
      idle.push_back(event.connection);
    } else if (event.point == TracePoint::idle_conn_closed || event.point == TracePoint::got_conn) {
      idle.erase(std::remove(idle.begin(), idle.end(), event.connection), idle.end());
    }
  }
  const char* want_name = choice == ConnectionChoice::most_recently_idled ? "most recently idled"
                                                                          : "least recently idled";
  if (idle.empty())
    return {std::string("got no idle connection before the request; want the ") + want_name +
            " one"};
  const std::uint64_t want =
      choice == ConnectionChoice::most_recently_idled ? idle.back() : idle.front();
  const TraceEvent* got_conn = outcome.find(TracePoint::got_conn);
  if (got_conn == nullptr || !got_conn->reused || got_conn->connection != want) {
    const std::string got = got_conn == nullptr ? "no connection"
                                                : (got_conn->reused ? "idle" : "new") +
                                                      std::string(" connection ") +
                                                      std::to_string(got_conn->connection);
    return {"got " + got + "; want the " + want_name + " connection " + std::to_string(want)};
  }
  return {};
}

std::vector<std::string> check_pool(const PoolExpectation& expect, const PoolStats& stats) {
  std::vector<std::string> failures;
  auto check = [&](const char* what, const std::optional<std::uint64_t>& want, std::uint64_t got) {
    if (want && *want != got) {
      failures.push_back(std::string("pool ") + what + ": got " + std::to_string(got) + "; want " +
                         std::to_string(*want));
    }
  };
  check("dials", expect.dials, stats.dials);
  check("reuses", expect.reuses, stats.reuses);
  check("retries", expect.retries, stats.retries);
  check("idle", expect.idle, stats.idle);
  for (const auto& [reason, want] : expect.closes) {
    auto found = stats.closes_by_reason.find(reason);
    const std::uint64_t got = found == stats.closes_by_reason.end() ? 0 : found->second;
    check(("closes " + reason).c_str(), want, got);
  }
  return failures;
}

bool server_events_present(const ServerEventsStep& expect,
                           const std::vector<mockserver::Event>& events) {
  for (const auto& item : expect.events) {
    const std::uint64_t want = item.count.value_or(1);
    if (want > 0 && count_matching(item, events) < want) return false;
  }
  return true;
}

std::vector<std::string> check_server_events(const ServerEventsStep& expect,
                                             const std::vector<mockserver::Event>& events) {
  std::vector<std::string> failures;
  for (const auto& item : expect.events) {
    const std::uint64_t got = count_matching(item, events);
    if (item.count ? got != *item.count : got == 0) {
      failures.push_back("server events " + describe(item) + ": got " + std::to_string(got) +
                         "; want " + (item.count ? std::to_string(*item.count) : "at least 1"));
    }
  }
  return failures;
}

TimingMeasurement judge_timing(SettingId setting, std::chrono::nanoseconds configured,
                               std::chrono::nanoseconds fired_at,
                               std::chrono::nanoseconds tolerance) {
  TimingMeasurement measurement{setting, configured, fired_at, tolerance, false};
  measurement.passed = timing_problem(configured, fired_at, tolerance).empty();
  return measurement;
}

std::string describe_timing_failure(const TimingMeasurement& m) {
  return std::string(setting_row(m.setting).name) + " " +
         timing_problem(m.configured, m.fired_at, m.tolerance);
}

}  // namespace tunedhttp::harness::detail
