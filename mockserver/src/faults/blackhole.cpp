// blackhole {after_headers: bool, idle: D}: the connection goes dark, as a peer does when a NAT
// gateway drops its flow, its host crashes or its cable is pulled: from then on every packet the
// client sends is dropped by the kernel before TCP sees it (a classic BPF socket filter of one
// `ret #0` on the accepted socket; no root needed), so nothing is acknowledged and no FIN or RST
// ever comes back, keep-alive probes included. Only the client's own limits can end its wait:
// TCP keep-alive (`conn_keep_alive`), `response_header`, a caller's deadline.
//   blackhole                       right after accept
//   blackhole=after-headers         once a request's head and body are read (no answer comes)
//   blackhole=idle:D                when a kept-alive connection has been idle for D
// Event `blackholed`; the server still closes the socket (and logs it) when it stops.
// Mechanism: mockserver/src/connection_blackhole.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class Blackhole final : public Fault {
 public:
  Blackhole(GoDark when, Duration idle) : when_(when), idle_(idle) {}
  void shape_connection(ConnectionPlan& plan) const override {
    plan.blackhole = when_;
    plan.blackhole_idle = idle_;
  }

 private:
  GoDark when_;
  Duration idle_;
};

}  // namespace

FaultDescriptor blackhole_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "blackhole";
  descriptor.level = FaultLevel::connection;
  descriptor.parameters = {{"after_headers", ParameterKind::boolean},
                           {"idle", ParameterKind::duration}};
  descriptor.parse_value =
      [](std::string_view value) -> std::optional<std::map<std::string, std::string>> {
    if (value == "after-headers")
      return std::map<std::string, std::string>{{"after_headers", "true"}};
    return std::nullopt;
  };
  descriptor.check = [](const Parameters& parameters) -> std::string {
    if (parameters.boolean("after_headers").value_or(false) && parameters.duration("idle")) {
      return "give 'after_headers' or 'idle', not both";
    }
    return {};
  };
  descriptor.make = [](const Parameters& parameters) {
    if (auto idle = parameters.duration("idle")) {
      return std::make_unique<Blackhole>(GoDark::when_idle, *idle);
    }
    const bool after_headers = parameters.boolean("after_headers").value_or(false);
    return std::make_unique<Blackhole>(after_headers ? GoDark::after_request : GoDark::on_accept,
                                       Duration{});
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
