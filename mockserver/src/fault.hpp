#pragma once
// The internal fault model: each fault is a small sans-io type that shapes a *plan* at one point
// of a connection's life; the server carries the plans out. No Asio here, so faults stay tiny and
// testable, and adding one touches its own file plus one line in fault_registry.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tunedhttp/mockserver/fault_config.hpp>
#include <vector>

namespace tunedhttp::mockserver::detail {

using Duration = std::chrono::nanoseconds;

/// A wait: a duration, or nullopt for "forever" (until the peer closes or the server stops).
struct Wait {
  std::optional<Duration> duration;
  std::string by;  ///< the fault that asked for it (for the event log).
};

/// Decided before accepting the next connection.
struct AcceptPlan {
  std::optional<Wait> stall;  ///< stall the TCP handshake of the next clients for this long.
};

/// When a black-holed connection goes dark (every packet from the peer dropped from then on).
enum class GoDark {
  on_accept,      ///< right after accept: the handshake completed, nothing else ever will.
  after_request,  ///< once a request's head and body are read: the answer never comes.
  when_idle,      ///< after `blackhole_idle` between requests: a NAT dropping an idle flow.
};

/// Decided when a connection is accepted.
struct ConnectionPlan {
  std::optional<GoDark> blackhole;
  Duration blackhole_idle{};  ///< with GoDark::when_idle.
  std::optional<Wait> tls_handshake_delay;
  bool delay_after_client_hello = false;  ///< read the ClientHello first, then delay.
  std::optional<std::uint64_t> close_after_responses;
  std::optional<Duration> idle_close;  ///< close when idle (between requests) this long.
  bool reset_on_accept = false;        ///< reset (RST) right after accept.
  /// Idle this long, the connection is forgotten: the next bytes (or FIN) from the peer get an
  /// RST.
  std::optional<Duration> reset_idle;
};

/// What to do about `Expect: 100-continue` on a request that has a body.
struct ContinuePlan {
  /// Delay before sending `100 Continue`; nullopt duration = never send it. Body bytes that
  /// arrive during the delay cancel the 100 (the client gave up waiting and sent the body).
  std::optional<Wait> withhold;
  std::optional<unsigned> reply_instead;  ///< answer this final status instead, body unread.
};

/// What a proxy (ServerOptions::proxy) does about a CONNECT.
struct ConnectPlan {
  /// Answer only after this (nullopt duration: never, stall_connect); bytes the client sends
  /// meanwhile are kept for the target.
  std::optional<Wait> answer_delay;
  std::optional<unsigned> reject;             ///< answer this error status, no tunnel.
  std::optional<Duration> tunnel_idle_close;  ///< close the tunnel after this long without a byte.
};

/// Decided when a request's headers have been read.
struct RequestPlan {
  ContinuePlan expect_continue;
  ConnectPlan connect;  ///< for a CONNECT to a proxy
  std::optional<Wait> hold_headers;
  bool hold_after_status_line = false;
  std::optional<std::uint64_t> drip_chunk;  ///< with drip_every: write the body in pieces.
  Duration drip_every{};
  bool reset_after_request = false;  ///< reset (RST) once the request is read, no answer.
  /// Reset after the response headers and this many bytes of the body.
  std::optional<std::uint64_t> reset_after_body_bytes;
  /// Send the response headers and this many bytes of the body, then nothing (stall_body).
  std::optional<std::uint64_t> stall_body_after;
  /// Read this many bytes of the request body, then nothing more (stop_reading).
  std::optional<std::uint64_t> stop_reading_after;
};

/// What a request looks like to the faults that target it.
struct RequestInfo {
  std::string listener;  ///< the address the connection was accepted on
  std::uint64_t connection = 0;
  std::uint64_t request = 0;
  std::string path;
};

/// One fault, configured.
class Fault {
 public:
  virtual ~Fault() = default;
  virtual void shape_accept(AcceptPlan& /*plan*/) const {}
  virtual void shape_connection(ConnectionPlan& /*plan*/) const {}
  virtual void shape_request(RequestPlan& /*plan*/) const {}
};

/// The point a fault acts at decides which targets make sense for it.
enum class FaultLevel {
  accept,      ///< before an accept: target `connection` only (the n-th one is stalled).
  connection,  ///< per connection: target `connection` only.
  request,     ///< per request: any target.
};

/// `size` is at least 1 byte; `byte_count` a size that may be 0 (stall-body=after:0).
enum class ParameterKind { duration, size, byte_count, count, boolean, status };

struct ParameterSpec {
  std::string name;
  ParameterKind kind;
};

/// Typed access to validated parameters.
class Parameters {
 public:
  explicit Parameters(const std::map<std::string, std::string>& values) : values_(values) {}
  std::optional<Duration> duration(const std::string& name) const;
  std::optional<std::uint64_t> size(const std::string& name) const;
  std::optional<std::uint64_t> count(const std::string& name) const;
  std::optional<bool> boolean(const std::string& name) const;
  std::optional<unsigned> status(const std::string& name) const;

 private:
  const std::string* find(const std::string& name) const;
  const std::map<std::string, std::string>& values_;
};

/// How a fault is named, checked, made and written as a `serve --fault` SPEC.
struct FaultDescriptor {
  std::string name;  ///< snake_case, as in the scenario files.
  FaultLevel level = FaultLevel::request;
  /// Optional: the level, when it depends on the parameters (reset=on-accept acts on
  /// connections, reset=after-headers on requests); `level` otherwise.
  std::function<FaultLevel(const Parameters&)> level_for;
  std::vector<ParameterSpec> parameters;
  std::vector<std::string> required;  ///< parameters that must be present.
  /// The parameter a bare SPEC value sets (`hold-headers=5s` sets `for`); empty = none.
  std::string primary_parameter;
  /// Optional: turns a SPEC value that is not `key:value` into parameters (drip-body=1KiB/100ms).
  /// Returns nullopt when it does not recognise the value.
  std::function<std::optional<std::map<std::string, std::string>>(std::string_view)> parse_value;
  /// Extra checks across parameters; returns an error message or empty.
  std::function<std::string(const Parameters&)> check;
  std::function<std::unique_ptr<Fault>(const Parameters&)> make;
  /// It acts only on a TLS server (ServerOptions::tls); other servers refuse it.
  bool requires_tls = false;
  /// It acts only on a proxy (ServerOptions::proxy); other servers refuse it.
  bool requires_proxy = false;
};

/// The registry: every fault, in one place (fault_registry.cpp).
const std::vector<FaultDescriptor>& fault_descriptors();
const FaultDescriptor* find_fault(std::string_view name);

/// One file per fault; each returns its descriptor.
FaultDescriptor stall_accept_fault();
FaultDescriptor delay_tls_handshake_fault();
FaultDescriptor withhold_continue_fault();
FaultDescriptor hold_headers_fault();
FaultDescriptor close_after_requests_fault();
FaultDescriptor idle_close_fault();
FaultDescriptor drip_body_fault();
FaultDescriptor blackhole_fault();
FaultDescriptor reset_fault();
FaultDescriptor stall_connect_fault();
FaultDescriptor delay_connect_fault();
FaultDescriptor reject_connect_fault();
FaultDescriptor close_tunnel_idle_fault();
FaultDescriptor stall_body_fault();
FaultDescriptor stop_reading_fault();

/// The level a configured fault acts at (FaultDescriptor::level_for, or level).
FaultLevel level_of(const FaultDescriptor& descriptor, const Parameters& parameters);

/// A configured fault with its target, as the server holds it.
struct ActiveFault {
  FaultConfig config;
  FaultLevel level = FaultLevel::request;
  std::shared_ptr<const Fault> fault;
  std::uint64_t id = 0;  ///< the server's number for it, from 1 (the control API's /faults/N)
  /// Its targets count what came after these: connections accepted and requests read before
  /// the fault was set.
  std::uint64_t connections_before = 0;
  std::uint64_t requests_before = 0;
};

/// Validates and makes every fault; throws std::invalid_argument with validate()'s message.
std::vector<ActiveFault> make_faults(const std::vector<FaultConfig>& configs);

/// Whether `number` (a connection or request, counted by the server from 1) is in the target
/// range [first, last] counted after `before` of them. No `first`: every number is.
bool in_target_range(const std::optional<std::uint64_t>& first,
                     const std::optional<std::uint64_t>& last, std::uint64_t number,
                     std::uint64_t before);

}  // namespace tunedhttp::mockserver::detail
