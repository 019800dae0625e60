#include <cstdlib>
#include <tunedhttp/units.hpp>

namespace tunedhttp {
namespace {

// Wide enough for a 2-core machine running two test processes at once; narrow enough that a
// timer using the wrong trace point (typically off by a round trip or a whole phase) shows up.
constexpr std::chrono::milliseconds base_tolerance{100};

}  // namespace

double timing_scale() {
  const char* text = std::getenv("TUNEDHTTP_TIMING_SCALE");
  if (text == nullptr) return 1.0;
  char* end = nullptr;
  const double scale = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(scale > 0.0)) return 1.0;
  return scale;
}

std::chrono::nanoseconds timing_tolerance() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(base_tolerance * timing_scale());
}

std::string timing_problem(std::chrono::nanoseconds configured, std::chrono::nanoseconds fired_at,
                           std::chrono::nanoseconds tolerance) {
  const std::string got = "fired at " + format_duration(fired_at);
  if (fired_at < configured) {
    return got + "; want >= " + format_duration(configured) + " (early by " +
           format_duration(configured - fired_at) + ")";
  }
  if (fired_at > configured + tolerance) {
    return got + "; want <= " + format_duration(configured + tolerance) + " (" +
           format_duration(configured) + " + tolerance " + format_duration(tolerance) +
           ", late by " + format_duration(fired_at - configured) + ")";
  }
  return {};
}

}  // namespace tunedhttp
