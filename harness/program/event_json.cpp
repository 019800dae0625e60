#include "event_json.hpp"

#include <nlohmann/json.hpp>

namespace tunedhttp::program {

std::string event_json_line(const mockserver::Event& event,
                            std::chrono::steady_clock::time_point origin) {
  const auto at = std::chrono::duration<double, std::milli>(event.at - origin).count();
  nlohmann::ordered_json json{
      {"kind", mockserver::event_kind_name(event.kind)},
      {"at_ms", static_cast<double>(static_cast<long long>(at * 1000.0)) / 1000.0},
      {"connection", event.connection},
      {"request", event.request},
      {"detail", event.detail},
      {"seq", event.seq},
  };
  return json.dump();
}

}  // namespace tunedhttp::program
