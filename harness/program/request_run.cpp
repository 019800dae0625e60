// Carries out a `tunedhttp request` plan (request_run.hpp).
#include "request_run.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tunedhttp/harness/chrome_trace.hpp>
#include <tunedhttp/harness/timeline.hpp>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/units.hpp>
#include <vector>

#include "commands.hpp"
#include "request_report.hpp"

namespace tunedhttp::program {
namespace {

namespace asio = boost::asio;
using std::chrono::nanoseconds;
using Clock = std::chrono::steady_clock;

// A streamed body is read this many bytes at a time (one socket read's worth).
constexpr std::size_t streamed_piece = 64 * 1024;

/// One run: `parallel` workers each sending `count` requests, one after the other, through
/// one client. With one thread (the io_context told so) requests need no strand; with more,
/// each worker runs on a strand of its own and the shared reports take a lock.
class RequestRun {
 public:
  RequestRun(RequestPlan plan, std::string timeline, std::string trace_out)
      : plan_(std::move(plan)),
        timeline_(std::move(timeline)),
        trace_out_(std::move(trace_out)),
        threads_(std::clamp(plan_.threads, 1, plan_.parallel)),
        io_(threads_) {
    const bool record = !timeline_.empty() || !trace_out_.empty();
    const bool verbose = plan_.verbose;
    if (verbose || record) {
      plan_.options.trace = [this, verbose, record](const TraceEvent& event) {
        std::lock_guard lock(output_mutex_);
        if (verbose) log_pool_event(event);
        if (record) recorded_.push_back(event);
      };
    }
    client_.emplace(io_.get_executor(), plan_.options, setup_error_);
  }

  /// Opens -o's file (truncated); false with a message when it cannot be.
  bool open_output() {
    if (plan_.output.empty()) return true;
    output_.reset(std::fopen(plan_.output.c_str(), "wb"));
    if (!output_) {
      std::cerr << "tunedhttp request: -o: cannot write " << quote(plan_.output, 80, '\'') << ": "
                << std::strerror(errno) << "\n";
    }
    return static_cast<bool>(output_);
  }

  /// Why the client's TLS options cannot be used (a --cacert that holds no certificate).
  const boost::system::error_code& setup_error() const { return setup_error_; }

  /// Writes --timeline and --trace-out from what was recorded; false (with a message) on error.
  bool write_pictures(const std::string& title) {
    if (timeline_.empty() && trace_out_.empty()) return true;
    const auto picture =
        harness::timeline_from_trace(title, "tunedhttp request", plan_.options.settings, recorded_);
    const auto write = [](const std::string& path, const std::string& text) {
      std::ofstream out(path);
      out << text;
      if (!out) std::cerr << "tunedhttp request: cannot write '" << path << "'\n";
      return static_cast<bool>(out);
    };
    bool ok = true;
    if (!timeline_.empty()) ok = write(timeline_, harness::render_timeline_svg(picture)) && ok;
    if (!trace_out_.empty()) ok = write(trace_out_, harness::chrome_trace_json({picture})) && ok;
    return ok;
  }

  /// Runs every request; returns the exit code.
  int run() {
    std::atomic<int> remaining = plan_.parallel;
    for (int worker = 1; worker <= plan_.parallel; ++worker) {
      const asio::any_io_executor executor = threads_ == 1
                                                 ? asio::any_io_executor(io_.get_executor())
                                                 : asio::any_io_executor(asio::make_strand(io_));
      asio::co_spawn(executor, run_worker(worker), [this, &remaining](std::exception_ptr failure) {
        if (failure) {
          ++failed_;
          try {
            std::rethrow_exception(failure);
          } catch (const std::exception& e) {
            std::lock_guard lock(output_mutex_);
            std::cerr << "tunedhttp request: " << e.what() << "\n";
          }
        }
        if (--remaining == 0) finish();
      });
    }
    std::vector<std::thread> helpers;
    for (int i = 1; i < threads_; ++i) helpers.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& helper : helpers) helper.join();
    return failed_ == 0 ? 0 : 1;
  }

 private:
  /// Why the pool let a connection go, with -v: the idle settings at work.
  static void log_pool_event(const TraceEvent& event) {
    if (event.point == TracePoint::idle_conn_closed) {
      std::cerr << "* connection " << event.connection << " closed while idle: " << event.detail
                << "\n";
    } else if (event.point == TracePoint::put_idle_conn && !event.detail.empty()) {
      std::cerr << "* connection " << event.connection << " not kept idle: " << event.detail
                << "\n";
    }
  }

  void finish() {
    // Idle connections keep timers; a dial raced by a cancelled request may still be pending.
    client_->close_idle_connections();
    if (plan_.verbose) {
      const auto stats = client_->pool_stats();
      std::cerr << "* pool: " << stats.dials << " dials, " << stats.reuses << " reuses, "
                << stats.retries << " retries";
      for (const auto& [reason, closes] : stats.closes_by_reason) {
        std::cerr << ", " << closes << " closed " << close_reason_name(reason);
      }
      std::cerr << "\n";
    }
    io_.stop();
  }

  asio::awaitable<void> run_worker(int worker) {
    for (int seq = 1; seq <= plan_.count; ++seq) {
      if (seq > 1 && plan_.interval > nanoseconds::zero()) {
        asio::steady_timer pause(co_await asio::this_coro::executor, plan_.interval);
        co_await pause.async_wait(asio::use_awaitable);
      }
      co_await send(worker, seq);
    }
  }

  /// A request in flight, shared with the client's callbacks.
  struct Pending {
    explicit Pending(const asio::any_io_executor& executor) : wake(executor) {}
    asio::steady_timer wake;  ///< --max-time, cancelled by the completion
    // (A cancelled request completes at once: the client closes its connection.)
    asio::cancellation_signal cancel;  ///< ends the request when --max-time expires
    bool done = false;
    bool cancelled = false;  ///< --max-time expired and the request was cancelled
    boost::system::error_code error;
    Response response;
    Clock::time_point finished;
    std::vector<TraceEvent> events;
    std::optional<BodySource> source;  ///< --data @FILE, opened for this request
    BodyReader* body = nullptr;        ///< a streamed body being read: --max-time closes it
    std::uint64_t body_bytes = 0;
  };

  // The body of a streamed response, read a piece at a time into -o's file (or nowhere, with
  // --json): never held whole. Returns the error that ended it before its end, if any.
  asio::awaitable<boost::system::error_code> read_streamed_body(BodyReader& body,
                                                                Pending& pending) {
    std::vector<char> piece(streamed_piece);
    for (;;) {
      auto [error, n] =
          co_await body.async_read_some(asio::buffer(piece), asio::as_tuple(asio::use_awaitable));
      if (error == asio::error::eof) co_return boost::system::error_code{};
      if (error) co_return error;
      pending.body_bytes += n;
      if (output_ && std::fwrite(piece.data(), 1, n, output_.get()) != n) {
        co_return boost::system::error_code(errno, boost::system::system_category());
      }
    }
  }

  // A request whose response is read whole (it is printed).
  asio::awaitable<void> send_whole(Pending& pending, TraceHook hook) {
    auto token =
        asio::bind_cancellation_slot(pending.cancel.slot(), asio::as_tuple(asio::use_awaitable));
    std::tuple<boost::system::error_code, Response> result;
    if (pending.source) {
      result = co_await client_->async_request(plan_.request, std::move(*pending.source),
                                               std::move(hook), token);
    } else {
      result = co_await client_->async_request(plan_.request, std::move(hook), token);
    }
    pending.error = std::get<0>(result);
    pending.response = std::move(std::get<1>(result));
  }

  // A request whose body is streamed (-o, --json): the response's head, then its body.
  asio::awaitable<void> send_streamed(Pending& pending, TraceHook hook) {
    auto token =
        asio::bind_cancellation_slot(pending.cancel.slot(), asio::as_tuple(asio::use_awaitable));
    std::tuple<boost::system::error_code, StreamedResponse> result;
    if (pending.source) {
      result = co_await client_->async_request_stream(plan_.request, std::move(*pending.source),
                                                      std::move(hook), token);
    } else {
      result = co_await client_->async_request_stream(plan_.request, std::move(hook), token);
    }
    pending.error = std::get<0>(result);
    if (!pending.error) {
      auto& streamed = std::get<1>(result);
      pending.response.base() = std::move(streamed.header);
      pending.body = &streamed.body;
      pending.error = co_await read_streamed_body(streamed.body, pending);
      pending.body = nullptr;
    }
  }

  asio::awaitable<void> send(int worker, int seq) {
    // The --max-time timer runs on this worker's executor, beside the worker's own code.
    auto pending = std::make_shared<Pending>(co_await asio::this_coro::executor);
    const auto start = Clock::now();
    if (plan_.max_time > nanoseconds::zero()) {
      // --max-time: per-operation cancellation ends the request and closes its connection.
      pending->wake.expires_at(start + plan_.max_time);
      pending->wake.async_wait([pending](boost::system::error_code error) {
        if (error || pending->done) return;
        pending->cancelled = true;
        pending->cancel.emit(asio::cancellation_type::terminal);
        if (pending->body) pending->body->close();
      });
    }
    // Awaited directly, so this worker resumes inside the completion and asks for its next
    // connection before other completions of the same batch put theirs back: a worker that
    // resumed through a posted wake-up would find the pool over its host cap, closed, and dial.
    // (Named locals, not temporaries in the co_await expression: GCC 12 destroys those wrongly.)
    TraceHook hook = [pending](const TraceEvent& event) { pending->events.push_back(event); };
    if (!plan_.data_file.empty()) {
      // Opened for each request: a file changed meanwhile is sent as it is now.
      boost::system::error_code open_error;
      pending->source = file_body(plan_.data_file, open_error);
      if (open_error) pending->error = open_error;
    }
    if (pending->error) {
      // --data @FILE could not be opened: nothing to send.
    } else if (streams_body()) {
      co_await send_streamed(*pending, std::move(hook));
    } else {
      co_await send_whole(*pending, std::move(hook));
      pending->body_bytes = pending->response.body().size();
    }
    pending->finished = Clock::now();
    pending->done = true;
    pending->wake.cancel();

    RequestRecord record;
    record.worker = worker;
    record.seq = seq;
    add_trace(record, pending->events, start);
    record.elapsed = pending->finished - start;
    if (pending->cancelled && (!pending->done || pending->error)) {
      record.error = "max_time_exceeded";
      record.message = "--max-time " + format_duration(plan_.max_time) +
                       " expired before the whole response was read";
    } else if (pending->error) {
      record.error = error_name(pending->error);
      record.message = pending->error.message();
    } else {
      record.status = pending->response.result_int();
      record.reason = std::string(pending->response.reason());
      record.message = record.reason;
      record.body_bytes = pending->body_bytes;
    }
    if (!record.status) ++failed_;
    report(record, pending->response);
  }

  void report(const RequestRecord& record, const Response& response) {
    std::lock_guard lock(output_mutex_);
    if (plan_.json) {
      std::cout << json_line(record) << std::endl;  // one flushed line per request
    } else if (record.status && !streams_body()) {
      std::cout << response.body() << std::flush;
    } else {
      std::cerr << "tunedhttp request: " << record.error << ": " << record.message << " (after "
                << format_duration(record.elapsed) << ")\n";
    }
    if (plan_.verbose) std::cerr << summary_line(record) << "\n";
  }

  /// The body is not printed, so it is streamed: never held whole.
  bool streams_body() const { return plan_.json || !plan_.output.empty(); }

  struct CloseFile {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };

  RequestPlan plan_;
  std::unique_ptr<std::FILE, CloseFile> output_;  ///< -o's file
  std::string timeline_;
  std::string trace_out_;
  std::vector<TraceEvent> recorded_;
  const int threads_;
  asio::io_context io_;      // its concurrency hint is threads_: with 1, requests need no strand
  std::mutex output_mutex_;  // stdout, stderr and the recorded trace, shared by the workers
  boost::system::error_code setup_error_;
  std::optional<Client> client_;
  std::atomic<int> failed_ = 0;
};

}  // namespace

int run_plan(RequestPlan plan) {
  const std::string cacert = plan.options.tls.ca_file;
  const std::string timeline = plan.timeline;
  const std::string trace_out = plan.trace_out;
  const std::string title = plan.title;
  RequestRun run(std::move(plan), timeline, trace_out);
  if (run.setup_error()) {
    std::cerr << "tunedhttp request: --cacert: " << quote(cacert, 80, '\'')
              << " holds no usable CA certificate: " << run.setup_error().message() << "\n";
    return exit_usage;
  }
  if (!run.open_output()) return exit_usage;
  const int code = run.run();
  if (!run.write_pictures(title)) return 1;
  return code;
}

}  // namespace tunedhttp::program
