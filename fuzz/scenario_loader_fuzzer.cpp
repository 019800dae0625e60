// Scenario loader: any bytes give a valid Scenario or a LoadError naming where, never a crash,
// a hang or another exception type (an uncaught exception aborts and is reported as a crash).
#include <cstddef>
#include <cstdint>
#include <string>
#include <tunedhttp/harness/loader.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto scenario = tunedhttp::harness::load_scenario_text(text, "fuzz.yaml");
    (void)scenario;
  } catch (const tunedhttp::harness::LoadError& error) {
    // A clear error names the file it is about.
    const std::string message = error.what();
    if (message.rfind("fuzz.yaml", 0) != 0) __builtin_trap();
  }
  return 0;
}
