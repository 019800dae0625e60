#pragma once
// Left-aligned columns two spaces apart, for the tables `tunedhttp run` prints.

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace tunedhttp::harness::detail {

/// `header` and `rows`, each column as wide as its widest cell, one line each; with `rule`, a
/// line of dashes under the header.
template <std::size_t Columns>
std::string aligned_columns(const std::array<std::string, Columns>& header,
                            const std::vector<std::array<std::string, Columns>>& rows, bool rule) {
  std::array<std::size_t, Columns> widths{};
  for (std::size_t c = 0; c < Columns; ++c) {
    widths[c] = header[c].size();
    for (const auto& row : rows) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  const auto print = [&](const std::array<std::string, Columns>& row) {
    for (std::size_t c = 0; c < Columns; ++c) {
      out += row[c];
      if (c + 1 < Columns) out += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    out += '\n';
  };
  print(header);
  if (rule) {
    std::array<std::string, Columns> dashes;
    for (std::size_t c = 0; c < Columns; ++c) dashes[c] = std::string(widths[c], '-');
    print(dashes);
  }
  for (const auto& row : rows) print(row);
  return out;
}

}  // namespace tunedhttp::harness::detail
