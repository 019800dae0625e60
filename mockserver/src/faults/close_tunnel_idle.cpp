// close_tunnel_idle {after: D}: a proxy (ServerOptions::proxy) closes a CONNECT tunnel once no
// byte has gone through it, either way, for D (both of its sides, with a FIN), as proxies with
// an idle timeout for tunnels do; the client finds its pooled connection closed.
// Mechanism: mockserver/src/proxy.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class CloseTunnelIdle final : public Fault {
 public:
  explicit CloseTunnelIdle(Duration after) : after_(after) {}
  void shape_request(RequestPlan& plan) const override { plan.connect.tunnel_idle_close = after_; }

 private:
  Duration after_;
};

}  // namespace

FaultDescriptor close_tunnel_idle_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "close_tunnel_idle";
  descriptor.level = FaultLevel::request;
  descriptor.requires_proxy = true;
  descriptor.parameters = {{"after", ParameterKind::duration}};
  descriptor.required = {"after"};
  descriptor.primary_parameter = "after";
  descriptor.check = [](const Parameters& parameters) -> std::string {
    if (parameters.duration("after").value_or(Duration{}) <= Duration::zero()) {
      return "parameter 'after' must be a duration above 0 such as 500ms";
    }
    return {};
  };
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<CloseTunnelIdle>(parameters.duration("after").value_or(Duration{}));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
