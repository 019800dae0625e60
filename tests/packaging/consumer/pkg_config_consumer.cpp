// Built with only `pkg-config --cflags --libs tunedhttp`.
#include <iostream>
#include <tunedhttp/units.hpp>

int main() {
  const auto parsed = tunedhttp::parse_duration("1.5s");
  if (!parsed || *parsed != std::chrono::milliseconds{1500}) {
    std::cerr << "got a wrong parse of 1.5s; want 1500ms\n";
    return 1;
  }
  std::cout << tunedhttp::format_duration(*parsed) << "\n";
  return 0;
}
