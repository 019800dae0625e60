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
  }
  return "?";
}

std::optional<Timer> parse_timer(const std::string& name) {
  for (Timer timer : {Timer::connect, Timer::tls_handshake, Timer::expect_continue,
                      Timer::response_header, Timer::idle_conn}) {
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
  }
  return {};
}

}  // namespace tunedhttp::harness
