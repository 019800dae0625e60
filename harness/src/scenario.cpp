#include <tunedhttp/harness/scenario.hpp>

namespace tunedhttp::harness {

std::string to_string(const SourceLocation& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

const char* connection_choice_name(ConnectionChoice choice) {
  switch (choice) {
    case ConnectionChoice::most_recently_idled:
      return "most_recently_idled";
    case ConnectionChoice::least_recently_idled:
      return "least_recently_idled";
  }
  return "?";
}

}  // namespace tunedhttp::harness
