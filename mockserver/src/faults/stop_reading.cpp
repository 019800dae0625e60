// stop_reading {after: BYTES}: the server reads a request's headers and the first `after` bytes
// of its body (at least; a read takes what has arrived), then reads nothing more and never
// answers; the connection stays open until the server stops. Once the kernel's buffers on both
// sides are full (several MiB on loopback) the client's write makes no progress: Go's
// golang/go#61568, where response_header never starts because the write never ends.
// SPEC: stop-reading=after:N (N may be 0: the headers alone). Event `reading_stopped`, its
// detail the body bytes read. The client's close is not seen: its FIN waits behind its unsent
// bytes.
// Mechanism: mockserver/src/request_loop.cpp and connection_body_stalls.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class StopReading final : public Fault {
 public:
  explicit StopReading(std::uint64_t after) : after_(after) {}
  void shape_request(RequestPlan& plan) const override { plan.stop_reading_after = after_; }

 private:
  std::uint64_t after_;
};

}  // namespace

FaultDescriptor stop_reading_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "stop_reading";
  descriptor.level = FaultLevel::request;
  descriptor.parameters = {{"after", ParameterKind::byte_count}};
  descriptor.required = {"after"};
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<StopReading>(parameters.size("after").value_or(0));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
