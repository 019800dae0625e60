// delay_tls_handshake {for: D, after_client_hello: bool}: the server does not read the
// ClientHello for D (absent = forever); with after_client_hello it reads the ClientHello record
// first and delays its ServerHello instead. Either way the client's handshake cannot finish
// before D.
// Mechanism: mockserver/src/tls_handshake.cpp.
#include "fault.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

class DelayTlsHandshake final : public Fault {
 public:
  DelayTlsHandshake(std::optional<Duration> duration, bool after_client_hello)
      : duration_(duration), after_client_hello_(after_client_hello) {}
  void shape_connection(ConnectionPlan& plan) const override {
    plan.tls_handshake_delay = Wait{duration_, "delay_tls_handshake"};
    plan.delay_after_client_hello = after_client_hello_;
  }

 private:
  std::optional<Duration> duration_;
  bool after_client_hello_;
};

}  // namespace

FaultDescriptor delay_tls_handshake_fault() {
  FaultDescriptor descriptor;
  descriptor.name = "delay_tls_handshake";
  descriptor.level = FaultLevel::connection;
  descriptor.requires_tls = true;
  descriptor.parameters = {{"for", ParameterKind::duration},
                           {"after_client_hello", ParameterKind::boolean}};
  descriptor.primary_parameter = "for";
  descriptor.make = [](const Parameters& parameters) {
    return std::make_unique<DelayTlsHandshake>(
        parameters.duration("for"), parameters.boolean("after_client_hello").value_or(false));
  };
  return descriptor;
}

}  // namespace tunedhttp::mockserver::detail
