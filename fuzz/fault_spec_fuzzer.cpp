// `serve --fault` SPECs and the duration and size parsers: any bytes give a value or a clear
// error (std::invalid_argument / nullopt), never a crash, UB or another exception type.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tunedhttp/mockserver/fault_config.hpp>
#include <tunedhttp/units.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto config = tunedhttp::mockserver::parse_fault_spec(text);
    // What the parser accepts, validate() must be able to judge.
    (void)tunedhttp::mockserver::validate(config);
  } catch (const std::invalid_argument& error) {
    if (std::string_view(error.what()).empty()) __builtin_trap();
  }
  if (const auto duration = tunedhttp::parse_duration(text)) {
    // A parsed duration formats to text that parses again.
    const auto formatted = tunedhttp::format_duration(*duration);
    if (!tunedhttp::parse_duration(formatted)) __builtin_trap();
  }
  (void)tunedhttp::parse_size(text);
  return 0;
}
