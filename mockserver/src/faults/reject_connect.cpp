// reject_connect {status: STATUS}: a proxy (ServerOptions::proxy) answers a CONNECT with this
// final status (400 to 599: 407 Proxy Authentication Required, 403 Forbidden, 502 Bad Gateway
// ...) and `Connection: close` instead of opening the tunnel; a 407 carries
// `Proxy-Authenticate: Basic realm="tunedhttp"`, as a proxy that wants credentials does.
// Mechanism: mockserver/src/proxy.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class RejectConnect final : public Fault {
 public:
  explicit RejectConnect(unsigned status) : status_(status) {}
  void shape_request(RequestPlan& plan) const override { plan.connect.reject = status_; }

 private:
  unsigned status_;
};

}  // namespace

FaultDescriptor reject_connect_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "reject_connect";
  descriptor.level = FaultLevel::request;
  descriptor.requires_proxy = true;
  descriptor.parameters = {{"status", ParameterKind::status}};
  descriptor.required = {"status"};
  descriptor.primary_parameter = "status";
  descriptor.check = [](const Parameters& parameters) -> std::string {
    if (parameters.status("status").value_or(0) < 400) {
      return "parameter 'status' must be an error status (400 to 599) such as 407, 403 or 502";
    }
    return {};
  };
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<RejectConnect>(parameters.status("status").value_or(0));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
