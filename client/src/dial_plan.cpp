#include "dial_plan.hpp"

namespace tunedhttp::detail {

DialPlan plan_dial(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
                   std::chrono::nanoseconds fallback_delay) {
  DialPlan plan;
  plan.fallback_delay = fallback_delay;
  if (fallback_delay < std::chrono::nanoseconds::zero() || endpoints.empty()) {
    plan.primaries = endpoints;
    return plan;
  }
  const bool first_is_v4 = endpoints.front().address().is_v4();
  for (const auto& endpoint : endpoints) {
    (endpoint.address().is_v4() == first_is_v4 ? plan.primaries : plan.fallbacks)
        .push_back(endpoint);
  }
  return plan;
}

std::optional<DialClock::time_point> partial_deadline(DialClock::time_point now,
                                                      std::optional<DialClock::time_point> deadline,
                                                      std::size_t remaining, bool& expired) {
  expired = false;
  if (!deadline) return std::nullopt;
  const auto left = *deadline - now;
  if (left <= DialClock::duration::zero()) {
    expired = true;
    return std::nullopt;
  }
  auto share = left / static_cast<DialClock::rep>(remaining == 0 ? 1 : remaining);
  if (share < minimum_attempt_time) {
    share = left < minimum_attempt_time ? left : DialClock::duration(minimum_attempt_time);
  }
  return now + share;
}

}  // namespace tunedhttp::detail
