#include <array>
#include <charconv>
#include <limits>
#include <tunedhttp/units.hpp>

namespace tunedhttp {
namespace {

struct SizeUnit {
  std::string_view name;
  std::uint64_t bytes;
};

constexpr std::array<SizeUnit, 8> size_units{{{"", 1},
                                              {"B", 1},
                                              {"KiB", 1024},
                                              {"MiB", 1024 * 1024},
                                              {"GiB", 1024 * 1024 * 1024},
                                              {"kB", 1000},
                                              {"MB", 1000 * 1000},
                                              {"GB", 1000 * 1000 * 1000}}};

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t count = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc{} || end == text.data()) return std::nullopt;
  const std::string_view suffix{end, static_cast<std::size_t>(text.data() + text.size() - end)};
  for (const auto& unit : size_units) {
    if (suffix == unit.name) {
      if (count > std::numeric_limits<std::uint64_t>::max() / unit.bytes) return std::nullopt;
      return count * unit.bytes;
    }
  }
  return std::nullopt;
}

}  // namespace tunedhttp
