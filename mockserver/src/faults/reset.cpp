// reset {on_accept: bool, after_headers: bool, mid_body: SIZE, idle: D}: the server ends the
// connection with a TCP reset instead of a FIN (SO_LINGER {1, 0}, then close), so the client's
// next read or write fails with "connection reset by peer". Give exactly one:
//   reset=on-accept          right after accept, before any byte is read
//   reset=after-headers      once a request's head and body are read: no answer comes
//   reset=mid-body:N         after the response headers and N bytes of the body
//   reset=idle:D             a connection idle for D is forgotten, as an NLB or a NAT gateway
//                            forgets an idle flow: the next packet the client sends on it (its
//                            next request, or its FIN) is answered with the reset, so a pooled
//                            connection fails only when it is reused
// on-accept and idle act on connections (target connection:N); after-headers and mid-body on
// requests (any target). Event `reset_sent`, its detail naming the moment.
// Mechanism: mockserver/src/connection_reset.cpp (and response_writer.cpp for mid-body).
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class ResetConnection final : public Fault {
 public:
  ResetConnection(bool on_accept, std::optional<Duration> idle)
      : on_accept_(on_accept), idle_(idle) {}
  void shape_connection(ConnectionPlan& plan) const override {
    if (on_accept_) plan.reset_on_accept = true;
    if (idle_) plan.reset_idle = idle_;
  }

 private:
  bool on_accept_;
  std::optional<Duration> idle_;
};

class ResetRequest final : public Fault {
 public:
  explicit ResetRequest(std::optional<std::uint64_t> mid_body) : mid_body_(mid_body) {}
  void shape_request(RequestPlan& plan) const override {
    if (mid_body_) {
      plan.reset_after_body_bytes = mid_body_;
    } else {
      plan.reset_after_request = true;
    }
  }

 private:
  std::optional<std::uint64_t> mid_body_;
};

bool acts_on_requests(const Parameters& parameters) {
  return parameters.boolean("after_headers").value_or(false) ||
         parameters.size("mid_body").has_value();
}

}  // namespace

FaultDescriptor reset_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "reset";
  descriptor.level = FaultLevel::connection;
  descriptor.level_for = [](const Parameters& parameters) {
    return acts_on_requests(parameters) ? FaultLevel::request : FaultLevel::connection;
  };
  descriptor.parameters = {{"on_accept", ParameterKind::boolean},
                           {"after_headers", ParameterKind::boolean},
                           {"mid_body", ParameterKind::size},
                           {"idle", ParameterKind::duration}};
  descriptor.parse_value =
      [](std::string_view value) -> std::optional<std::map<std::string, std::string>> {
    if (value == "on-accept") return std::map<std::string, std::string>{{"on_accept", "true"}};
    if (value == "after-headers") {
      return std::map<std::string, std::string>{{"after_headers", "true"}};
    }
    return std::nullopt;
  };
  descriptor.check = [](const Parameters& parameters) -> std::string {
    const int given = int{parameters.boolean("on_accept").value_or(false)} +
                      int{parameters.boolean("after_headers").value_or(false)} +
                      int{parameters.size("mid_body").has_value()} +
                      int{parameters.duration("idle").has_value()};
    if (given != 1) {
      return "give exactly one of on_accept: true, after_headers: true, mid_body: SIZE, idle: D "
             "(SPEC: reset=on-accept, reset=after-headers, reset=mid-body:N, reset=idle:D)";
    }
    return {};
  };
  descriptor.make = [](const Parameters& parameters) -> std::unique_ptr<Fault> {
    if (acts_on_requests(parameters)) {
      return std::make_unique<ResetRequest>(parameters.size("mid_body"));
    }
    return std::make_unique<ResetConnection>(parameters.boolean("on_accept").value_or(false),
                                             parameters.duration("idle"));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
