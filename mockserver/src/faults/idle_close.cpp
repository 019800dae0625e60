// idle_close {after: D}: the server closes a keep-alive connection that has been idle (no
// request bytes since the last response, or since accept) for D, like a server's own idle timeout.
// Mechanism: mockserver/src/request_loop.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class IdleClose final : public Fault {
 public:
  explicit IdleClose(Duration after) : after_(after) {}
  void shape_connection(ConnectionPlan& plan) const override { plan.idle_close = after_; }

 private:
  Duration after_;
};

}  // namespace

FaultDescriptor idle_close_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "idle_close";
  descriptor.level = FaultLevel::connection;
  descriptor.parameters = {{"after", ParameterKind::duration}};
  descriptor.required = {"after"};
  descriptor.primary_parameter = "after";
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<IdleClose>(parameters.duration("after").value_or(Duration{}));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
