#include "client_fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <string_view>

namespace tunedhttp::testing {

namespace {

// TUNEDHTTP_TEST_SERIAL_EXECUTOR=1 (the serial/ run of client_tests, CMakeLists.txt): the
// io_context is told it has one thread, so the client's executor is serial: requests need no
// strand of their own, and the lean path runs on the executor itself. Otherwise the default
// context, and a strand per request.
int concurrency_hint() {
  const char* serial = std::getenv("TUNEDHTTP_TEST_SERIAL_EXECUTOR");
  return serial != nullptr && std::string_view(serial) == "1" ? 1
                                                              : BOOST_ASIO_CONCURRENCY_HINT_DEFAULT;
}

ClientOptions options_of(Settings settings, TlsOptions tls) {
  ClientOptions options;
  options.settings = settings;
  options.tls = std::move(tls);
  return options;
}

}  // namespace

TlsOptions trusting_localhost() {
  return TlsOptions{{}, localhost_material().certificate_pem, false};
}

ClientFixture::ClientFixture(Settings settings, TlsOptions tls)
    : ClientFixture(options_of(settings, std::move(tls))) {}

ClientFixture::ClientFixture(ClientOptions options) : context_(concurrency_hint()) {
  options.trace = [this](const TraceEvent& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  };
  client_ = std::make_unique<Client>(context_.get_executor(), std::move(options));
}

ClientFixture::~ClientFixture() {
  client_.reset();
  // Let closed sockets' pending handlers finish so fds and memory are released.
  context_.restart();
  context_.run_for(std::chrono::milliseconds(200));
}

Outcome ClientFixture::request(Request request, std::chrono::seconds limit) {
  auto outcomes = parallel({std::move(request)}, limit);
  return outcomes.front();
}

std::vector<Outcome> ClientFixture::parallel(const std::vector<Request>& requests,
                                             std::chrono::seconds limit) {
  std::vector<Outcome> outcomes(requests.size());
  std::size_t finished = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    client_->async_request(requests[i], [&, i](boost::system::error_code ec, Response response) {
      outcomes[i].error = ec;
      outcomes[i].response = std::move(response);
      outcomes[i].finished = Clock::now();
      outcomes[i].completed = true;
      ++finished;
    });
  }
  run_until([&] { return finished == requests.size(); }, limit);
  return outcomes;
}

bool ClientFixture::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  context_.restart();
  while (!done() && Clock::now() < deadline) {
    context_.run_one_for(std::chrono::milliseconds(20));
    if (context_.stopped()) context_.restart();
  }
  return done();
}

std::optional<Clock::time_point> ClientFixture::at(TracePoint point, std::uint64_t request) const {
  std::lock_guard lock(mutex_);
  for (const auto& event : events_) {
    if (event.point == point && (request == 0 || event.request == request)) return event.at;
  }
  return std::nullopt;
}

std::vector<TraceEvent> ClientFixture::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::vector<TraceEvent> ClientFixture::events(TracePoint point) const {
  std::vector<TraceEvent> found;
  for (const auto& event : events()) {
    if (event.point == point) found.push_back(event);
  }
  return found;
}

void expect_fired_on_time(Clock::time_point start, Clock::time_point fired,
                          std::chrono::nanoseconds configured) {
  EXPECT_EQ(timing_problem(configured, fired - start), "");
}

Outcome request_with_deadline(ClientFixture& fixture, Request request,
                              std::chrono::milliseconds deadline, Clock::time_point& cancelled_at) {
  boost::asio::cancellation_signal signal;
  boost::asio::steady_timer timer(fixture.context(), deadline);
  timer.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    cancelled_at = Clock::now();
    signal.emit(boost::asio::cancellation_type::terminal);
  });
  Outcome outcome;
  fixture.client().async_request(
      std::move(request), boost::asio::bind_cancellation_slot(
                              signal.slot(), [&](boost::system::error_code ec, Response response) {
                                outcome.error = ec;
                                outcome.response = std::move(response);
                                outcome.finished = Clock::now();
                                outcome.completed = true;
                              }));
  fixture.run_until([&] { return outcome.completed; }, std::chrono::seconds(5));
  timer.cancel();
  return outcome;
}

Request get(const std::string& url) { return make_request(boost::beast::http::verb::get, url); }

}  // namespace tunedhttp::testing
