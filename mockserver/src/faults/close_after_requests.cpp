// close_after_requests {count: N}: the server closes a connection after writing its N-th
// response, as a server dropping keep-alive connections does. The response itself does not say
// `Connection: close`, so a client learns of it only by the FIN.
// Mechanism: mockserver/src/request_loop.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class CloseAfterRequests final : public Fault {
 public:
  explicit CloseAfterRequests(std::uint64_t count) : count_(count) {}
  void shape_connection(ConnectionPlan& plan) const override {
    plan.close_after_responses = count_;
  }

 private:
  std::uint64_t count_;
};

}  // namespace

FaultDescriptor close_after_requests_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "close_after_requests";
  descriptor.level = FaultLevel::connection;
  descriptor.parameters = {{"count", ParameterKind::count}};
  descriptor.required = {"count"};
  descriptor.primary_parameter = "count";
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<CloseAfterRequests>(parameters.count("count").value_or(1));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
