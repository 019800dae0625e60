// The scenario runner: one io_context on one thread runs the mock server and the client; the
// calling thread walks the steps, each with a deadline, and checks the expectations.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/verb.hpp>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <tunedhttp/client.hpp>
#include <tunedhttp/harness/runner.hpp>
#include <tunedhttp/mockserver/server.hpp>
#include <tunedhttp/units.hpp>

#include "expectations.hpp"
#include "go_peer_client.hpp"
#include "request_outcome.hpp"
#include "trace_recorder.hpp"

namespace tunedhttp::harness {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::nanoseconds;

// How often the runner re-reads state that has no notification of its own (the server's event
// log and the pool counters) while waiting for it with a deadline. Times are taken from the
// events' own stamps, so this only bounds how quickly a wait notices, not what it measures.
constexpr auto recheck_interval = std::chrono::milliseconds{2};

// How long teardown may take before the runner gives up on a clean shutdown.
constexpr auto teardown_deadline = std::chrono::seconds{2};

nanoseconds scaled(nanoseconds d) {
  return std::chrono::duration_cast<nanoseconds>(d * timing_scale());
}

// One request in flight: its own trace and its completion.
struct RequestRecord {
  std::mutex mutex;
  detail::RequestOutcome outcome;
  std::promise<void> done;
};

std::string configured_text(const ClientSpec& client) {
  std::string text;
  for (const auto& [name, value] : client.configured) {
    text += (text.empty() ? "" : " ") + name + "=" + value;
  }
  return text;
}

detail::RequestOutcome::KeepAlive read_keep_alive(int socket) {
  detail::RequestOutcome::KeepAlive keep_alive;
  int enabled = 0;
  int idle = 0;
  int interval = 0;
  socklen_t size = sizeof(int);
  if (::getsockopt(socket, SOL_SOCKET, SO_KEEPALIVE, &enabled, &size) != 0) return keep_alive;
  size = sizeof(int);
  if (::getsockopt(socket, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &size) != 0) return keep_alive;
  size = sizeof(int);
  if (::getsockopt(socket, IPPROTO_TCP, TCP_KEEPINTVL, &interval, &size) != 0) return keep_alive;
  keep_alive.read = true;
  keep_alive.enabled = enabled != 0;
  keep_alive.idle_seconds = idle;
  keep_alive.interval_seconds = interval;
  return keep_alive;
}

class Run {
 public:
  Run(const Scenario& scenario, const RunOptions& options)
      : scenario_(scenario), options_(options), tolerance_(scenario_tolerance(scenario)) {
    result_.peer = peer_name(options.peer);
    result_.name = scenario.name;
    result_.file = scenario.file;
    result_.group = scenario.group;
    result_.configured = configured_text(scenario.client);
  }

  ScenarioResult execute() {
    const auto began = Clock::now();
    thread_ = std::thread([this] { io_.run(); });
    try {
      if (start()) {
        for (const auto& step : scenario_.steps) {
          if (!run_step(step)) break;
        }
      }
    } catch (const std::exception& e) {
      fail({scenario_.file, 1, 1}, std::string("the runner failed: ") + e.what());
    }
    record_pool_totals();
    // Kept for timelines and trace export; taken before teardown closes what is left.
    result_.client_trace = recorder_->snapshot();
    if (server_) result_.server_events = server_events_once_answered();
    teardown();
    result_.elapsed = Clock::now() - began;
    result_.passed = result_.failures.empty();
    return std::move(result_);
  }

 private:
  void fail(const SourceLocation& where, const std::string& problem) {
    result_.failures.push_back(to_string(where) + ": " + problem);
  }

  Clock::time_point step_deadline() const { return Clock::now() + scaled(scenario_.step_deadline); }

  // True while the server has read a request that it has neither finished answering
  // (response_done) nor lost with its connection (closed, reset, black-holed).
  static bool requests_unanswered(const std::vector<mockserver::Event>& events) {
    using mockserver::EventKind;
    std::set<std::pair<std::uint64_t, std::uint64_t>> open;
    std::set<std::uint64_t> ended_connections;
    for (const auto& event : events) {
      switch (event.kind) {
        case EventKind::request_headers_read:
          open.emplace(event.connection, event.request);
          break;
        case EventKind::response_done:
          open.erase({event.connection, event.request});
          break;
        case EventKind::closed_by_peer:
        case EventKind::closed_by_server:
        case EventKind::reset_sent:
        case EventKind::blackholed:
        case EventKind::body_stalled:     // never answered in full
        case EventKind::reading_stopped:  // never answered
          ended_connections.insert(event.connection);
          break;
        default:
          break;
      }
    }
    return std::any_of(open.begin(), open.end(), [&](const auto& request) {
      return !ended_connections.count(request.first);
    });
  }

  // The server's events for the timeline. The client can hold a whole response before the
  // server's own write completion has logged response_done (both run on the io thread, in the
  // order their completions come), so wait, up to the tolerance, for every request the server
  // read to be answered or its connection gone; a request still held (pending_after) costs
  // that wait once.
  std::vector<mockserver::Event> server_events_once_answered() {
    const auto deadline = Clock::now() + tolerance_;
    auto events = server_->events().snapshot();
    while (requests_unanswered(events) && Clock::now() < deadline) {
      const std::uint64_t last = events.empty() ? 0 : events.back().seq;
      if (server_->events().wait_after(last, deadline).empty()) break;
      events = server_->events().snapshot();
    }
    return events;
  }

  bool start() {
    try {
      mockserver::ServerOptions options;
      options.tls = scenario_.server.tls;
      options.proxy = scenario_.server.proxy;
      options.listen_addresses = scenario_.server.listen;
      options.faults = scenario_.server.faults;
      options.routes = scenario_.server.routes;
      server_ = std::make_unique<mockserver::Server>(io_.get_executor(), options);
      server_->start();

      ClientOptions client_options;
      client_options.settings = scenario_.client.settings;
      client_options.resolve = scenario_.client.resolve;
      // A scenario says everything its client does: no proxy from the environment; with a
      // proxy server, its client goes through the server (plain: a TLS one also takes plain
      // proxy requests) to the server.
      client_options.proxy.source = ProxyOptions::Source::none;
      std::string proxy_url;
      if (scenario_.server.proxy) {
        proxy_url = "http://" + server_->authority();
        client_options.proxy.source = ProxyOptions::Source::url;
        client_options.proxy.url = proxy_url;
      }
      client_options.tls.ca_pem = server_->ca_pem();
      client_options.trace = [recorder = recorder_](const TraceEvent& event) {
        recorder->record(event);
      };
      if (options_.peer == Peer::go) {
        const auto program = detail::GoPeerClient::find_program(options_.go_peer_program);
        if (program.empty()) {
          throw std::runtime_error(
              "no Go peer: build it (cmake --build build --target tunedhttp_go_peer) or name it "
              "with --go-peer");
        }
        go_ = std::make_unique<detail::GoPeerClient>(
            program, scenario_.client, server_->ca_pem(), server_->port(), proxy_url,
            [this](int id, std::size_t index, detail::RequestOutcome outcome) {
              deliver_go_result(id, index, std::move(outcome));
            });
        return true;
      }
      client_ = std::make_unique<Client>(io_.get_executor(), std::move(client_options));
      return true;
    } catch (const std::exception& e) {
      fail({scenario_.file, 1, 1},
           std::string("cannot start the mock server and client: ") + e.what());
      return false;
    }
  }

  // Returns false when the scenario cannot go on (a step did not complete).
  bool run_step(const Step& step) {
    return std::visit([&](const auto& kind) { return this->run(kind, step.where); }, step.kind);
  }

  bool run(const RequestStep& request, const SourceLocation& where) {
    const auto step_start = Clock::now();
    const auto records = go_ ? send_with_go(request) : send_with_ours(request);

    const auto history_end = Clock::now();
    if (request.expect.pending_after) {
      // A limit that does not fire in the scenario's time: check it has not, and move on.
      const auto until = records.front()->outcome.started + *request.expect.pending_after;
      if (go_) {
        go_->pump_until(until, [] { return false; });
      } else {
        std::this_thread::sleep_until(until);
      }
      // Go reports a request's socket options with its result: none while it is pending.
      RequestExpectation expect = request.expect;
      if (go_) expect.keep_alive.reset();
      for (std::size_t i = 0; i < records.size(); ++i) {
        std::lock_guard lock(records[i]->mutex);
        for (const auto& problem : detail::check_outcome(expect, records[i]->outcome)) {
          fail(where, problem);
        }
      }
      return true;
    }
    const auto deadline = step_deadline();
    if (go_) {
      go_->pump_until(deadline, [&] {
        return std::all_of(records.begin(), records.end(), [](const auto& record) {
          std::lock_guard lock(record->mutex);
          return record->outcome.completed;
        });
      });
    }
    bool all_completed = true;
    std::vector<detail::RequestOutcome> outcomes;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (records[i]->done.get_future().wait_until(deadline) != std::future_status::ready) {
        fail(where, "request " + std::to_string(i + 1) + " of " + std::to_string(records.size()) +
                        ": got no completion within " +
                        format_duration(scaled(scenario_.step_deadline)) +
                        "; want the request to end (the runner gives up on this scenario)");
        all_completed = false;
        continue;
      }
      std::lock_guard lock(records[i]->mutex);
      outcomes.push_back(records[i]->outcome);
      if (result_.first_error.empty()) result_.first_error = records[i]->outcome.error_name;
    }
    if (!all_completed) return false;

    // Timers are measured only on requests that ended as expected: a request that succeeded
    // where a timeout was expected has no firing time to report.
    std::vector<detail::RequestOutcome> as_expected;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      const std::string prefix =
          outcomes.size() == 1 ? "" : "request " + std::to_string(i + 1) + ": ";
      const auto problems = detail::check_outcome(request.expect, outcomes[i]);
      for (const auto& problem : problems) fail(where, prefix + problem);
      const bool ended_as_expected =
          request.expect.error ? outcomes[i].error_name == *request.expect.error
                               : !outcomes[i].error && outcomes[i].status == *request.expect.status;
      if (ended_as_expected) as_expected.push_back(outcomes[i]);
      if (request.expect.connection && !go_) {  // Go does not show which idle one it took
        auto history = recorder_->snapshot();
        history.erase(std::remove_if(history.begin(), history.end(),
                                     [&](const TraceEvent& e) { return e.at > history_end; }),
                      history.end());
        for (const auto& problem :
             detail::check_connection_choice(*request.expect.connection, outcomes[i], history)) {
          fail(where, prefix + problem);
        }
      }
    }
    if (request.expect.fires_after) measure(request.expect, as_expected, step_start, where);
    return true;
  }

  using Records = std::vector<std::shared_ptr<RequestRecord>>;

  Records send_with_ours(const RequestStep& request) {
    Records records;
    for (unsigned i = 0; i < request.parallel; ++i) {
      auto record = std::make_shared<RequestRecord>();
      Request message = make_request(boost::beast::http::string_to_verb(request.method),
                                     url_for(request), std::string(request.body_size, 'x'));
      for (const auto& [name, value] : request.headers) message.set(name, value);
      record->outcome.started = Clock::now();
      TraceHook hook = [record](const TraceEvent& event) {
        std::lock_guard lock(record->mutex);
        record->outcome.trace.push_back(event);
        // The socket is only valid during the call: read its keep-alive options now.
        if (event.point == TracePoint::got_conn && event.socket >= 0) {
          record->outcome.keep_alive = read_keep_alive(event.socket);
        }
      };
      asio::post(io_, [client = client_.get(), record, hook = std::move(hook),
                       message = std::move(message)]() mutable {
        client->async_request(std::move(message), std::move(hook),
                              [record](boost::system::error_code error, Response response) {
                                const auto now = Clock::now();
                                std::lock_guard lock(record->mutex);
                                if (record->outcome.completed) return;
                                record->outcome.completed = true;
                                record->outcome.completed_at = now;
                                record->outcome.error = error;
                                record->outcome.error_name = error_name(error);
                                record->outcome.error_message = error ? error.message() : "";
                                record->outcome.status = response.result_int();
                                record->done.set_value();
                              });
      });
      records.push_back(std::move(record));
    }
    return records;
  }

  Records send_with_go(const RequestStep& request) {
    const int id = next_step_id_++;
    Records records;
    std::vector<detail::GoRequest> requests;
    for (unsigned i = 0; i < request.parallel; ++i) {
      auto record = std::make_shared<RequestRecord>();
      record->outcome.started = Clock::now();
      records.push_back(record);
      requests.push_back({request.method, url_for(request), request.headers, request.body_size});
    }
    go_records_[id] = records;
    go_->start(id, requests);
    return records;
  }

  // A Go result: the request's outcome, and its events in the client trace (for timelines).
  void deliver_go_result(int id, std::size_t index, detail::RequestOutcome outcome) {
    const auto found = go_records_.find(id);
    if (found == go_records_.end() || index >= found->second.size()) return;
    for (const auto& event : outcome.trace) recorder_->record(event);
    auto& record = found->second[index];
    std::lock_guard lock(record->mutex);
    if (record->outcome.completed) return;
    record->outcome = std::move(outcome);
    record->done.set_value();
  }

  // The client's dials and reuses, for reports and comparisons.
  void record_pool_totals() {
    if (go_) {
      if (auto pool = go_->pool(Clock::now() + std::chrono::seconds{2})) {
        result_.dials = pool->first;
        result_.reuses = pool->second;
      }
    } else if (client_) {
      const auto stats = client_->pool_stats();
      result_.dials = stats.dials;
      result_.reuses = stats.reuses;
    }
  }

  // The server's URL for the step: its first address, or the host name the step names
  // (localhost, or a name of client.resolve), on the server's port.
  std::string url_for(const RequestStep& request) const {
    std::string host = request.host;
    if (host.empty()) {
      host = scenario_.server.listen.empty() ? "127.0.0.1" : scenario_.server.listen.front();
      if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
    }
    return std::string(scenario_.server.tls ? "https://" : "http://") + host + ":" +
           std::to_string(server_->port()) + request.path;
  }

  // The firing time of the request's timer, measured from the trace point that starts it.
  void measure(const RequestExpectation& expect,
               const std::vector<detail::RequestOutcome>& outcomes, Clock::time_point step_start,
               const SourceLocation& where) {
    const SettingRow& row = setting_row(*expect.timer);
    const nanoseconds configured = *expect.fires_after;
    // Timers that end somewhere other than the request's completion are measured their own way.
    switch (row.id) {
      case SettingId::expect_continue:
        measure_expect_continue(configured, outcomes, step_start, where);
        return;
      case SettingId::conn_keep_alive:
        measure_dead_peer(configured, outcomes, step_start, where);
        return;
      case SettingId::dual_stack_fallback_delay:
        measure_fallback(configured, outcomes, where);
        return;
      default:
        break;
    }
    // The others: from the row's starting trace point to the request's failure.
    for (const auto& outcome : outcomes) {
      const TraceEvent* start = row.starts ? outcome.find(*row.starts) : nullptr;
      if (start == nullptr) {
        fail(where, "got no trace point " +
                        std::string(row.starts ? trace_point_name(*row.starts) : "") +
                        " to measure " + std::string(row.name) + " from; want it");
        continue;
      }
      record_timing(
          detail::judge_timing(row.id, configured, outcome.completed_at - start->at, tolerance_),
          where, start->at, start->connection);
    }
  }

  // expect_continue: from the client's wait_100_continue (or wrote_headers when the client did
  // not wait) to the server's first body byte. Requests and body starts are paired in time order.
  void measure_expect_continue(nanoseconds configured,
                               const std::vector<detail::RequestOutcome>& outcomes,
                               Clock::time_point step_start, const SourceLocation& where) {
    std::vector<std::pair<Clock::time_point, std::uint64_t>> starts;  // (time, connection)
    for (const auto& outcome : outcomes) {
      const TraceEvent* start = outcome.find(TracePoint::wait_100_continue);
      if (start == nullptr) start = outcome.find(TracePoint::wrote_headers);
      if (start == nullptr) {
        fail(where,
             "got no trace point wait_100_continue or wrote_headers to measure "
             "expect_continue from; want one");
        continue;
      }
      starts.emplace_back(start->at, start->connection);
    }
    std::sort(starts.begin(), starts.end());
    std::vector<Clock::time_point> bodies;
    for (const auto& event : server_->events().snapshot()) {
      if (event.kind == mockserver::EventKind::body_first_byte && event.at >= step_start) {
        bodies.push_back(event.at);
      }
    }
    std::sort(bodies.begin(), bodies.end());
    std::size_t next = 0;
    for (const auto& [start, connection] : starts) {
      while (next < bodies.size() && bodies[next] < start) ++next;
      if (next == bodies.size()) {
        fail(where,
             "server got no request body after the client's wait_100_continue; want the "
             "body at expect_continue");
        continue;
      }
      record_timing(detail::judge_timing(SettingId::expect_continue, configured,
                                         bodies[next++] - start, tolerance_),
                    where, start, connection);
    }
  }

  // conn_keep_alive on a request: from the moment the server's side went dark (its `blackholed`
  // event; the client's kernel heard from it last just before) to the request's failure.
  void measure_dead_peer(nanoseconds configured,
                         const std::vector<detail::RequestOutcome>& outcomes,
                         Clock::time_point step_start, const SourceLocation& where) {
    std::optional<Clock::time_point> dark;
    for (const auto& event : server_->events().snapshot()) {
      if (event.kind == mockserver::EventKind::blackholed && event.at >= step_start) {
        dark = event.at;
        break;
      }
    }
    if (!dark) {
      fail(where,
           "the server logged no blackholed event; want the peer to go dark to measure "
           "conn_keep_alive from");
      return;
    }
    for (const auto& outcome : outcomes) {
      record_timing(detail::judge_timing(SettingId::conn_keep_alive, configured,
                                         outcome.completed_at - *dark, tolerance_),
                    where, *dark, 0);
    }
  }

  // dual_stack_fallback_delay: from dial_start to the first attempt of the other family.
  void measure_fallback(nanoseconds configured, const std::vector<detail::RequestOutcome>& outcomes,
                        const SourceLocation& where) {
    for (const auto& outcome : outcomes) {
      const TraceEvent* start = outcome.find(TracePoint::dial_start);
      const TraceEvent* first = outcome.find(TracePoint::connect_start);
      const TraceEvent* fallback = nullptr;
      for (const auto& event : outcome.trace) {
        if (first && event.point == TracePoint::connect_start &&
            event.detail.substr(0, 4) != first->detail.substr(0, 4)) {
          fallback = &event;
          break;
        }
      }
      if (start == nullptr || fallback == nullptr) {
        fail(where,
             "got no connect attempt of the other address family; want one at "
             "dual_stack_fallback_delay");
        continue;
      }
      record_timing(detail::judge_timing(SettingId::dual_stack_fallback_delay, configured,
                                         fallback->at - start->at, tolerance_),
                    where, start->at, start->connection);
    }
  }

  void record_timing(TimingMeasurement measurement, const SourceLocation& where,
                     Clock::time_point started, std::uint64_t connection) {
    if (!measurement.passed) fail(where, detail::describe_timing_failure(measurement));
    measurement.started = started;
    measurement.connection = connection;
    result_.timings.push_back(measurement);
  }

  bool run(const CloseIdleStep&, const SourceLocation& where) {
    if (!go_) {
      client_->close_idle_connections();
    } else if (!go_->close_idle(Clock::now() + std::chrono::seconds{2})) {
      fail(where, "the Go peer did not confirm close_idle within 2 s");
      return false;
    }
    return true;
  }

  bool run(const WaitStep& wait, const SourceLocation&) {
    std::this_thread::sleep_for(wait.duration);
    return true;
  }

  bool run(const PoolExpectation& expect, const SourceLocation& where) {
    if (go_) return run_pool_with_go(expect, where);
    // Pool counters change on the client's strand just around a completion; wait for them to
    // agree, up to the tolerance, then report what they are.
    const auto deadline = Clock::now() + tolerance_;
    std::vector<std::string> failures;
    for (;;) {
      failures = detail::check_pool(expect, client_->pool_stats());
      if (failures.empty() || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(recheck_interval);
    }
    for (const auto& problem : failures) fail(where, problem);
    return true;
  }

  // Go shows dials and reuses only; the other counters are not checked for it.
  bool run_pool_with_go(const PoolExpectation& expect, const SourceLocation& where) {
    PoolExpectation visible;
    visible.dials = expect.dials;
    visible.reuses = expect.reuses;
    const auto deadline = Clock::now() + tolerance_;
    std::vector<std::string> failures;
    for (;;) {
      PoolStats stats;
      if (auto pool = go_->pool(Clock::now() + std::chrono::seconds{2})) {
        stats.dials = pool->first;
        stats.reuses = pool->second;
      }
      failures = detail::check_pool(visible, stats);
      if (failures.empty() || Clock::now() >= deadline) break;
      go_->pump_until(Clock::now() + recheck_interval, [] { return false; });
    }
    for (const auto& problem : failures) fail(where, problem);
    return true;
  }

  bool run(const ServerEventsStep& expect, const SourceLocation& where) {
    // The expectation spans several events, which EventLog's single-event waits cannot express:
    // re-read the log until the expected events are there or the deadline passes.
    const auto deadline = step_deadline();
    auto events = server_->events().snapshot();
    while (!detail::server_events_present(expect, events) && Clock::now() < deadline) {
      std::this_thread::sleep_for(recheck_interval);
      events = server_->events().snapshot();
    }
    for (const auto& problem : detail::check_server_events(expect, events)) fail(where, problem);
    return true;
  }

  // idle_conn: from the client's put_idle_conn to the server seeing the client's FIN.
  bool run(const TimerStep& step, const SourceLocation& where) {
    const auto trace = recorder_->snapshot();
    std::optional<std::uint64_t> connection = step.connection;
    const TraceEvent* put = nullptr;
    for (const auto& event : trace) {
      if (event.point != TracePoint::put_idle_conn || event.error) continue;
      if (connection && event.connection != *connection) continue;
      put = &event;
    }
    if (put == nullptr) {
      fail(where, "got no put_idle_conn" +
                      (connection ? " for connection " + std::to_string(*connection) : "") +
                      "; want a connection put back idle before expect_timer");
      return true;
    }
    const std::uint64_t client_connection = put->connection;
    const auto idle_since = put->at;
    if (go_ && step.timer == SettingId::conn_keep_alive) {
      // Go does not show a pooled connection closing by itself: let the same time pass, so the
      // steps after this one find the pool as ours would.
      go_->pump_until(idle_since + step.fires_after + tolerance_, [] { return false; });
      return true;
    }
    if (go_) return measure_idle_close_by_server(step, where, idle_since, client_connection);
    // Wait past the tolerance, up to the step deadline, so a late close is measured (and
    // reported with its lateness) rather than only called missing.
    const auto deadline = step_deadline();
    TraceEvent closed;
    const bool client_closed = recorder_->wait_for(
        [&](const std::vector<TraceEvent>& events) -> const TraceEvent* {
          for (const auto& event : events) {
            if (event.point == TracePoint::idle_conn_closed &&
                event.connection == client_connection && event.at >= idle_since) {
              return &event;
            }
          }
          return nullptr;
        },
        deadline, closed);
    if (!client_closed) {
      fail(where, "got no idle_conn_closed for connection " + std::to_string(client_connection) +
                      " within " + format_duration(deadline - idle_since) +
                      " of put_idle_conn; want the client to close it at " +
                      format_duration(step.fires_after));
      return true;
    }
    const auto want_reason =
        close_reason_name(step.timer == SettingId::conn_keep_alive ? CloseReason::dead_peer
                                                                   : CloseReason::idle_timeout);
    if (closed.detail != want_reason) {
      fail(where, "idle_conn_closed for connection " + std::to_string(client_connection) +
                      ": got reason '" + closed.detail + "'; want '" + want_reason + "'");
    }
    if (step.timer == SettingId::conn_keep_alive) {
      // The peer is dark: nothing reaches the server. The client's own close is the firing.
      record_timing(detail::judge_timing(SettingId::conn_keep_alive, step.fires_after,
                                         closed.at - idle_since, tolerance_),
                    where, idle_since, client_connection);
      return true;
    }
    // The server sees the FIN just after the client closes; pair it by time.
    const auto server_deadline = Clock::now() + scaled(std::chrono::seconds{1});
    std::optional<Clock::time_point> server_saw;
    if (auto event = server_->events().wait_until(
            [&](const mockserver::Event& e) {
              return e.kind == mockserver::EventKind::closed_by_peer && e.at >= closed.at;
            },
            server_deadline)) {
      server_saw = event->at;
    }
    if (!server_saw) {
      fail(where, "the client closed connection " + std::to_string(client_connection) +
                      " but the server logged no closed_by_peer; want the client's FIN to arrive");
      return true;
    }
    record_timing(detail::judge_timing(SettingId::idle_conn, step.fires_after,
                                       *server_saw - idle_since, tolerance_),
                  where, idle_since, client_connection);
    return true;
  }

  // idle_conn with Go: from its put_idle_conn to the server seeing the FIN (its own close of an
  // idle connection is not shown).
  bool measure_idle_close_by_server(const TimerStep& step, const SourceLocation& where,
                                    Clock::time_point idle_since, std::uint64_t connection) {
    const auto server_deadline = step_deadline();
    auto event = server_->events().wait_until(
        [&](const mockserver::Event& e) {
          return e.kind == mockserver::EventKind::closed_by_peer && e.at >= idle_since;
        },
        server_deadline);
    if (!event) {
      fail(where,
           "the server logged no closed_by_peer after put_idle_conn; want the client to "
           "close the idle connection at " +
               format_duration(step.fires_after));
      return true;
    }
    record_timing(detail::judge_timing(SettingId::idle_conn, step.fires_after,
                                       event->at - idle_since, tolerance_),
                  where, idle_since, connection);
    return true;
  }

  void teardown() {
    go_.reset();  // closes its stdin: the Go peer exits
    // Client and server are shut down on the io thread, where their handlers run.
    if (client_ || server_) {
      // The promise is shared: when the wait below gives up, the posted work may still run
      // (until io_ stops) and must not reach a promise that has gone out of scope.
      auto done = std::make_shared<std::promise<void>>();
      auto finished = done->get_future();
      asio::post(io_, [this, done] {
        client_.reset();
        if (server_) server_->stop();
        done->set_value();
      });
      if (finished.wait_for(teardown_deadline) != std::future_status::ready) {
        fail({scenario_.file, 1, 1}, "client and server did not shut down within 2s");
      }
    }
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    client_.reset();
    server_.reset();
  }

  const Scenario& scenario_;
  const RunOptions& options_;
  const nanoseconds tolerance_;
  ScenarioResult result_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::thread thread_;
  std::shared_ptr<detail::TraceRecorder> recorder_ = std::make_shared<detail::TraceRecorder>();
  std::unique_ptr<mockserver::Server> server_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<detail::GoPeerClient> go_;
  int next_step_id_ = 1;
  std::map<int, Records> go_records_;  ///< Go's requests by step id
};

}  // namespace

std::chrono::nanoseconds scenario_tolerance(const Scenario& scenario) {
  if (scenario.tolerance) return scaled(*scenario.tolerance);
  return timing_tolerance();
}

const char* peer_name(Peer peer) { return peer == Peer::go ? "go" : "tunedhttp"; }

std::string find_go_peer(const std::string& hint) {
  return detail::GoPeerClient::find_program(hint);
}

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  try {
    return Run(scenario, options).execute();
  } catch (const std::exception& e) {
    ScenarioResult result;
    result.name = scenario.name;
    result.file = scenario.file;
    result.group = scenario.group;
    result.failures.push_back(scenario.file + ": the runner failed: " + e.what());
    return result;
  }
}

}  // namespace tunedhttp::harness
