#include <charconv>
#include <tunedhttp/settings_table.hpp>
#include <tunedhttp/units.hpp>

namespace tunedhttp {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// Clang 14 (the fuzz build) has no aggregate deduction yet.
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Go's way for whole seconds ("90s", "0s"), the short way otherwise ("1.5s", "200ms").
std::string duration_text(std::chrono::nanoseconds d) {
  if (d % std::chrono::seconds{1} == std::chrono::nanoseconds::zero()) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
  }
  return format_duration(d);
}

// User text in a message, quoted and cut short.
std::string quoted(std::string_view text) {
  std::string shown(text.substr(0, 80));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return "'" + shown + (text.size() > 80 ? "...'" : "'");
}

}  // namespace

const SettingRow* find_setting(std::string_view name) {
  for (const auto& row : settings_table) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

const SettingRow* setting_of_timeout(errc error) {
  for (const auto& row : settings_table) {
    if (row.timeout == error) return &row;
  }
  return nullptr;
}

std::optional<std::chrono::nanoseconds> duration_value(const Settings& settings,
                                                       const SettingRow& row) {
  return std::visit(
      Overloaded{
          [&](std::chrono::nanoseconds Settings::*field)
              -> std::optional<std::chrono::nanoseconds> { return settings.*field; },
          [&](std::chrono::nanoseconds KeepAliveConfig::*field)
              -> std::optional<std::chrono::nanoseconds> { return settings.keep_alive.*field; },
          [](auto) -> std::optional<std::chrono::nanoseconds> { return std::nullopt; }},
      row.field);
}

std::optional<std::chrono::nanoseconds> timer_value(const Settings& settings,
                                                    const SettingRow& row) {
  if (const auto* rate = std::get_if<LowSpeed Settings::*>(&row.field)) {
    return (settings.**rate).period;
  }
  return duration_value(settings, row);
}

std::optional<int> count_value(const Settings& settings, const SettingRow& row) {
  return std::visit(
      Overloaded{[&](int Settings::*field) -> std::optional<int> { return settings.*field; },
                 [&](int KeepAliveConfig::*field) -> std::optional<int> {
                   return settings.keep_alive.*field;
                 },
                 [](auto) -> std::optional<int> { return std::nullopt; }},
      row.field);
}

std::string value_text(const Settings& settings, const SettingRow& row) {
  return std::visit(
      Overloaded{
          [&](std::chrono::nanoseconds Settings::*field) { return duration_text(settings.*field); },
          [&](int Settings::*field) { return std::to_string(settings.*field); },
          [&](std::chrono::nanoseconds KeepAliveConfig::*field) {
            return duration_text(settings.keep_alive.*field);
          },
          [&](int KeepAliveConfig::*field) { return std::to_string(settings.keep_alive.*field); },
          [&](LowSpeed Settings::*field) {
            const LowSpeed& rate = settings.*field;
            return std::to_string(rate.bytes_per_second) + "/" + duration_text(rate.period);
          }},
      row.field);
}

std::string default_text(const SettingRow& row) { return value_text(Settings{}, row); }

std::string set_from_text(Settings& settings, const SettingRow& row, std::string_view text) {
  if (const auto* rate = std::get_if<LowSpeed Settings::*>(&row.field)) {
    const auto slash = text.find('/');
    const auto bytes =
        slash == std::string_view::npos ? std::nullopt : parse_size(text.substr(0, slash));
    const auto period =
        slash == std::string_view::npos ? std::nullopt : parse_duration(text.substr(slash + 1));
    if (!bytes || !period) {
      return "expected N/D, bytes per second and a Go duration (1KiB/5s, 1000/2s), got " +
             quoted(text);
    }
    settings.** rate = LowSpeed{*bytes, *period};
    return {};
  }
  if (row.is_duration()) {
    const auto value = parse_duration(text);
    if (!value) return "bad duration " + quoted(text) + " (use Go syntax: 250ms, 1.5s, 2m)";
    std::visit(
        Overloaded{[&](std::chrono::nanoseconds Settings::*field) { settings.*field = *value; },
                   [&](std::chrono::nanoseconds KeepAliveConfig::*field) {
                     settings.keep_alive.enable = true;
                     settings.keep_alive.*field = *value;
                   },
                   [](auto) {}},
        row.field);
    return {};
  }
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::invalid_argument || end != text.data() + text.size() || text.empty()) {
    return "expected a whole number, got " + quoted(text);
  }
  if (error == std::errc::result_out_of_range || value < row.count_min || value > row.count_max) {
    return "expected a whole number from " + std::to_string(row.count_min) + " to " +
           std::to_string(row.count_max) + ", got " + quoted(text);
  }
  std::visit(Overloaded{[&](int Settings::*field) { settings.*field = static_cast<int>(value); },
                        [&](int KeepAliveConfig::*field) {
                          settings.keep_alive.enable = true;
                          settings.keep_alive.*field = static_cast<int>(value);
                        },
                        [](auto) {}},
             row.field);
  return {};
}

}  // namespace tunedhttp
