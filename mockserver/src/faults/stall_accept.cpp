// stall_accept {for: D}: the TCP handshake of new clients does not complete. The server stops
// accepting, listens with backlog 0 and fills the accept queue with its own filler connections
// (Linux queues backlog + 1 = 1 connection), so the kernel drops further SYNs. After `for` (absent
// = until the server stops) the fillers are closed and accepting resumes; a stalled client then
// connects on its next SYN retransmission (about 1 s, 3 s, 7 s ... after its first SYN).
// Targeting connection N lets N - 1 connections in first. Acts once per fault.
// Mechanism: mockserver/src/accept_stall.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class StallAccept final : public Fault {
 public:
  explicit StallAccept(std::optional<Duration> duration) : duration_(duration) {}
  void shape_accept(AcceptPlan& plan) const override {
    plan.stall = Wait{duration_, "stall_accept"};
  }

 private:
  std::optional<Duration> duration_;
};

}  // namespace

FaultDescriptor stall_accept_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "stall_accept";
  descriptor.level = FaultLevel::accept;
  descriptor.parameters = {{"for", ParameterKind::duration}};
  descriptor.primary_parameter = "for";
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<StallAccept>(parameters.duration("for"));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
