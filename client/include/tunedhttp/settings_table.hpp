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
  proxy_connect,
  body_read_idle,
  low_speed,
  request_write_idle,
};

/// When a setting's timer runs, which decides how a scenario can measure it.
enum class TimerScope {
  none,             ///< no timer: a cap or a socket option.
  request,          ///< while a request is pending (measured on the request: `expect.fires_after`).
  idle,             ///< while a connection is idle in the pool (`expect_timer`).
  request_or_idle,  ///< either (keep-alive probes find a dead peer whatever the connection does).
};

/// Where a setting lives in `Settings`: a duration or a count, at the top or in the
/// `keep_alive` block (Go 1.23's KeepAliveConfig, which writing any member enables), or a
/// rate over a period (`low_speed`, written N/D: bytes per second over a duration).
using SettingField = std::variant<std::chrono::nanoseconds Settings::*, int Settings::*,
                                  std::chrono::nanoseconds KeepAliveConfig::*,
                                  int KeepAliveConfig::*, LowSpeed Settings::*>;

/// One setting.
struct SettingRow {
  SettingId id = SettingId::connect;
  /// The scenario key and the name in reports and docs ("response_header"); a member of a block
  /// is "block.member" ("keep_alive.idle", written `keep_alive: {idle: 1s}` in a scenario).
  std::string_view name{};
  std::string_view go_name{};       ///< Go's name ("Transport.ResponseHeaderTimeout").
  std::string_view flag{};          ///< `tunedhttp request` flag ("--response-header").
  std::string_view flag_aliases{};  ///< earlier spellings that still work, comma-separated.
  std::string_view summary{};       ///< what it does, for `--help` ("TLS handshake limit").
  std::string_view zero{};          ///< what 0 means ("no limit").
  std::string_view negative{};      ///< what a negative value means.
  bool extension = false;           ///< beyond the AWS SDK's eight.
  /// The docs/settings.md section ("## `connect`") that documents it.
  std::string_view doc_section{};
  SettingField field{};
  int count_min = 0;  ///< for a count: the accepted range (a larger value is a typo).
  int count_max = 0;
  TimerScope scope = TimerScope::none;
  /// The trace point that starts its timer (the timer is armed after it is recorded, so a
  /// measured firing is never early); nullopt when no client trace point does.
  std::optional<TracePoint> starts{};
  /// The trace points that stop its timer: the first of these after `starts` on the same
  /// connection (and request, except for an idle timer). Unused entries after `stop_count`.
  std::array<TracePoint, 3> stops{};
  std::size_t stop_count = 0;
  /// The error a request fails with when the timer fires; nullopt when expiry is not an error.
  std::optional<errc> timeout{};
  /// The timelines' name of the phase its timer covers ("awaiting_headers"); empty for none.
  std::string_view phase{};

  /// The stop points in use.
  constexpr std::span<const TracePoint> stop_points() const { return {stops.data(), stop_count}; }
  /// Whether the value is a duration (else a count).
  constexpr bool is_duration() const {
    return std::holds_alternative<std::chrono::nanoseconds Settings::*>(field) ||
           std::holds_alternative<std::chrono::nanoseconds KeepAliveConfig::*>(field);
  }
  /// Whether the value is a rate over a period, N/D (`low_speed`).
  constexpr bool is_rate() const { return std::holds_alternative<LowSpeed Settings::*>(field); }
  /// Whether it is a member of the `keep_alive` block.
  constexpr bool in_keep_alive_block() const {
    return std::holds_alternative<std::chrono::nanoseconds KeepAliveConfig::*>(field) ||
           std::holds_alternative<int KeepAliveConfig::*>(field);
  }
};

/// Every setting, in `SettingId` order. A field a row leaves out takes its default: no timer
/// (scope none, no trace points, no error, no phase), no count range.
inline constexpr SettingRow settings_table[] = {
    {.id = SettingId::connect,
     .name = "connect",
     .go_name = "net.Dialer.Timeout",
     .flag = "--connect",
     .summary = "name resolution + TCP connect limit",
     .zero = "no limit",
     .negative = "no limit, as 0",
     .doc_section = "connect",
     .field = &Settings::connect,
     .scope = TimerScope::request,
     .starts = TracePoint::dial_start,
     .stops = {TracePoint::dial_done},
     .stop_count = 1,
     .timeout = errc::connect_timeout,
     .phase = "dial"},
    {.id = SettingId::conn_keep_alive,
     .name = "conn_keep_alive",
     .go_name = "net.Dialer.KeepAlive",
     .flag = "--conn-keep-alive",
     .flag_aliases = "--keep-alive",
     .summary = "TCP keep-alive period",
     .zero = "15s",
     .negative = "off, written --conn-keep-alive=-1s",
     .doc_section = "conn_keep_alive",
     .field = &Settings::conn_keep_alive,
     // Measured from the last packet the peer answered (the server's `blackholed` event),
     // not from a client trace point.
     .scope = TimerScope::request_or_idle},
    {.id = SettingId::tls_handshake,
     .name = "tls_handshake",
     .go_name = "Transport.TLSHandshakeTimeout",
     .flag = "--tls-handshake",
     .summary = "TLS handshake limit",
     .zero = "no limit",
     .negative = "no limit, as 0",
     .doc_section = "tls_handshake",
     .field = &Settings::tls_handshake,
     .scope = TimerScope::request,
     .starts = TracePoint::tls_handshake_start,
     .stops = {TracePoint::tls_handshake_done},
     .stop_count = 1,
     .timeout = errc::tls_handshake_timeout,
     .phase = "tls_handshake"},
    {.id = SettingId::expect_continue,
     .name = "expect_continue",
     .go_name = "Transport.ExpectContinueTimeout",
     .flag = "--expect-continue",
     .summary = "wait this long for 100 Continue before sending the body anyway, with -H "
                "'Expect: 100-continue'",
     .zero = "send at once",
     .negative = "send at once, as 0",
     .doc_section = "expect_continue",
     .field = &Settings::expect_continue,
     .scope = TimerScope::request,
     .starts = TracePoint::wait_100_continue,
     .stops = {TracePoint::got_100_continue, TracePoint::got_response_headers,
               TracePoint::response_done},
     .stop_count = 3,
     .phase = "wait_100_continue"},
    {.id = SettingId::response_header,
     .name = "response_header",
     .go_name = "Transport.ResponseHeaderTimeout",
     .flag = "--response-header",
     .summary = "from the request written to the response headers",
     .zero = "no limit",
     .negative = "no limit, as 0",
     .doc_section = "response_header",
     .field = &Settings::response_header,
     .scope = TimerScope::request,
     .starts = TracePoint::wrote_request,
     // response_done closes a failed wait, which has no got_response_headers.
     .stops = {TracePoint::got_response_headers, TracePoint::response_done},
     .stop_count = 2,
     .timeout = errc::response_header_timeout,
     .phase = "awaiting_headers"},
    {.id = SettingId::idle_conn,
     .name = "idle_conn",
     .go_name = "Transport.IdleConnTimeout",
     .flag = "--idle-conn",
     .summary = "close a connection idle this long",
     .zero = "never",
     .negative = "never, as 0",
     .doc_section = "idle_conn",
     .field = &Settings::idle_conn,
     .scope = TimerScope::idle,
     .starts = TracePoint::put_idle_conn,
     .stops = {TracePoint::got_conn, TracePoint::idle_conn_closed},
     .stop_count = 2,
     .phase = "idle"},
    {.id = SettingId::max_all_idle_conns,
     .name = "max_all_idle_conns",
     .go_name = "Transport.MaxIdleConns",
     .flag = "--max-all-idle-conns",
     .flag_aliases = "--max-idle-conns",
     .summary = "cap on idle connections over all hosts",
     .zero = "no limit",
     .negative = "no limit, as 0",
     .doc_section = "max_all_idle_conns",
     .field = &Settings::max_all_idle_conns,
     .count_min = -1'000'000,
     .count_max = 1'000'000},
    {.id = SettingId::max_host_idle_conns,
     .name = "max_host_idle_conns",
     .go_name = "Transport.MaxIdleConnsPerHost",
     .flag = "--max-host-idle-conns",
     .summary = "cap on idle connections per host",
     .zero = "2",
     .negative = "2, as 0",
     .doc_section = "max_host_idle_conns",
     .field = &Settings::max_host_idle_conns,
     .count_min = -1'000'000,
     .count_max = 1'000'000},
    {.id = SettingId::dual_stack_fallback_delay,
     .name = "dual_stack_fallback_delay",
     .go_name = "net.Dialer.FallbackDelay",
     .flag = "--dual-stack-fallback-delay",
     .summary = "the other address family starts this long after the first",
     .zero = "300ms",
     .negative = "no fallback",
     .extension = true,
     .doc_section = "connect",
     .field = &Settings::dual_stack_fallback_delay,
     // Ends at the other family's first connect_start, which no single trace point names.
     .scope = TimerScope::request,
     .starts = TracePoint::dial_start},
    {.id = SettingId::keep_alive_idle,
     .name = "keep_alive.idle",
     .go_name = "net.KeepAliveConfig.Idle",
     .flag = "--keep-alive-idle",
     .summary = "TCP_KEEPIDLE of Go 1.23's KeepAliveConfig; any --keep-alive-* replaces "
                "--conn-keep-alive",
     .zero = "15s",
     .negative = "the OS default",
     .extension = true,
     .doc_section = "conn_keep_alive",
     .field = &KeepAliveConfig::idle},
    {.id = SettingId::keep_alive_interval,
     .name = "keep_alive.interval",
     .go_name = "net.KeepAliveConfig.Interval",
     .flag = "--keep-alive-interval",
     .summary = "TCP_KEEPINTVL of Go 1.23's KeepAliveConfig",
     .zero = "15s",
     .negative = "the OS default",
     .extension = true,
     .doc_section = "conn_keep_alive",
     .field = &KeepAliveConfig::interval},
    {.id = SettingId::keep_alive_count,
     .name = "keep_alive.count",
     .go_name = "net.KeepAliveConfig.Count",
     .flag = "--keep-alive-count",
     .summary = "TCP_KEEPCNT of Go 1.23's KeepAliveConfig",
     .zero = "9",
     .negative = "the OS default",
     .extension = true,
     .doc_section = "conn_keep_alive",
     .field = &KeepAliveConfig::count,
     .count_min = -1,
     .count_max = 127},
    {.id = SettingId::proxy_connect,
     .name = "proxy_connect",
     .go_name = "Transport.dialConn's 1-minute CONNECT bound",
     .flag = "--proxy-connect",
     .summary = "limit on a proxy's answer to CONNECT (https through a proxy)",
     .zero = "no limit",
     .negative = "no limit, as 0",
     .extension = true,
     .doc_section = "proxy_connect",
     .field = &Settings::proxy_connect,
     .scope = TimerScope::request,
     .starts = TracePoint::proxy_connect_start,
     .stops = {TracePoint::proxy_connect_done},
     .stop_count = 1,
     .timeout = errc::proxy_connect_timeout,
     .phase = "proxy_connect"},
    {
        .id = SettingId::body_read_idle,
        .name = "body_read_idle",
        .go_name = "none (golang/go#26941; the AWS SDK for Go V2's read timeouts)",
        .flag = "--body-read-idle",
        .summary = "fail when no response body byte comes for this long",
        .zero = "no limit",
        .negative = "no limit, as 0",
        .extension = true,
        .doc_section = "body_read_idle",
        .field = &Settings::body_read_idle,
        // No phase of their own: every timeline would grow one (timelines draw every row's phase).
        .scope = TimerScope::request,
        // Restarted by every read that brings bytes; measured from the headers, which a stalled
        // body's last bytes come with.
        .starts = TracePoint::got_response_headers,
        .stops = {TracePoint::response_done},
        .stop_count = 1,
        .timeout = errc::body_read_idle_timeout,
    },
    {
        .id = SettingId::low_speed,
        .name = "low_speed",
        .go_name = "none (curl's CURLOPT_LOW_SPEED_LIMIT / CURLOPT_LOW_SPEED_TIME)",
        .flag = "--low-speed",
        .summary = "fail when the body comes slower than N bytes/s for D, written N/D (1KiB/5s)",
        .zero = "off (either N or D)",
        .negative = "off, as 0",
        .extension = true,
        .doc_section = "low_speed",
        .field = &Settings::low_speed,
        .scope = TimerScope::request,
        .starts = TracePoint::got_response_headers,
        .stops = {TracePoint::response_done},
        .stop_count = 1,
        .timeout = errc::low_speed_timeout,
    },
    {
        .id = SettingId::request_write_idle,
        .name = "request_write_idle",
        .go_name = "none (golang/go#61568)",
        .flag = "--request-write-idle",
        .summary = "fail when the server takes no byte of the request for this long",
        .zero = "no limit",
        .negative = "no limit, as 0",
        .extension = true,
        .doc_section = "request_write_idle",
        .field = &Settings::request_write_idle,
        .scope = TimerScope::request,
        // Every write is limited; the body's start after the headers is where it shows.
        .starts = TracePoint::wrote_headers,
        .stops = {TracePoint::wrote_request, TracePoint::response_done},
        .stop_count = 2,
        .timeout = errc::request_write_idle_timeout,
    },
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

/// The period of the row's timer in `settings`: its duration, or a rate's period
/// (`low_speed`); nullopt for a count.
std::optional<std::chrono::nanoseconds> timer_value(const Settings& settings,
                                                    const SettingRow& row);

/// The row's value in `settings` when it is a count; nullopt for a duration.
std::optional<int> count_value(const Settings& settings, const SettingRow& row);

/// The row's value in `settings` as Go writes it ("30s", "0s", "10", "-1").
std::string value_text(const Settings& settings, const SettingRow& row);

/// The row's value in a default-constructed `Settings` ("30s").
std::string default_text(const SettingRow& row);

/// Sets the row's value from its text (a Go duration, a whole number in the row's range, or a
/// rate N/D: a size per second and a Go duration, "1KiB/5s");
/// writing a member of the `keep_alive` block enables the block. Returns why the text is not a
/// value of this setting ("" when it was set).
std::string set_from_text(Settings& settings, const SettingRow& row, std::string_view text);

}  // namespace tunedhttp
