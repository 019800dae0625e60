// `tunedhttp request`: curl-like, with the tuned client (DESIGN §4).
//
// Sends URL --count times in each of --parallel workers, all through one Client, so connection
// reuse and the idle caps show. Without --json: each response body on stdout, errors (and with
// -v a summary per request) on stderr. With --json: one JSON object per request per line on
// stdout (request_report.hpp). Exit 0 when every request got a response (whatever its status),
// 1 when any failed, 2 on a usage error (a one-line message naming the bad value).
//
// Extensions to the DESIGN §4 contract: --max-time D (a deadline for each whole request, like
// curl's; it cancels the request, which closes its connection),
// --interval D (a pause between the requests of a worker, to let idle timers run), -v.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <tunedhttp/client.hpp>
#include <tunedhttp/harness/chrome_trace.hpp>
#include <tunedhttp/harness/scenario.hpp>
#include <tunedhttp/harness/timeline.hpp>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/units.hpp>
#include <vector>

#include "commands.hpp"
#include "request_report.hpp"

namespace tunedhttp::program {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using std::chrono::nanoseconds;
using Clock = std::chrono::steady_clock;

/// Defensive limits: more workers than this would run out of descriptors before telling
/// anything about the settings (the scenario loader's cap on `parallel` is the same); more
/// requests than this per worker is a benchmark's job.
constexpr int max_parallel = static_cast<int>(harness::max_parallel_requests);
constexpr int max_count = 1'000'000;
/// The idle caps are counts of connections: anything larger is a typo, not a setting.
constexpr int max_idle_cap = 1'000'000;

/// A default for the help text in Go syntax, whole seconds as such ("90s", "0s", "1s").
std::string default_text(nanoseconds d) {
  if (d % std::chrono::seconds{1} == nanoseconds::zero()) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
  }
  return format_duration(d);
}

/// The flags as typed (durations still text, checked by `duration_check` during parsing).
struct RequestFlags {
  std::string url;
  std::string method;  // empty: GET, or POST when --data is given (as curl does)
  std::string data;
  bool has_data = false;
  std::vector<std::string> headers;
  std::string connect = default_text(Settings{}.connect);
  std::string keep_alive = default_text(Settings{}.conn_keep_alive);
  std::string tls_handshake = default_text(Settings{}.tls_handshake);
  std::string expect_continue = default_text(Settings{}.expect_continue);
  std::string response_header = default_text(Settings{}.response_header);
  std::string idle_conn = default_text(Settings{}.idle_conn);
  std::string max_idle_conns = std::to_string(Settings{}.max_all_idle_conns);
  std::string max_host_idle_conns = std::to_string(Settings{}.max_host_idle_conns);
  std::string dual_stack_fallback_delay = "0s";
  std::string keep_alive_idle;  // any of the three: Go 1.23's KeepAliveConfig
  std::string keep_alive_interval;
  std::string keep_alive_count;
  std::vector<std::string> resolve;  // HOST:PORT:ADDR[,ADDR...]
  std::string cacert;
  bool insecure = false;
  std::string count = "1";
  std::string parallel = "1";
  bool json = false;
  bool verbose = false;
  std::string max_time = "0s";
  std::string interval = "0s";
  std::string timeline;   // SVG file of the whole run's trace
  std::string trace_out;  // Chrome Trace Event JSON file
};

/// User text in a message: quoted, control characters escaped, cut after 80 characters.
std::string in_quotes(const std::string& text) { return quote(text, 80, '\''); }

nanoseconds duration_of(const std::string& text) { return parse_duration(text).value(); }

/// A whole number in [minimum, maximum] as typed, or nullopt ("1e3", "10x", "" are not).
std::optional<int> whole_number(const std::string& text, int minimum, int maximum) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  long long value = 0;
  std::size_t digits = 0;
  std::size_t i = text[0] == '-' ? 1 : 0;
  for (; i < text.size(); ++i, ++digits) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  if (digits == 0) return std::nullopt;
  if (text[0] == '-') value = -value;
  if (value < minimum || value > maximum) return std::nullopt;
  return static_cast<int>(value);
}

CLI::Validator whole_number_check(int minimum, int maximum) {
  return CLI::Validator(
      [minimum, maximum](std::string& text) -> std::string {
        if (whole_number(text, minimum, maximum)) return {};
        return "expected a whole number from " + std::to_string(minimum) + " to " +
               std::to_string(maximum) + ", got " + in_quotes(text);
      },
      "", "N");
}

const CLI::Validator duration_check(
    [](std::string& text) -> std::string {
      if (parse_duration(text)) return {};
      return "bad duration " + in_quotes(text) + " (Go syntax: 250ms, 1.5s, 2m)";
    },
    "", "DURATION");

/// http://HOST[:PORT][/PATH] or https://...: a scheme we speak, a host, a port that fits.
std::string check_url(std::string& text) {
  const std::string bad = "bad URL " + in_quotes(text) +
                          " (expected http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH)";
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::size_t authority_start = 0;
  if (lower.rfind("http://", 0) == 0) {
    authority_start = 7;
  } else if (lower.rfind("https://", 0) == 0) {
    authority_start = 8;
  } else {
    return bad;
  }
  if (std::any_of(text.begin(), text.end(),
                  [](unsigned char c) { return std::isspace(c) || std::iscntrl(c); })) {
    return bad;
  }
  const auto authority_end = text.find_first_of("/?#", authority_start);
  std::string authority = text.substr(authority_start, authority_end - authority_start);
  if (authority.find('@') != std::string::npos) return bad;  // no user info
  std::string host = authority;
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return bad;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad;
      port = authority.substr(close + 2);
      if (port.empty()) return bad;
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty() || host.find(':') != std::string::npos) return bad;
  }
  if (host.empty()) return bad;
  if (!port.empty()) {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return bad;
    }
    const int number = std::stoi(port);
    if (number < 1 || number > 65535) return bad;
  }
  return {};
}

/// The value of a 'Name: value' header without the spaces and tabs around it.
std::string header_value(const std::string& header) {
  const auto colon = header.find(':');
  const auto first = header.find_first_not_of(" \t", colon + 1);
  if (first == std::string::npos) return {};
  return header.substr(first, header.find_last_not_of(" \t") - first + 1);
}

/// A 'Name: value' header the client will send: the library's own rules (request_problem), so
/// no value can add a line or a field to the request.
std::string check_header(std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    return "bad header " + in_quotes(text) + " (expected 'Name: value')";
  }
  const std::string problem = field_problem(text.substr(0, colon), header_value(text));
  if (problem.empty()) return {};
  return "bad header " + in_quotes(text) + ": " + problem;
}

std::string check_method(std::string& text) {
  if (method_problem(text).empty()) return {};
  return "bad method " + in_quotes(text) + " (expected a token such as GET, PUT, PATCH)";
}

/// curl's --resolve HOST:PORT:ADDR[,ADDR...] (IPv6 addresses may be bracketed).
struct ResolveEntry {
  std::string key;  ///< "host:port", as ClientOptions::resolve takes it
  std::vector<std::string> addresses;
};

std::optional<ResolveEntry> parse_resolve(const std::string& text) {
  const auto first = text.find(':');
  if (first == std::string::npos || first == 0) return std::nullopt;
  const auto second = text.find(':', first + 1);
  if (second == std::string::npos) return std::nullopt;
  const std::string host = text.substr(0, first);
  const std::string port = text.substr(first + 1, second - first - 1);
  if (!whole_number(port, 1, 65535)) return std::nullopt;
  ResolveEntry entry;
  std::string lower = host;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  entry.key = lower + ":" + port;
  std::stringstream list(text.substr(second + 1));
  for (std::string address; std::getline(list, address, ',');) {
    if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
      address = address.substr(1, address.size() - 2);
    }
    boost::system::error_code error;
    boost::asio::ip::make_address(address, error);
    if (error) return std::nullopt;
    entry.addresses.push_back(address);
  }
  if (entry.addresses.empty()) return std::nullopt;
  return entry;
}

std::string check_resolve(std::string& text) {
  if (parse_resolve(text)) return {};
  return "bad --resolve " + in_quotes(text) +
         " (expected HOST:PORT:ADDRESS[,ADDRESS...] with numeric addresses, e.g. "
         "dual.test:8080:[::1],127.0.0.1)";
}

/// Everything a run needs, checked: the request every worker sends and the client's options.
struct RequestPlan {
  Request request;
  ClientOptions options;
  int count = 1;
  int parallel = 1;
  bool json = false;
  bool verbose = false;
  nanoseconds max_time{0};
  nanoseconds interval{0};
};

/// Reads --data's @FILE (`@-` is stdin); false with `error` set when it cannot be read (a
/// folder is not a file: reading one would send an empty body).
bool read_data(const std::string& data, std::string& body, std::string& error) {
  if (data.empty() || data.front() != '@') {
    body = data;
    return true;
  }
  const std::string path = data.substr(1);
  if (path == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (!std::cin.bad()) return true;
    error = "--data: cannot read standard input";
    return false;
  }
  std::error_code kind_error;
  if (std::filesystem::is_directory(path, kind_error)) {
    error = "--data: cannot read file " + in_quotes(path) + ": it is a folder";
    return false;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "--data: cannot read file " + in_quotes(path) + ": " + std::strerror(errno);
    return false;
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    error = "--data: cannot read file " + in_quotes(path);
    return false;
  }
  body = std::move(contents).str();
  return true;
}

/// Empty when `path` (an output file, if given) can be written; checked before any request so
/// that a typo is not found after the whole run.
std::string writable_problem(const char* flag, const std::string& path) {
  if (path.empty()) return {};
  std::ofstream out(path, std::ios::binary | std::ios::app);
  if (out) return {};
  return std::string(flag) + ": cannot write " + in_quotes(path) + ": " + std::strerror(errno);
}

/// Turns checked flags into a plan; false with `error` set for what parsing could not check.
bool make_plan(const RequestFlags& flags, RequestPlan& plan, std::string& error) {
  std::string body;
  if (flags.has_data && !read_data(flags.data, body, error)) return false;
  if (!flags.cacert.empty() && !std::ifstream(flags.cacert)) {
    error = "--cacert: cannot read file " + in_quotes(flags.cacert) + ": " + std::strerror(errno);
    return false;
  }
  if (auto problem = writable_problem("--timeline", flags.timeline); !problem.empty()) {
    error = problem;
    return false;
  }
  if (auto problem = writable_problem("--trace-out", flags.trace_out); !problem.empty()) {
    error = problem;
    return false;
  }

  std::string method = flags.method.empty() ? (flags.has_data ? "POST" : "GET") : flags.method;
  const auto verb = http::string_to_verb(method);
  plan.request = make_request(verb == http::verb::unknown ? http::verb::get : verb, flags.url,
                              std::move(body));
  if (verb == http::verb::unknown) {
    plan.request.method_string(method);
    if (!plan.request.body().empty()) plan.request.prepare_payload();
  }
  for (const auto& header : flags.headers) {
    const auto name = header.substr(0, header.find(':'));
    const auto value = header_value(header);
    // Our header replaces one the request already has (Content-Type, Host, ...).
    if (plan.request.find(name) != plan.request.end()) plan.request.erase(name);
    plan.request.insert(name, value);
  }

  if (auto problem = request_problem(plan.request); !problem.empty()) {
    error = problem;  // e.g. a TRACE with --data
    return false;
  }

  Settings& settings = plan.options.settings;
  settings.connect = duration_of(flags.connect);
  settings.conn_keep_alive = duration_of(flags.keep_alive);
  settings.tls_handshake = duration_of(flags.tls_handshake);
  settings.expect_continue = duration_of(flags.expect_continue);
  settings.response_header = duration_of(flags.response_header);
  settings.idle_conn = duration_of(flags.idle_conn);
  settings.dual_stack_fallback_delay = duration_of(flags.dual_stack_fallback_delay);
  if (!flags.keep_alive_idle.empty() || !flags.keep_alive_interval.empty() ||
      !flags.keep_alive_count.empty()) {
    settings.keep_alive.enable = true;
    if (!flags.keep_alive_idle.empty())
      settings.keep_alive.idle = duration_of(flags.keep_alive_idle);
    if (!flags.keep_alive_interval.empty()) {
      settings.keep_alive.interval = duration_of(flags.keep_alive_interval);
    }
    if (!flags.keep_alive_count.empty()) {
      settings.keep_alive.count = *whole_number(flags.keep_alive_count, -1, 127);
    }
  }
  for (const auto& text : flags.resolve) {
    auto entry = parse_resolve(text);
    plan.options.resolve[entry->key] = std::move(entry->addresses);
  }
  settings.max_all_idle_conns = *whole_number(flags.max_idle_conns, -max_idle_cap, max_idle_cap);
  settings.max_host_idle_conns =
      *whole_number(flags.max_host_idle_conns, -max_idle_cap, max_idle_cap);
  plan.options.tls.ca_file = flags.cacert;
  plan.options.tls.insecure = flags.insecure;

  plan.count = *whole_number(flags.count, 1, max_count);
  plan.parallel = *whole_number(flags.parallel, 1, max_parallel);
  plan.json = flags.json;
  plan.verbose = flags.verbose;
  plan.max_time = duration_of(flags.max_time);
  plan.interval = duration_of(flags.interval);
  return true;
}

/// One run: `parallel` workers each sending `count` requests, one after the other, through
/// one client on one thread (so the reports below never interleave).
class RequestRun {
 public:
  RequestRun(RequestPlan plan, std::string timeline, std::string trace_out)
      : plan_(std::move(plan)), timeline_(std::move(timeline)), trace_out_(std::move(trace_out)) {
    const bool record = !timeline_.empty() || !trace_out_.empty();
    const bool verbose = plan_.verbose;
    if (verbose || record) {
      // One thread runs every request, so the recording needs no lock.
      plan_.options.trace = [this, verbose, record](const TraceEvent& event) {
        if (verbose) log_pool_event(event);
        if (record) recorded_.push_back(event);
      };
    }
    client_.emplace(io_.get_executor(), plan_.options, setup_error_);
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
    int remaining = plan_.parallel;
    for (int worker = 1; worker <= plan_.parallel; ++worker) {
      asio::co_spawn(io_, run_worker(worker), [this, &remaining](std::exception_ptr failure) {
        if (failure) {
          ++failed_;
          try {
            std::rethrow_exception(failure);
          } catch (const std::exception& e) {
            std::cerr << "tunedhttp request: " << e.what() << "\n";
          }
        }
        if (--remaining == 0) finish();
      });
    }
    io_.run();
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
        std::cerr << ", " << closes << " closed " << reason;
      }
      std::cerr << "\n";
    }
    io_.stop();
  }

  asio::awaitable<void> run_worker(int worker) {
    for (int seq = 1; seq <= plan_.count; ++seq) {
      if (seq > 1 && plan_.interval > nanoseconds::zero()) {
        asio::steady_timer pause(io_, plan_.interval);
        co_await pause.async_wait(asio::use_awaitable);
      }
      co_await send(worker, seq);
    }
  }

  /// A request in flight, shared with the client's callbacks.
  struct Pending {
    explicit Pending(asio::io_context& io) : wake(io) {}
    asio::steady_timer wake;  ///< --max-time, cancelled by the completion
    // (A cancelled request completes at once: the client closes its connection.)
    asio::cancellation_signal cancel;  ///< ends the request when --max-time expires
    bool done = false;
    bool cancelled = false;  ///< --max-time expired and the request was cancelled
    boost::system::error_code error;
    Response response;
    Clock::time_point finished;
    std::vector<TraceEvent> events;
  };

  asio::awaitable<void> send(int worker, int seq) {
    auto pending = std::make_shared<Pending>(io_);
    const auto start = Clock::now();
    if (plan_.max_time > nanoseconds::zero()) {
      // --max-time: per-operation cancellation ends the request and closes its connection.
      pending->wake.expires_at(start + plan_.max_time);
      pending->wake.async_wait([pending](boost::system::error_code error) {
        if (error || pending->done) return;
        pending->cancelled = true;
        pending->cancel.emit(asio::cancellation_type::terminal);
      });
    }
    // Awaited directly, so this worker resumes inside the completion and asks for its next
    // connection before other completions of the same batch put theirs back: a worker that
    // resumed through a posted wake-up would find the pool over its host cap, closed, and dial.
    // (Named locals, not temporaries in the co_await expression: GCC 12 destroys those wrongly.)
    TraceHook hook = [pending](const TraceEvent& event) { pending->events.push_back(event); };
    auto token =
        asio::bind_cancellation_slot(pending->cancel.slot(), asio::as_tuple(asio::use_awaitable));
    auto result = co_await client_->async_request(plan_.request, std::move(hook), token);
    pending->finished = Clock::now();
    pending->done = true;
    pending->error = std::get<0>(result);
    pending->response = std::move(std::get<1>(result));
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
      record.body_bytes = pending->response.body().size();
    }
    if (!record.status) ++failed_;
    report(record, pending->response);
  }

  void report(const RequestRecord& record, const Response& response) {
    if (plan_.json) {
      std::cout << json_line(record) << std::endl;  // one flushed line per request
    } else if (record.status) {
      std::cout << response.body() << std::flush;
    } else {
      std::cerr << "tunedhttp request: " << record.error << ": " << record.message << " (after "
                << format_duration(record.elapsed) << ")\n";
    }
    if (plan_.verbose) std::cerr << summary_line(record) << "\n";
  }

  RequestPlan plan_;
  std::string timeline_;
  std::string trace_out_;
  std::vector<TraceEvent> recorded_;
  asio::io_context io_{1};  // one thread runs every worker: requests need no strand
  boost::system::error_code setup_error_;
  std::optional<Client> client_;
  int failed_ = 0;
};

int run_request(const RequestFlags& flags) {
  RequestPlan plan;
  std::string error;
  if (!make_plan(flags, plan, error)) {
    std::cerr << "tunedhttp request: " << error << "\n";
    return exit_usage;
  }
  RequestRun run(std::move(plan), flags.timeline, flags.trace_out);
  if (run.setup_error()) {
    std::cerr << "tunedhttp request: --cacert: " << in_quotes(flags.cacert)
              << " holds no usable CA certificate: " << run.setup_error().message() << "\n";
    return exit_usage;
  }
  const int code = run.run();
  if (!run.write_pictures(flags.url)) return 1;
  return code;
}

}  // namespace

CommandRunner add_request_command(CLI::App& app) {
  auto flags = std::make_shared<RequestFlags>();
  auto* request = app.add_subcommand(
      "request",
      "Send URL with the tuned client, like curl. Prints the body (or with --json one JSON "
      "object per request). Exit 0 if every request got a response, 1 if any failed, 2 on bad "
      "input.");
  request->add_option("URL", flags->url, "http:// or https:// URL")
      ->required()
      ->check(CLI::Validator(check_url, "", "URL"));
  request->add_option("-X,--request", flags->method, "method (default GET, or POST with --data)")
      ->check(CLI::Validator(check_method, "", "METHOD"));
  request
      ->add_option("-d,--data", flags->data,
                   "request body: STRING, or @FILE to read it from a file (@- for stdin)")
      ->each([flags](const std::string&) { flags->has_data = true; });
  request->add_option("-H,--header", flags->headers, "'Name: value' header, repeatable")
      ->check(CLI::Validator(check_header, "", "HEADER"))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

  auto duration = [&](const char* name, std::string& value, const char* about) {
    request->add_option(name, value, about)
        ->check(duration_check)
        ->type_name("DURATION")
        ->capture_default_str();
  };
  duration("--connect", flags->connect, "connect: name resolution + TCP connect limit (0: none)");
  duration("--conn-keep-alive,--keep-alive", flags->keep_alive,
           "conn_keep_alive: TCP keep-alive period (0: 15s; negative, e.g. --keep-alive=-1s: off)");
  duration("--tls-handshake", flags->tls_handshake, "tls_handshake: TLS handshake limit (0: none)");
  duration("--expect-continue", flags->expect_continue,
           "expect_continue: wait this long for 100 Continue before sending the body anyway, with "
           "-H 'Expect: 100-continue' (0: send at once)");
  duration("--response-header", flags->response_header,
           "response_header: from the request written to the response headers (0: no limit)");
  duration("--idle-conn", flags->idle_conn,
           "idle_conn: close a connection idle this long (0: never)");
  request
      ->add_option("--max-all-idle-conns,--max-idle-conns", flags->max_idle_conns,
                   "max_all_idle_conns (0: no limit)")
      ->check(whole_number_check(-max_idle_cap, max_idle_cap))
      ->type_name("N")
      ->capture_default_str();
  request
      ->add_option("--max-host-idle-conns", flags->max_host_idle_conns,
                   "max_host_idle_conns (0: 2)")
      ->check(whole_number_check(-max_idle_cap, max_idle_cap))
      ->type_name("N")
      ->capture_default_str();
  duration("--dual-stack-fallback-delay", flags->dual_stack_fallback_delay,
           "extension: dual_stack_fallback_delay, Go's Dialer.FallbackDelay: the other address "
           "family starts this long after the first (0: 300ms; negative: no fallback)");
  request
      ->add_option("--keep-alive-idle", flags->keep_alive_idle,
                   "extension: Go 1.23's KeepAliveConfig.Idle (TCP_KEEPIDLE; 0: 15s; negative: "
                   "the OS default); any --keep-alive-* replaces --conn-keep-alive")
      ->check(duration_check)
      ->type_name("DURATION");
  request
      ->add_option("--keep-alive-interval", flags->keep_alive_interval,
                   "extension: KeepAliveConfig.Interval (TCP_KEEPINTVL; 0: 15s)")
      ->check(duration_check)
      ->type_name("DURATION");
  request
      ->add_option("--keep-alive-count", flags->keep_alive_count,
                   "extension: KeepAliveConfig.Count (TCP_KEEPCNT; 0: 9; -1: the OS default)")
      ->check(whole_number_check(-1, 127))
      ->type_name("N");
  request
      ->add_option("--resolve", flags->resolve,
                   "HOST:PORT:ADDRESS[,ADDRESS...]: dial these addresses, in order, for HOST:PORT "
                   "(curl's flag), e.g. dual.test:8080:[::1],127.0.0.1; repeatable")
      ->check(CLI::Validator(check_resolve, "", "HOST:PORT:ADDR"))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  request->add_option("--cacert", flags->cacert, "PEM file of CAs to trust instead of the system's")
      ->type_name("FILE");
  request->add_flag("-k,--insecure", flags->insecure,
                    "do not verify the server's certificate (testing only: anyone can listen)");
  request
      ->add_option("--count", flags->count,
                   "requests per worker, one after the other (at most 1000000)")
      ->check(whole_number_check(1, max_count))
      ->type_name("N")
      ->capture_default_str();
  request
      ->add_option("--parallel", flags->parallel,
                   "workers at once, all through one client (at most 1000)")
      ->check(whole_number_check(1, max_parallel))
      ->type_name("N")
      ->capture_default_str();
  request->add_flag("--json", flags->json, "one JSON object per request per line on stdout");
  request->add_flag(
      "-v,--verbose", flags->verbose,
      "a one-line summary per request, and why the pool closed connections, on stderr");
  duration("--max-time", flags->max_time,
           "extension: deadline for each whole request, like curl's (0: none)");
  duration("--interval", flags->interval, "extension: pause between the requests of a worker");
  request->add_option("--timeline", flags->timeline,
                      "write an SVG timeline of every request's trace points and limits to FILE");
  request->add_option("--trace-out", flags->trace_out,
                      "write the trace as Chrome Trace Event JSON (Perfetto) to FILE");
  return [flags] { return run_request(*flags); };
}

}  // namespace tunedhttp::program
