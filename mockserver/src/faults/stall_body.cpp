// stall_body {after: BYTES}: the server sends the response headers and the first `after` bytes
// of the body, then sends nothing more; the connection stays open (the client closing it is
// seen and logged). A body that stops flowing after the headers, as an S3 GetObject that hangs:
// response_header is met, only a body timeout ends the client's wait. SPEC: stall-body=after:N
// (N may be 0: the headers alone). Event `body_stalled`, its detail the bytes sent.
// Mechanism: mockserver/src/response_writer.cpp and connection_body_stalls.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class StallBody final : public Fault {
 public:
  explicit StallBody(std::uint64_t after) : after_(after) {}
  void shape_request(RequestPlan& plan) const override { plan.stall_body_after = after_; }

 private:
  std::uint64_t after_;
};

}  // namespace

FaultDescriptor stall_body_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "stall_body";
  descriptor.level = FaultLevel::request;
  descriptor.parameters = {{"after", ParameterKind::byte_count}};
  descriptor.required = {"after"};
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<StallBody>(parameters.size("after").value_or(0));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
