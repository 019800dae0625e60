#pragma once
// The eight connection settings of the AWS SDK for Go V2 "custom HTTP client" guide.

#include <chrono>
#include <cstdint>

namespace tunedhttp {

/// Go 1.23's net.KeepAliveConfig: TCP keep-alive spelled out. Go 1.23 and later read a bare
/// Dialer.KeepAlive as idle = period, interval = 15 s, count = 9; Go up to 1.22 (and
/// `Settings::conn_keep_alive` here, the default) as idle = interval = period with the kernel's
/// count (9 on Linux). Set `enable` to mirror the newer shape or any other.
struct KeepAliveConfig {
  /// Use this block instead of `conn_keep_alive` (which is then ignored, as in Go).
  bool enable = false;
  /// TCP_KEEPIDLE: idle time before the first probe. 0 = 15 s; negative = the OS default.
  std::chrono::nanoseconds idle{0};
  /// TCP_KEEPINTVL: time between unanswered probes. 0 = 15 s; negative = the OS default.
  std::chrono::nanoseconds interval{0};
  /// TCP_KEEPCNT: unanswered probes before the connection is dropped. 0 = 9; negative = the
  /// OS default.
  int count = 0;
};

/// curl's CURLOPT_LOW_SPEED_LIMIT and CURLOPT_LOW_SPEED_TIME: a response body that comes
/// slower than `bytes_per_second` for `period`. Off when either is 0 (the default).
struct LowSpeed {
  std::uint64_t bytes_per_second = 0;  ///< LOW_SPEED_LIMIT, in bytes per second.
  std::chrono::nanoseconds period{0};  ///< LOW_SPEED_TIME.
  bool enabled() const { return bytes_per_second > 0 && period > std::chrono::nanoseconds::zero(); }
  bool operator==(const LowSpeed&) const = default;
};

/// The eight knobs, with the defaults of the AWS SDK for Go V2 BuildableClient.
/// Semantics follow Go's net/http: each field says which trace point starts its timer, which
/// ends it, and what zero (or a negative value) means.
struct Settings {
  /// net.Dialer.Timeout. Limits name resolution plus every connect attempt, from trace point
  /// `dial_start` to `dial_done`. On expiry the request fails with `errc::connect_timeout`.
  /// 0 = no limit. Default 30 s.
  std::chrono::nanoseconds connect = std::chrono::seconds{30};

  /// net.Dialer.KeepAlive. After connect, SO_KEEPALIVE is set with TCP_KEEPIDLE = TCP_KEEPINTVL
  /// = ceil(period) seconds; a dead peer then shows up as a read error. 0 = 15 s (Go's
  /// default); negative = TCP keep-alive off. Default 30 s.
  std::chrono::nanoseconds conn_keep_alive = std::chrono::seconds{30};

  /// Transport.TLSHandshakeTimeout. From `tls_handshake_start` (TCP connected) to
  /// `tls_handshake_done`. On expiry `errc::tls_handshake_timeout`. 0 = no limit. Default 10 s.
  std::chrono::nanoseconds tls_handshake = std::chrono::seconds{10};

  /// Transport.ExpectContinueTimeout. Only for a request with a body and `Expect:
  /// 100-continue`: from `wait_100_continue` (headers flushed) until `got_100_continue`. On
  /// expiry there is no error: the body is sent anyway. 0 = send the body at once. Default 1 s.
  std::chrono::nanoseconds expect_continue = std::chrono::seconds{1};

  /// Transport.ResponseHeaderTimeout. From `wrote_request` (headers and body written) to the
  /// final (non-1xx) response headers read; it does not cover reading the body. On expiry
  /// `errc::response_header_timeout` and the connection is closed. 0 = wait forever (default).
  std::chrono::nanoseconds response_header = std::chrono::nanoseconds{0};

  /// Transport.IdleConnTimeout. Restarted each time a connection is put back idle
  /// (`put_idle_conn`); on expiry the client closes the socket (`idle_conn_closed`).
  /// 0 = never. Default 90 s.
  std::chrono::nanoseconds idle_conn = std::chrono::seconds{90};

  /// Transport.MaxIdleConns. Cap on idle connections over all hosts; past it, the least recently
  /// idled connection of any host is closed. 0 = no limit. Default 100.
  int max_all_idle_conns = 100;

  /// Transport.MaxIdleConnsPerHost. Cap per host (scheme + host + port); a connection returned
  /// to a full host list is closed. 0 (or negative) = 2, Go's DefaultMaxIdleConnsPerHost.
  /// Default 10.
  int max_host_idle_conns = 10;

  // Extensions beyond the eight (opt-in; docs/settings.md).

  /// net.Dialer.FallbackDelay: when a name resolves to both IPv6 and IPv4 addresses, the
  /// addresses of the first one's family are tried first and the other family starts this long
  /// after (or at once when the first family has failed), the first connection winning (RFC
  /// 6555 "Happy Eyeballs", Go's dialParallel). 0 = 300 ms; negative = no fallback: every
  /// address is tried in order. All under `connect`.
  std::chrono::nanoseconds dual_stack_fallback_delay{0};

  /// Go 1.23's Dialer.KeepAliveConfig; used instead of `conn_keep_alive` when enabled.
  KeepAliveConfig keep_alive;
  /// Go's fixed one-minute bound on a proxy's answer to CONNECT (`dialConn`), offered as a
  /// setting: from `proxy_connect_start` (the CONNECT request about to be written, the TCP
  /// connection to the proxy made under `connect`) to `proxy_connect_done` (its answer's
  /// headers read). On expiry `errc::proxy_connect_timeout`, never retried. Only https targets
  /// reached through a proxy make a CONNECT. 0 = no limit. Default 60 s.
  std::chrono::nanoseconds proxy_connect = std::chrono::seconds{60};

  // After the headers: the stalls of a response body, and of a request body the server stops
  // reading. Go has none of these (golang/go#26941, #54136, #61568); the AWS SDK for Go V2 adds
  // read timeouts of its own, curl has LOW_SPEED_LIMIT/TIME. Each fails the request (or the
  // BodyReader's read) with its own error and closes the connection, never pooled.

  /// No response body byte for this long while the body is being read: from
  /// `got_response_headers`, restarted by every read of the connection that brings bytes
  /// (a streamed body: by every BodyReader read that has to wait for the connection, so the
  /// caller's own pauses do not count). On expiry `errc::body_read_idle_timeout`. 0 = no limit
  /// (default); negative = no limit, as 0.
  std::chrono::nanoseconds body_read_idle{0};

  /// curl's low-speed pair, from `got_response_headers`: the request fails with
  /// `errc::low_speed_timeout` at the first moment t, at least `period` after the headers, at
  /// which fewer than bytes_per_second x period body bytes arrived in (t - period, t]. Off by
  /// default.
  LowSpeed low_speed;

  /// The server takes no byte of our request (headers or body) for this long: every write of
  /// the connection is limited to it, from `wrote_headers` on for the body. On expiry
  /// `errc::request_write_idle_timeout`: response_header, which starts only once the request
  /// is written, would never start (golang/go#61568). 0 = no limit (default); negative = no
  /// limit, as 0.
  std::chrono::nanoseconds request_write_idle{0};
};

/// The fallback delay actually applied: 300 ms for 0, the value itself otherwise (negative =
/// no fallback).
std::chrono::nanoseconds effective_dual_stack_fallback_delay(const Settings& settings);

/// TCP keep-alive as it is applied to a new connection.
struct EffectiveKeepAlive {
  bool enabled = true;
  /// TCP_KEEPIDLE, TCP_KEEPINTVL in whole seconds (ceiling, at least 1), TCP_KEEPCNT;
  /// each 0 = leave the OS default.
  int idle_seconds = 0;
  int interval_seconds = 0;
  int count = 0;
};

/// Go's rules for `conn_keep_alive` (up to 1.22) or `keep_alive` (1.23's config, when enabled).
EffectiveKeepAlive effective_keep_alive(const Settings& settings);

/// The keep-alive period actually applied: 15 s for 0, the value itself when positive, and a
/// negative duration (keep-alive off) when negative.
std::chrono::nanoseconds effective_conn_keep_alive(const Settings& settings);

/// The per-host idle cap actually applied: 2 for 0 or negative, the value itself otherwise.
int effective_max_host_idle_conns(const Settings& settings);

}  // namespace tunedhttp
