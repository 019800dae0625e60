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

namespace tunedhttp {

/// The one place the timing tolerance is set: how late after its configured time a timeout may
/// fire and still pass (never early is always required). 100 ms by default, multiplied by the
/// environment variable TUNEDHTTP_TIMING_SCALE (a positive number, e.g. 3 for sanitizer builds
/// or a loaded machine). Used by the scenario harness and the timing tests alike.
std::chrono::nanoseconds timing_tolerance();

/// The one timing rule, for scenarios and tests alike: a timer measured to fire `fired_at` after
/// its starting point must never fire before `configured`, and at most `tolerance` after it.
/// Returns "" when it did; otherwise what is wrong, in the form "fired at 180ms; want >= 200ms
/// (early by 20ms)" or "fired at 320ms; want <= 300ms (200ms + tolerance 100ms, late by 120ms)".
std::string timing_problem(std::chrono::nanoseconds configured, std::chrono::nanoseconds fired_at,
                           std::chrono::nanoseconds tolerance = timing_tolerance());

/// The factor read from TUNEDHTTP_TIMING_SCALE (1 when unset or not a positive number).
double timing_scale();

}  // namespace tunedhttp
