#pragma once
// Go's net.Dialer decisions for a name with several addresses, without I/O: which addresses are
// tried first, when the other family starts, and how much of the time left each attempt gets.
// The dialer (dialer.cpp) carries them out; tests drive them with plain values.

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace tunedhttp::detail {

using DialClock = std::chrono::steady_clock;

/// The addresses of a dial, split as Go's DialContext splits them.
struct DialPlan {
  /// Tried one after another first: the addresses of the first address's family (all of them
  /// when there is no fallback).
  std::vector<boost::asio::ip::tcp::endpoint> primaries;
  /// The other family, tried one after another from `fallback_delay` on (or at once when every
  /// primary has failed); empty without dual-stack fallback.
  std::vector<boost::asio::ip::tcp::endpoint> fallbacks;
  std::chrono::nanoseconds fallback_delay{0};
};

/// Go's addrList.partition(isIPv4) when `fallback_delay` is not negative (Dialer.dualStack()),
/// order kept within each family; every address a primary otherwise.
DialPlan plan_dial(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
                   std::chrono::nanoseconds fallback_delay);

/// Go's partialDeadline: the deadline of the next attempt when `remaining` addresses (this one
/// included) share the time left before `deadline`: an equal share, but at least 2 s when that
/// much is left (the rest is taken from the last addresses). nullopt when the deadline has
/// passed (nothing may start then); no deadline gives none.
std::optional<DialClock::time_point> partial_deadline(DialClock::time_point now,
                                                      std::optional<DialClock::time_point> deadline,
                                                      std::size_t remaining, bool& expired);

/// Go's saneMinimum: the least time an attempt gets when there is that much left.
inline constexpr std::chrono::seconds minimum_attempt_time{2};

}  // namespace tunedhttp::detail
