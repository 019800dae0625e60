// stall_connect: a proxy (ServerOptions::proxy) never answers a CONNECT: the client's CONNECT
// waits until it gives up (its own proxy-connect limit) or the server stops. Forwarded
// (absolute-form) and origin-form requests are not affected.
// Mechanism: mockserver/src/proxy.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class StallConnect final : public Fault {
 public:
  void shape_request(RequestPlan& plan) const override {
    plan.connect.answer_delay = Wait{std::nullopt, "stall_connect"};
  }
};

}  // namespace

FaultDescriptor stall_connect_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "stall_connect";
  descriptor.level = FaultLevel::request;
  descriptor.requires_proxy = true;
  descriptor.make = [](const Parameters&) { return std::make_unique<StallConnect>(); };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
