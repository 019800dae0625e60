#pragma once
// The settings table: one row per setting of `Settings`, the one place its names, flag, rules
// and timer are written. The scenario loader, the runner's measurements, the timelines, the
// testing fixture, `tunedhttp request`'s flags and the docs check all read it.
//
// A new setting is a field in `Settings` (settings.hpp), a `SettingId` value and a row below
// (kept in the same order), and its behaviour in the client; docs/architecture.md lists the
// rest (a section in docs/settings.md, scenarios).

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tunedhttp/error.hpp>
#include <tunedhttp/settings.hpp>
#include <tunedhttp/trace.hpp>
#include <variant>

namespace tunedhttp {

/// Names a setting (a row of `settings_table`), e.g. in a timing measurement.
enum class SettingId {
  connect,
  conn_keep_alive,
  tls_handshake,
  expect_continue,
  response_header,
  idle_conn,
  max_all_idle_conns,
  max_host_idle_conns,
  dual_stack_fallback_delay,
  keep_alive_idle,
  keep_alive_interval,
  keep_alive_count,
};

/// When a setting's timer runs, which decides how a scenario can measure it.
enum class TimerScope {
  none,             ///< no timer: a cap or a socket option.
  request,          ///< while a request is pending (measured on the request: `expect.fires_after`).
  idle,             ///< while a connection is idle in the pool (`expect_timer`).
  request_or_idle,  ///< either (keep-alive probes find a dead peer whatever the connection does).
};

/// Where a setting lives in `Settings`: a duration or a count, at the top or in the
/// `keep_alive` block (Go 1.23's KeepAliveConfig, which writing any member enables).
using SettingField =
    std::variant<std::chrono::nanoseconds Settings::*, int Settings::*,
                 std::chrono::nanoseconds KeepAliveConfig::*, int KeepAliveConfig::*>;

/// One setting.
struct SettingRow {
  SettingId id;
  /// The scenario key and the name in reports and docs ("response_header"); a member of a block
  /// is "block.member" ("keep_alive.idle", written `keep_alive: {idle: 1s}` in a scenario).
  std::string_view name;
  std::string_view go_name;       ///< Go's name ("Transport.ResponseHeaderTimeout").
  std::string_view flag;          ///< `tunedhttp request` flag ("--response-header").
  std::string_view flag_aliases;  ///< earlier spellings that still work, comma-separated.
  std::string_view summary;       ///< what it does, for `--help` ("TLS handshake limit").
  std::string_view zero;          ///< what 0 means ("no limit").
  std::string_view negative;      ///< what a negative value means.
  bool extension;                 ///< beyond the AWS SDK's eight.
  /// The docs/settings.md section ("## `connect`") that documents it.
  std::string_view doc_section;
  SettingField field;
  int count_min = 0;  ///< for a count: the accepted range (a larger value is a typo).
  int count_max = 0;
  TimerScope scope = TimerScope::none;
  /// The trace point that starts its timer (the timer is armed after it is recorded, so a
  /// measured firing is never early); nullopt when no client trace point does.
  std::optional<TracePoint> starts;
  /// The trace points that stop its timer: the first of these after `starts` on the same
  /// connection (and request, except for an idle timer). Unused entries after `stop_count`.
  std::array<TracePoint, 3> stops{};
  std::size_t stop_count = 0;
  /// The error a request fails with when the timer fires; nullopt when expiry is not an error.
  std::optional<errc> timeout;
  /// The timelines' name of the phase its timer covers ("awaiting_headers"); empty for none.
  std::string_view phase;

  /// The stop points in use.
  constexpr std::span<const TracePoint> stop_points() const { return {stops.data(), stop_count}; }
  /// Whether the value is a duration (else a count).
  constexpr bool is_duration() const {
    return std::holds_alternative<std::chrono::nanoseconds Settings::*>(field) ||
           std::holds_alternative<std::chrono::nanoseconds KeepAliveConfig::*>(field);
  }
  /// Whether it is a member of the `keep_alive` block.
  constexpr bool in_keep_alive_block() const {
    return std::holds_alternative<std::chrono::nanoseconds KeepAliveConfig::*>(field) ||
           std::holds_alternative<int KeepAliveConfig::*>(field);
  }
};

/// Every setting, in `SettingId` order.
inline constexpr SettingRow settings_table[] = {
    {SettingId::connect,
     "connect",
     "net.Dialer.Timeout",
     "--connect",
     "",
     "name resolution + TCP connect limit",
     "no limit",
     "no limit, as 0",
     false,
     "connect",
     &Settings::connect,
     0,
     0,
     TimerScope::request,
     TracePoint::dial_start,
     {TracePoint::dial_done},
     1,
     errc::connect_timeout,
     "dial"},
    {SettingId::conn_keep_alive,
     "conn_keep_alive",
     "net.Dialer.KeepAlive",
     "--conn-keep-alive",
     "--keep-alive",
     "TCP keep-alive period",
     "15s",
     "off, written --conn-keep-alive=-1s",
     false,
     "conn_keep_alive",
     &Settings::conn_keep_alive,
     0,
     0,
     TimerScope::request_or_idle,
     std::nullopt,
     {},
     0,
     std::nullopt,
     ""},
    {SettingId::tls_handshake,
     "tls_handshake",
     "Transport.TLSHandshakeTimeout",
     "--tls-handshake",
     "",
     "TLS handshake limit",
     "no limit",
     "no limit, as 0",
     false,
     "tls_handshake",
     &Settings::tls_handshake,
     0,
     0,
     TimerScope::request,
     TracePoint::tls_handshake_start,
     {TracePoint::tls_handshake_done},
     1,
     errc::tls_handshake_timeout,
     "tls_handshake"},
    {SettingId::expect_continue,
     "expect_continue",
     "Transport.ExpectContinueTimeout",
     "--expect-continue",
     "",
     "wait this long for 100 Continue before sending the body anyway, with -H 'Expect: "
     "100-continue'",
     "send at once",
     "send at once, as 0",
     false,
     "expect_continue",
     &Settings::expect_continue,
     0,
     0,
     TimerScope::request,
     TracePoint::wait_100_continue,
     {TracePoint::got_100_continue, TracePoint::got_response_headers, TracePoint::response_done},
     3,
     std::nullopt,
     "wait_100_continue"},
    {SettingId::response_header,
     "response_header",
     "Transport.ResponseHeaderTimeout",
     "--response-header",
     "",
     "from the request written to the response headers",
     "no limit",
     "no limit, as 0",
     false,
     "response_header",
     &Settings::response_header,
     0,
     0,
     TimerScope::request,
     TracePoint::wrote_request,
     {TracePoint::got_response_headers, TracePoint::response_done},
     2,
     errc::response_header_timeout,
     "awaiting_headers"},
    {SettingId::idle_conn,
     "idle_conn",
     "Transport.IdleConnTimeout",
     "--idle-conn",
     "",
     "close a connection idle this long",
     "never",
     "never, as 0",
     false,
     "idle_conn",
     &Settings::idle_conn,
     0,
     0,
     TimerScope::idle,
     TracePoint::put_idle_conn,
     {TracePoint::got_conn, TracePoint::idle_conn_closed},
     2,
     std::nullopt,
     "idle"},
    {SettingId::max_all_idle_conns,
     "max_all_idle_conns",
     "Transport.MaxIdleConns",
     "--max-all-idle-conns",
     "--max-idle-conns",
     "cap on idle connections over all hosts",
     "no limit",
     "no limit, as 0",
     false,
     "max_all_idle_conns",
     &Settings::max_all_idle_conns,
     -1'000'000,
     1'000'000,
     TimerScope::none,
     std::nullopt,
     {},
     0,
     std::nullopt,
     ""},
    {SettingId::max_host_idle_conns,
     "max_host_idle_conns",
     "Transport.MaxIdleConnsPerHost",
     "--max-host-idle-conns",
     "",
     "cap on idle connections per host",
     "2",
     "2, as 0",
     false,
     "max_host_idle_conns",
     &Settings::max_host_idle_conns,
     -1'000'000,
     1'000'000,
     TimerScope::none,
     std::nullopt,
     {},
     0,
     std::nullopt,
     ""},
    {SettingId::dual_stack_fallback_delay,
     "dual_stack_fallback_delay",
     "net.Dialer.FallbackDelay",
     "--dual-stack-fallback-delay",
     "",
     "the other address family starts this long after the first",
     "300ms",
     "no fallback",
     true,
     "connect",
     &Settings::dual_stack_fallback_delay,
     0,
     0,
     TimerScope::request,
     TracePoint::dial_start,
     {},
     0,
     std::nullopt,
     ""},
    {SettingId::keep_alive_idle,
     "keep_alive.idle",
     "net.KeepAliveConfig.Idle",
     "--keep-alive-idle",
     "",
     "TCP_KEEPIDLE of Go 1.23's KeepAliveConfig; any --keep-alive-* replaces --conn-keep-alive",
     "15s",
     "the OS default",
     true,
     "conn_keep_alive",
     &KeepAliveConfig::idle,
     0,
     0,
     TimerScope::none,
     std::nullopt,
     {},
     0,
     std::nullopt,
     ""},
    {SettingId::keep_alive_interval,
     "keep_alive.interval",
     "net.KeepAliveConfig.Interval",
     "--keep-alive-interval",
     "",
     "TCP_KEEPINTVL of Go 1.23's KeepAliveConfig",
     "15s",
     "the OS default",
     true,
     "conn_keep_alive",
     &KeepAliveConfig::interval,
     0,
     0,
     TimerScope::none,
     std::nullopt,
     {},
     0,
     std::nullopt,
     ""},
    {SettingId::keep_alive_count,
     "keep_alive.count",
     "net.KeepAliveConfig.Count",
     "--keep-alive-count",
     "",
     "TCP_KEEPCNT of Go 1.23's KeepAliveConfig",
     "9",
     "the OS default",
     true,
     "conn_keep_alive",
     &KeepAliveConfig::count,
     -1,
     127,
     TimerScope::none,
     std::nullopt,
     {},
     0,
     std::nullopt,
     ""},
};

static_assert(
    [] {
      for (std::size_t i = 0; i < std::size(settings_table); ++i) {
        if (static_cast<std::size_t>(settings_table[i].id) != i) return false;
      }
      return true;
    }(),
    "settings_table rows must be in SettingId order");

/// Every SettingId, in declaration order.
inline constexpr auto all_setting_ids = [] {
  std::array<SettingId, std::size(settings_table)> ids{};
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = settings_table[i].id;
  return ids;
}();

/// The row of `id`.
constexpr const SettingRow& setting_row(SettingId id) {
  return settings_table[static_cast<std::size_t>(id)];
}

/// The row named `name` ("response_header", "keep_alive.idle"); nullptr when unknown.
const SettingRow* find_setting(std::string_view name);

/// The row whose timer fails a request with `error`; nullptr for other errors.
const SettingRow* setting_of_timeout(errc error);

/// The row's value in `settings` when it is a duration; nullopt for a count.
std::optional<std::chrono::nanoseconds> duration_value(const Settings& settings,
                                                       const SettingRow& row);

/// The row's value in `settings` when it is a count; nullopt for a duration.
std::optional<int> count_value(const Settings& settings, const SettingRow& row);

/// The row's value in `settings` as Go writes it ("30s", "0s", "10", "-1").
std::string value_text(const Settings& settings, const SettingRow& row);

/// The row's value in a default-constructed `Settings` ("30s").
std::string default_text(const SettingRow& row);

/// Sets the row's value from its text (a Go duration, or a whole number in the row's range);
/// writing a member of the `keep_alive` block enables the block. Returns why the text is not a
/// value of this setting ("" when it was set).
std::string set_from_text(Settings& settings, const SettingRow& row, std::string_view text);

}  // namespace tunedhttp
