#include <tunedhttp/harness/scenario.hpp>

namespace tunedhttp::harness {

std::string to_string(const SourceLocation& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

}  // namespace tunedhttp::harness
