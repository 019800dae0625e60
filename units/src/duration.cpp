#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <tunedhttp/units.hpp>
#include <utility>

namespace tunedhttp {
namespace {

struct Unit {
  std::string_view name;
  std::uint64_t nanoseconds;
};

constexpr std::array<Unit, 7> units{{{"ns", 1},
                                     {"us", 1'000},
                                     {"\xC2\xB5s", 1'000},
                                     {"ms", 1'000'000},
                                     {"s", 1'000'000'000},
                                     {"m", 60'000'000'000},
                                     {"h", 3'600'000'000'000}}};

// Go's bound: |duration| <= 1<<63 nanoseconds (the negative end is one further than the
// positive one).
constexpr std::uint64_t limit = std::uint64_t{1} << 63;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// Go's time.ParseDuration, in the same exact integer arithmetic.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return std::chrono::nanoseconds{0};
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;
  while (!text.empty()) {
    if (!is_digit(text.front()) && text.front() != '.') return std::nullopt;
    std::uint64_t whole = 0;
    bool any_digit = false;
    while (!text.empty() && is_digit(text.front())) {
      if (whole > (limit - 1) / 10) return std::nullopt;
      whole = whole * 10 + static_cast<std::uint64_t>(text.front() - '0');
      if (whole > limit) return std::nullopt;
      any_digit = true;
      text.remove_prefix(1);
    }
    std::uint64_t fraction = 0;
    double scale = 1.0;
    if (!text.empty() && text.front() == '.') {
      text.remove_prefix(1);
      bool fraction_full = false;
      while (!text.empty() && is_digit(text.front())) {
        any_digit = true;
        // Like Go, digits past what 63 bits hold are read and ignored.
        if (!fraction_full && fraction <= (limit - 1) / 10) {
          fraction = fraction * 10 + static_cast<std::uint64_t>(text.front() - '0');
          scale *= 10.0;
        } else {
          fraction_full = true;
        }
        text.remove_prefix(1);
      }
    }
    if (!any_digit) return std::nullopt;
    const Unit* matched = nullptr;
    for (const auto& unit : units) {
      if (text.substr(0, unit.name.size()) == unit.name &&
          (matched == nullptr || unit.name.size() > matched->name.size())) {
        matched = &unit;
      }
    }
    if (matched == nullptr) return std::nullopt;
    text.remove_prefix(matched->name.size());
    if (whole > limit / matched->nanoseconds) return std::nullopt;
    whole *= matched->nanoseconds;
    if (fraction > 0) {
      whole += static_cast<std::uint64_t>(static_cast<double>(fraction) *
                                          (static_cast<double>(matched->nanoseconds) / scale));
      if (whole > limit) return std::nullopt;
    }
    total += whole;
    if (total > limit) return std::nullopt;
  }
  if (negative) {
    return std::chrono::nanoseconds{total == limit ? std::numeric_limits<std::int64_t>::min()
                                                   : -static_cast<std::int64_t>(total)};
  }
  if (total > limit - 1) return std::nullopt;
  return std::chrono::nanoseconds{static_cast<std::int64_t>(total)};
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
  const double value = ns / unit.first;
  char buffer[64];
  // Four significant digits read best; past 10^4 whole units they would need an exponent,
  // which parse_duration (like Go) does not read back.
  std::snprintf(buffer, sizeof buffer, std::fabs(value) >= 1e4 ? "%.0f%s" : "%.4g%s", value,
                unit.second);
  return buffer;
}

}  // namespace tunedhttp
