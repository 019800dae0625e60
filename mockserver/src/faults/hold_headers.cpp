// hold_headers {for: D, after_status_line: bool}: after reading the whole request, hold the
// response headers for D (absent = forever); with after_status_line, send the status line first
// and hold the rest of the headers.
// Mechanism: mockserver/src/response_writer.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class HoldHeaders final : public Fault {
 public:
  HoldHeaders(std::optional<Duration> duration, bool after_status_line)
      : duration_(duration), after_status_line_(after_status_line) {}
  void shape_request(RequestPlan& plan) const override {
    plan.hold_headers = Wait{duration_, "hold_headers"};
    plan.hold_after_status_line = after_status_line_;
  }

 private:
  std::optional<Duration> duration_;
  bool after_status_line_;
};

}  // namespace

FaultDescriptor hold_headers_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "hold_headers";
  descriptor.level = FaultLevel::request;
  descriptor.parameters = {{"for", ParameterKind::duration},
                           {"after_status_line", ParameterKind::boolean}};
  descriptor.primary_parameter = "for";
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<HoldHeaders>(parameters.duration("for"),
                                         parameters.boolean("after_status_line").value_or(false));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
