// withhold_continue {for: D, reply: STATUS}: on a request with `Expect: 100-continue`, send
// `100 Continue` only after D (absent = never). Body bytes arriving first (the client stopped
// waiting) cancel the 100. With `reply`, answer that final status (e.g. 417) at once instead,
// without reading the body, with `Connection: close`.
// Mechanism: mockserver/src/request_loop.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class WithholdContinue final : public Fault {
 public:
  WithholdContinue(std::optional<Duration> duration, std::optional<unsigned> reply)
      : duration_(duration), reply_(reply) {}
  void shape_request(RequestPlan& plan) const override {
    if (reply_) {
      plan.expect_continue.reply_instead = reply_;
      plan.expect_continue.withhold.reset();
    } else {
      plan.expect_continue.withhold = Wait{duration_, "withhold_continue"};
    }
  }

 private:
  std::optional<Duration> duration_;
  std::optional<unsigned> reply_;
};

}  // namespace

FaultDescriptor withhold_continue_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "withhold_continue";
  descriptor.level = FaultLevel::request;
  descriptor.parameters = {{"for", ParameterKind::duration}, {"reply", ParameterKind::status}};
  descriptor.primary_parameter = "for";
  descriptor.check = [](const Parameters& parameters) -> std::string {
    auto reply = parameters.status("reply");
    if (reply && parameters.duration("for")) return "give either 'for' or 'reply', not both";
    if (reply && *reply < 200) return "parameter 'reply' must be a final status (200 to 599)";
    return {};
  };
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<WithholdContinue>(parameters.duration("for"),
                                              parameters.status("reply"));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
