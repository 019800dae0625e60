#pragma once
// A client on a test-owned io_context, with every trace event recorded, and the two-sided
// timing assertion all timing tests use.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <mutex>
#include <optional>
#include <tunedhttp/client.hpp>
#include <tunedhttp/units.hpp>
#include <vector>

#include "scripted_server.hpp"

namespace tunedhttp::testing {

/// What one request ended with, and when.
struct Outcome {
  boost::system::error_code error;
  Response response;
  Clock::time_point finished;
  bool completed = false;  ///< false: the test's own deadline passed first (a hang)
};

/// Owns an io_context and a client whose trace is recorded.
class ClientFixture {
 public:
  explicit ClientFixture(Settings settings = {}, TlsOptions tls = {});
  /// A client made with `options`, whose trace hook the fixture replaces with its recorder.
  explicit ClientFixture(ClientOptions options);
  ~ClientFixture();

  /// Runs one request to completion, or until `limit` (then `completed` is false).
  Outcome request(Request request, std::chrono::seconds limit = std::chrono::seconds{10});
  /// Runs `count` requests at once, each to completion.
  std::vector<Outcome> parallel(const std::vector<Request>& requests,
                                std::chrono::seconds limit = std::chrono::seconds{20});
  /// Runs the io_context until `done()` or `limit`; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

  /// The time of the first event `point` of request `request` (any request when 0).
  std::optional<Clock::time_point> at(TracePoint point, std::uint64_t request = 0) const;
  /// All recorded events, in order.
  std::vector<TraceEvent> events() const;
  /// Events of one kind.
  std::vector<TraceEvent> events(TracePoint point) const;

  Client& client() { return *client_; }
  boost::asio::io_context& context() { return context_; }

 private:
  boost::asio::io_context context_;
  mutable std::mutex mutex_;
  std::vector<TraceEvent> events_;
  std::unique_ptr<Client> client_;
};

/// Client TLS options that trust localhost_material()'s certificate (and nothing else).
TlsOptions trusting_localhost();

/// Asserts that `fired - start` is at least `configured` (never early) and at most
/// `configured + timing_tolerance()` (prompt).
void expect_fired_on_time(Clock::time_point start, Clock::time_point fired,
                          std::chrono::nanoseconds configured);

/// Runs `request` and cancels it from the caller's side (a terminal cancellation signal bound
/// to the handler) after `deadline`; `cancelled_at` is when the signal was emitted.
Outcome request_with_deadline(ClientFixture& fixture, Request request,
                              std::chrono::milliseconds deadline, Clock::time_point& cancelled_at);

/// Shorthand for a GET of `url`.
Request get(const std::string& url);

}  // namespace tunedhttp::testing
