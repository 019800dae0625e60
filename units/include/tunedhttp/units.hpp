#pragma once
// Durations in Go's time.ParseDuration syntax and byte sizes with binary or decimal suffixes.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tunedhttp {

/// Parses a duration as Go's time.ParseDuration does: a sequence of decimal numbers with units
/// "ns", "us" (or "µs"), "ms", "s", "m", "h", optionally signed, e.g. "250ms", "1.5s", "1m30s".
/// A bare "0" is accepted. Returns nullopt on any other text (including a number without unit).
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

/// Formats a duration the short way people write it: "250ms", "1.5s", "2m0s" style is avoided in
/// favour of the largest unit that keeps three significant decimals ("1.5s", "200ms", "37.2us").
std::string format_duration(std::chrono::nanoseconds d);

/// Parses a byte size: a whole number with an optional unit B, KiB, MiB, GiB (powers of 1024)
/// or kB, MB, GB (powers of 1000), e.g. "64KiB", "1MiB", "512". Returns nullopt otherwise.
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace tunedhttp
