// delay_connect {for: D}: a proxy (ServerOptions::proxy) answers a CONNECT only D after reading
// it (then dials the target and answers 200, or 502 when it cannot reach it).
// Mechanism: mockserver/src/proxy.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class DelayConnect final : public Fault {
 public:
  explicit DelayConnect(Duration duration) : duration_(duration) {}
  void shape_request(RequestPlan& plan) const override {
    plan.connect.answer_delay = Wait{duration_, "delay_connect"};
  }

 private:
  Duration duration_;
};

}  // namespace

FaultDescriptor delay_connect_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "delay_connect";
  descriptor.level = FaultLevel::request;
  descriptor.requires_proxy = true;
  descriptor.parameters = {{"for", ParameterKind::duration}};
  descriptor.required = {"for"};
  descriptor.primary_parameter = "for";
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<DelayConnect>(parameters.duration("for").value_or(Duration{}));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
