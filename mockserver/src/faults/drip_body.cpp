// drip_body {chunk: SIZE, every: D}: the response body is written `chunk` bytes at a time, one
// piece every D (the first right after the headers). SPEC form: drip-body=1KiB/100ms.
// Mechanism: mockserver/src/response_writer.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class DripBody final : public Fault {
 public:
  DripBody(std::uint64_t chunk, Duration every) : chunk_(chunk), every_(every) {}
  void shape_request(RequestPlan& plan) const override {
    plan.drip_chunk = chunk_;
    plan.drip_every = every_;
  }

 private:
  std::uint64_t chunk_;
  Duration every_;
};

}  // namespace

FaultDescriptor drip_body_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "drip_body";
  descriptor.level = FaultLevel::request;
  descriptor.parameters = {{"chunk", ParameterKind::size}, {"every", ParameterKind::duration}};
  descriptor.required = {"chunk", "every"};
  descriptor.parse_value =
      [](std::string_view value) -> std::optional<std::map<std::string, std::string>> {
    auto slash = value.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    return std::map<std::string, std::string>{{"chunk", std::string(value.substr(0, slash))},
                                              {"every", std::string(value.substr(slash + 1))}};
  };
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<DripBody>(parameters.size("chunk").value_or(1),
                                      parameters.duration("every").value_or(Duration{}));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
