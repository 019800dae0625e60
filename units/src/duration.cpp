#include <array>
#include <cmath>
#include <cstdio>
#include <tunedhttp/units.hpp>
#include <utility>

namespace tunedhttp {
namespace {

struct Unit {
  std::string_view name;
  double nanoseconds;
};

// Longest names first so that "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 7> units{{{"ns", 1.0},
                                     {"us", 1e3},
                                     {"\xC2\xB5s", 1e3},
                                     {"ms", 1e6},
                                     {"s", 1e9},
                                     {"m", 60e9},
                                     {"h", 3600e9}}};

// The largest value that a nanosecond count in int64 holds, like Go's overflow check.
constexpr double max_nanoseconds = 9.2e18;

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double sign = 1.0;
  if (text.front() == '-' || text.front() == '+') {
    if (text.front() == '-') sign = -1.0;
    text.remove_prefix(1);
  }
  if (text == "0") return std::chrono::nanoseconds{0};
  if (text.empty()) return std::nullopt;
  double total = 0.0;
  while (!text.empty()) {
    std::size_t digits = 0;
    bool seen_dot = false;
    bool seen_digit = false;
    while (digits < text.size() &&
           ((text[digits] >= '0' && text[digits] <= '9') || (text[digits] == '.' && !seen_dot))) {
      if (text[digits] == '.')
        seen_dot = true;
      else
        seen_digit = true;
      ++digits;
    }
    if (!seen_digit) return std::nullopt;
    double value = 0.0;
    double scale = 0.1;
    bool after_dot = false;
    for (std::size_t i = 0; i < digits; ++i) {
      if (text[i] == '.') {
        after_dot = true;
      } else if (after_dot) {
        value += (text[i] - '0') * scale;
        scale /= 10.0;
      } else {
        value = value * 10.0 + (text[i] - '0');
      }
    }
    text.remove_prefix(digits);
    const Unit* matched = nullptr;
    for (const auto& unit : units) {
      if (text.substr(0, unit.name.size()) == unit.name &&
          (matched == nullptr || unit.name.size() > matched->name.size())) {
        matched = &unit;
      }
    }
    if (matched == nullptr) return std::nullopt;
    text.remove_prefix(matched->name.size());
    total += value * matched->nanoseconds;
    if (total > max_nanoseconds) return std::nullopt;
  }
  return std::chrono::nanoseconds{static_cast<std::int64_t>(std::llround(sign * total))};
}

std::string format_duration(std::chrono::nanoseconds d) {
  const double ns = static_cast<double>(d.count());
  const double magnitude = std::fabs(ns);
  std::pair<double, const char*> unit{1.0, "ns"};
  if (magnitude >= 60e9)
    unit = {60e9, "m"};
  else if (magnitude >= 1e9)
    unit = {1e9, "s"};
  else if (magnitude >= 1e6)
    unit = {1e6, "ms"};
  else if (magnitude >= 1e3)
    unit = {1e3, "us"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4g%s", ns / unit.first, unit.second);
  return buffer;
}

}  // namespace tunedhttp
