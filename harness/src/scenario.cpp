#include <tunedhttp/harness/scenario.hpp>

namespace tunedhttp::harness {

std::string to_string(const SourceLocation& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

const char* timer_name(Timer timer) {
  switch (timer) {
    case Timer::connect:
      return "connect";
    case Timer::tls_handshake:
      return "tls_handshake";
    case Timer::expect_continue:
      return "expect_continue";
    case Timer::response_header:
      return "response_header";
    case Timer::idle_conn:
      return "idle_conn";
    case Timer::conn_keep_alive:
      return "conn_keep_alive";
    case Timer::dual_stack_fallback_delay:
      return "dual_stack_fallback_delay";
  }
  return "?";
}

std::optional<Timer> parse_timer(const std::string& name) {
  for (Timer timer : all_timers) {
    if (name == timer_name(timer)) return timer;
  }
  return std::nullopt;
}

std::chrono::nanoseconds configured_duration(Timer timer, const Settings& settings) {
  switch (timer) {
    case Timer::connect:
      return settings.connect;
    case Timer::tls_handshake:
      return settings.tls_handshake;
    case Timer::expect_continue:
      return settings.expect_continue;
    case Timer::response_header:
      return settings.response_header;
    case Timer::idle_conn:
      return settings.idle_conn;
    case Timer::conn_keep_alive: {
      // A dead peer is given up on after the idle time and every unanswered probe (Linux's
      // default count, 9, when the settings leave it to the OS).
      const auto applied = effective_keep_alive(settings);
      if (!applied.enabled) return {};
      const int probes = applied.count > 0 ? applied.count : 9;
      return std::chrono::seconds{applied.idle_seconds + probes * applied.interval_seconds};
    }
    case Timer::dual_stack_fallback_delay:
      return effective_dual_stack_fallback_delay(settings);
  }
  return {};
}

}  // namespace tunedhttp::harness
