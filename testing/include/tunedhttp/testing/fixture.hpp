#pragma once
// A GoogleTest fixture for pinning an HTTP client's timeouts against an in-process mock server
// with faults, the way tunedhttp's own scenarios do.
//
//   class MyClientTest : public tunedhttp::testing::MockServerTest {};
//
//   TEST_F(MyClientTest, response_header_fires_after_200ms) {
//     start_server({"hold-headers=2s"});         // fault SPECs, as `tunedhttp serve --fault`
//     tunedhttp::Settings settings;
//     settings.response_header = std::chrono::milliseconds{200};
//     use_client(settings);
//     EXPECT_FAILS_WITH_TIMEOUT(get("/invoke"), tunedhttp::errc::response_header_timeout,
//                               std::chrono::milliseconds{200});
//   }
//
// Timing rule (as in the scenarios): a timeout must never fire before its configured time,
// measured from the trace point its setting governs (`dial_start` for connect_timeout,
// `tls_handshake_start` for tls_handshake_timeout, `wrote_request` for
// response_header_timeout), and must fire at most tunedhttp::timing_tolerance() after it
// (100 ms, scaled by TUNEDHTTP_TIMING_SCALE on slow machines).

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tunedhttp/client.hpp>
#include <tunedhttp/mockserver/server.hpp>
#include <tunedhttp/settings_table.hpp>
#include <tunedhttp/units.hpp>
#include <utility>
#include <vector>

namespace tunedhttp::testing {

/// How one request ended, with the trace events recorded while it ran.
struct RequestOutcome {
  boost::system::error_code error;
  Response response;
  std::chrono::steady_clock::time_point started{};   ///< just before async_request.
  std::chrono::steady_clock::time_point finished{};  ///< when the completion handler ran.
  std::vector<TraceEvent> trace;                     ///< this request's events, in order.
  bool completed = false;  ///< false: the fixture's own deadline passed first (a hang).

  /// The time of the first event `point`, if it happened.
  std::optional<std::chrono::steady_clock::time_point> at(TracePoint point) const {
    for (const auto& event : trace) {
      if (event.point == point) return event.at;
    }
    return std::nullopt;
  }
};

/// The trace point whose time starts the timer that ends in `error` (the settings table's row
/// for that timeout: `dial_start` for connect_timeout, `tls_handshake_start` for
/// tls_handshake_timeout, `wrote_request` for response_header_timeout). nullopt for errors that
/// are not timeouts of a setting.
inline std::optional<TracePoint> governing_trace_point(errc error) {
  const SettingRow* row = setting_of_timeout(error);
  if (row == nullptr) return std::nullopt;
  return row->starts;
}

/// Whether `outcome` failed with `error` no earlier than `configured` after its governing trace
/// point and no later than `configured + timing_tolerance()`. Messages read "got X; want Y".
inline ::testing::AssertionResult fails_with_timeout(const RequestOutcome& outcome, errc error,
                                                     std::chrono::nanoseconds configured) {
  using std::chrono::nanoseconds;
  const std::string want = error_name(make_error_code(error));
  if (!outcome.completed) {
    return ::testing::AssertionFailure() << "got no completion (the request hung); want " << want;
  }
  if (outcome.error != make_error_code(error)) {
    const std::string got = outcome.error
                                ? error_name(outcome.error) + " (" + outcome.error.message() + ")"
                                : "status " + std::to_string(outcome.response.result_int());
    return ::testing::AssertionFailure() << "got " << got << "; want " << want;
  }
  const auto point = governing_trace_point(error);
  if (!point) {
    return ::testing::AssertionFailure() << want << " is not the timeout of a setting";
  }
  const auto start = outcome.at(*point);
  if (!start) {
    return ::testing::AssertionFailure() << "got no " << trace_point_name(*point)
                                         << " trace point; want " << want << " measured from it";
  }
  const nanoseconds fired = outcome.finished - *start;
  if (auto problem = timing_problem(configured, fired); !problem.empty()) {
    return ::testing::AssertionFailure()
           << "got " << want << " from " << trace_point_name(*point) << ": " << problem;
  }
  return ::testing::AssertionSuccess()
         << want << " after " << format_duration(fired) << " (late by "
         << format_duration(fired - configured) << ")";
}

/// Whether `outcome` got a response with a 2xx status (the twin of a timeout test: the fault
/// stays inside the limit and the request succeeds).
inline ::testing::AssertionResult succeeds(const RequestOutcome& outcome) {
  if (!outcome.completed) {
    return ::testing::AssertionFailure() << "got no completion (the request hung); want 2xx";
  }
  if (outcome.error) {
    return ::testing::AssertionFailure() << "got " << error_name(outcome.error) << " ("
                                         << outcome.error.message() << "); want 2xx";
  }
  if (outcome.response.result_int() < 200 || outcome.response.result_int() > 299) {
    return ::testing::AssertionFailure()
           << "got status " << outcome.response.result_int() << "; want 2xx";
  }
  return ::testing::AssertionSuccess();
}

/// A fixture owning an io_context run by its own thread, a mock server on it (start_server)
/// and a client on it (use_client). Everything is stopped and joined in TearDown, client first.
class MockServerTest : public ::testing::Test {
 protected:
  /// How long perform() waits for a request before reporting a hang.
  static constexpr std::chrono::seconds request_deadline{30};

  MockServerTest() : thread_([this] { context_.run(); }) {}
  ~MockServerTest() override { shutdown(); }

  void TearDown() override { shutdown(); }

  /// Starts the mock server with these options (port 0: ephemeral, 127.0.0.1): routes, fault
  /// targets (the n-th connection or request, a path), TLS.
  void start_server_with(mockserver::ServerOptions options) {
    server_ = std::make_unique<mockserver::Server>(context_.get_executor(), std::move(options));
    server_->start();
  }

  /// Starts the mock server with these fault SPECs (`hold-headers=2s`, `stall-accept`, ...).
  void start_server(const std::vector<std::string>& fault_specs, bool tls = false) {
    mockserver::ServerOptions options;
    options.tls = tls;
    for (const auto& spec : fault_specs)
      options.faults.push_back(mockserver::parse_fault_spec(spec));
    start_server_with(std::move(options));
  }

  /// The running server (after start_server).
  mockserver::Server& server() { return *server_; }

  /// The server's URL for `path` ("/" by default).
  std::string url(const std::string& path = "/") const {
    std::string base = server_->base_url();  // ends with '/'
    return base + (path.starts_with('/') ? path.substr(1) : path);
  }

  /// Makes the client the assertions use, on the fixture's io_context. With a TLS server, the
  /// client trusts the server's CA.
  void use_client(ClientOptions options) {
    if (server_ && options.tls.ca_pem.empty() && options.tls.ca_file.empty()) {
      options.tls.ca_pem = server_->ca_pem();
    }
    client_ = std::make_unique<Client>(context_.get_executor(), std::move(options));
  }
  void use_client(Settings settings) {
    ClientOptions options;
    options.settings = settings;
    use_client(std::move(options));
  }

  /// The client made by use_client (one with default settings if none was made).
  Client& client() {
    if (!client_) use_client(Settings{});
    return *client_;
  }

  /// The io_context's executor, to make more clients or servers on the fixture's thread.
  boost::asio::any_io_executor executor() { return context_.get_executor(); }

  /// A GET of `path` on the mock server.
  Request get(const std::string& path = "/") const {
    return make_request(boost::beast::http::verb::get, url(path));
  }

  /// Runs `request` on client() and waits for it (at most request_deadline).
  RequestOutcome perform(Request request) { return perform(client(), std::move(request)); }

  /// Runs `request` on `client` (which must run on executor()) and waits for it.
  RequestOutcome perform(Client& client, Request request) {
    auto outcome = std::make_shared<RequestOutcome>();
    auto mutex = std::make_shared<std::mutex>();
    std::promise<void> done;
    auto finished = done.get_future();
    outcome->started = std::chrono::steady_clock::now();
    client.async_request(
        std::move(request),
        [outcome, mutex](const TraceEvent& event) {
          std::lock_guard lock(*mutex);
          outcome->trace.push_back(event);
        },
        [outcome, mutex, done = std::move(done)](boost::system::error_code ec,
                                                 Response response) mutable {
          {
            std::lock_guard lock(*mutex);
            outcome->finished = std::chrono::steady_clock::now();
            outcome->error = ec;
            outcome->response = std::move(response);
            outcome->completed = true;
          }
          done.set_value();
        });
    if (finished.wait_for(request_deadline) != std::future_status::ready) {
      std::lock_guard lock(*mutex);
      RequestOutcome hung = *outcome;
      hung.completed = false;
      return hung;
    }
    std::lock_guard lock(*mutex);
    return std::move(*outcome);
  }

 private:
  /// Destroys the client, then the server, then stops and joins the thread. Idempotent.
  void shutdown() {
    client_.reset();
    if (server_) server_->stop();
    server_.reset();
    work_.reset();
    // Faults may hold timers for seconds (hold-headers=5s); nothing more is needed from them.
    context_.stop();
    if (thread_.joinable()) thread_.join();
  }

  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      context_.get_executor()};
  std::thread thread_;
  std::unique_ptr<mockserver::Server> server_;
  std::unique_ptr<Client> client_;
};

}  // namespace tunedhttp::testing

/// Runs `request` on the fixture's client and expects it to fail with `error` (a tunedhttp::errc
/// timeout) `after` its governing trace point: never early, at most timing_tolerance() late.
#define EXPECT_FAILS_WITH_TIMEOUT(request, error, after) \
  EXPECT_TRUE(::tunedhttp::testing::fails_with_timeout(this->perform(request), error, after))
/// As EXPECT_FAILS_WITH_TIMEOUT, but stops the test on failure.
#define ASSERT_FAILS_WITH_TIMEOUT(request, error, after) \
  ASSERT_TRUE(::tunedhttp::testing::fails_with_timeout(this->perform(request), error, after))
/// Runs `request` on the fixture's client and expects a 2xx response.
#define EXPECT_SUCCEEDS(request) EXPECT_TRUE(::tunedhttp::testing::succeeds(this->perform(request)))
/// As EXPECT_SUCCEEDS, but stops the test on failure.
#define ASSERT_SUCCEEDS(request) ASSERT_TRUE(::tunedhttp::testing::succeeds(this->perform(request)))
