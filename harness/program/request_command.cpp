// `tunedhttp request`: curl-like, with the tuned client (docs/request.md). This file reads and
// checks the flags into a RequestPlan; request_run.cpp carries the plan out.
//
// Sends URL --count times in each of --parallel workers, all through one Client, so connection
// reuse and the idle caps show. Without --json: each response body on stdout, errors (and with
// -v a summary per request) on stderr. With --json: one JSON object per request per line on
// stdout (request_report.hpp). Exit 0 when every request got a response (whatever its status),
// 1 when any failed, 2 on a usage error (a one-line message naming the bad value).
//
// Extensions to the command-line contract (docs/architecture.md): --max-time D (a deadline for each
// whole request, like curl's; it cancels the request, which closes its connection),
// --interval D (a pause between the requests of a worker, to let idle timers run), -v.
#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <tunedhttp/client.hpp>
#include <tunedhttp/harness/scenario.hpp>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/settings_table.hpp>
#include <tunedhttp/units.hpp>
#include <vector>

#include "commands.hpp"
#include "request_run.hpp"

namespace tunedhttp::program {
namespace {

namespace http = boost::beast::http;
using std::chrono::nanoseconds;

/// Defensive limits: more workers than this would run out of descriptors before telling
/// anything about the settings (the scenario loader's cap on `parallel` is the same); more
/// requests than this per worker is a benchmark's job.
constexpr int max_parallel = static_cast<int>(harness::max_parallel_requests);
constexpr int max_threads = 256;

/// --threads' default: one per CPU.
int default_threads() {
  return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 256u));
}
constexpr int max_count = 1'000'000;

/// The flags as typed (durations still text, checked by `duration_check` during parsing).
struct RequestFlags {
  std::string url;
  std::string method;  // empty: GET, or POST when --data is given (as curl does)
  std::string data;
  bool has_data = false;
  std::vector<std::string> headers;
  /// Each row of the settings table's flag, as typed; empty when not given (the default).
  std::array<std::string, std::size(settings_table)> settings;
  std::vector<std::string> resolve;  // HOST:PORT:ADDR[,ADDR...]
  std::string cacert;
  bool insecure = false;
  std::optional<std::string> proxy;     // -x: every request through it
  std::optional<std::string> no_proxy;  // hosts reached directly
  std::string count = "1";
  std::string parallel = "1";
  std::string threads = std::to_string(default_threads());
  bool json = false;
  bool verbose = false;
  std::string max_time = "0s";
  std::string interval = "0s";
  std::string timeline;   // SVG file of the whole run's trace
  std::string trace_out;  // Chrome Trace Event JSON file
  std::string output;     // -o FILE
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

/// An absolute http:// or https:// URL by the client's own rules (request_problem), which are
/// Go's url.Parse and Transport: user info is accepted and not sent, an empty port is the
/// scheme's, port 0 is dialled (and refused by the system, as in Go); a port past 65535, a
/// missing host, another scheme, spaces and control characters are refused.
std::string check_url(std::string& text) {
  if (request_problem(make_request(http::verb::get, text)).empty()) return {};
  return "bad URL " + in_quotes(text) +
         " (expected http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH)";
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

/// Reads --data's @FILE (`@-` is stdin); false with `error` set when it cannot be read (a
/// folder is not a file: reading one would send an empty body). A regular file is not read
/// here: its path goes to `file`, and each request streams it (never held whole).
bool read_data(const std::string& data, std::string& body, std::string& file, std::string& error) {
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
  std::ifstream input(path, std::ios::binary);
  if (!input) {
    error = "--data: cannot read file " + in_quotes(path) + ": " + std::strerror(errno);
    return false;
  }
  if (std::filesystem::is_regular_file(path, kind_error)) {
    file = path;
    return true;
  }
  std::ostringstream contents;
  contents << input.rdbuf();
  if (input.bad()) {
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
  if (flags.has_data && !read_data(flags.data, body, plan.data_file, error)) return false;
  if (flags.proxy) {
    plan.options.proxy.source = ProxyOptions::Source::url;
    plan.options.proxy.url = *flags.proxy;
    if (auto problem = proxy_problem(plan.options.proxy); !problem.empty()) {
      error = "--proxy: " + problem;
      return false;
    }
  }
  plan.options.proxy.no_proxy = flags.no_proxy;
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
  if (auto problem = writable_problem("-o", flags.output); !problem.empty()) {
    error = problem;
    return false;
  }
  if (!flags.output.empty() && *whole_number(flags.parallel, 1, max_parallel) > 1) {
    error = "-o: one file takes the bodies one after the other; use it with --parallel 1";
    return false;
  }
  plan.output = flags.output;

  std::string method = flags.method.empty() ? (flags.has_data ? "POST" : "GET") : flags.method;
  const auto verb = http::string_to_verb(method);
  plan.request = make_request(verb == http::verb::unknown ? http::verb::get : verb, flags.url,
                              std::move(body));
  if (!plan.data_file.empty()) {
    // The size the file has now, for request_problem(); each request sends what it reads then.
    std::error_code size_error;
    plan.request.content_length(std::filesystem::file_size(plan.data_file, size_error));
  }
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

  for (const auto& row : settings_table) {
    const std::string& text = flags.settings[static_cast<std::size_t>(row.id)];
    if (!text.empty()) set_from_text(plan.options.settings, row, text);  // checked when parsed
  }
  for (const auto& text : flags.resolve) {
    auto entry = parse_resolve(text);
    plan.options.resolve[entry->key] = std::move(entry->addresses);
  }
  plan.options.tls.ca_file = flags.cacert;
  plan.options.tls.insecure = flags.insecure;

  plan.count = *whole_number(flags.count, 1, max_count);
  plan.parallel = *whole_number(flags.parallel, 1, max_parallel);
  plan.threads = *whole_number(flags.threads, 1, max_threads);
  plan.json = flags.json;
  plan.verbose = flags.verbose;
  plan.max_time = duration_of(flags.max_time);
  plan.interval = duration_of(flags.interval);
  return true;
}

int run_request(const RequestFlags& flags) {
  RequestPlan plan;
  std::string error;
  if (!make_plan(flags, plan, error)) {
    std::cerr << "tunedhttp request: " << error << "\n";
    return exit_usage;
  }
  plan.timeline = flags.timeline;
  plan.trace_out = flags.trace_out;
  plan.title = flags.url;
  return run_plan(std::move(plan));
}

/// One flag per row of the settings table: its name and aliases, its rules for 0 and negative
/// values in the help, its default (a block's members show none: the block is off), and the
/// table's own check of the value.
void add_setting_flags(CLI::App& request,
                       std::array<std::string, std::size(settings_table)>& texts) {
  for (const auto& row : settings_table) {
    std::string names(row.flag);
    if (!row.flag_aliases.empty()) names += "," + std::string(row.flag_aliases);
    const std::string help = std::string(row.extension ? "extension: " : "") +
                             std::string(row.name) + " (" + std::string(row.go_name) +
                             "): " + std::string(row.summary) + " (0: " + std::string(row.zero) +
                             "; negative: " + std::string(row.negative) + ")";
    const char* type = row.is_duration() ? "DURATION" : row.is_rate() ? "N/D" : "N";
    auto* option = request.add_option(names, texts[static_cast<std::size_t>(row.id)], help)
                       ->type_name(type)
                       ->check(CLI::Validator(
                           [&row](std::string& text) -> std::string {
                             Settings scratch;
                             return set_from_text(scratch, row, text);
                           },
                           "", type));
    if (!row.in_keep_alive_block()) option->default_str(default_text(row));
  }
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
  add_setting_flags(*request, flags->settings);
  request
      ->add_option("--resolve", flags->resolve,
                   "HOST:PORT:ADDRESS[,ADDRESS...]: dial these addresses, in order, for HOST:PORT "
                   "(curl's flag), e.g. dual.test:8080:[::1],127.0.0.1; repeatable")
      ->check(CLI::Validator(check_resolve, "", "HOST:PORT:ADDR"))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  request
      ->add_option("-x,--proxy", flags->proxy,
                   "http://[USER:PASSWORD@]HOST[:PORT]: send every request through this proxy, "
                   "loopback targets included (curl's flag; default: HTTP_PROXY, HTTPS_PROXY and "
                   "NO_PROXY by Go's rules, which never proxy loopback)")
      ->type_name("URL");
  request
      ->add_option("--noproxy", flags->no_proxy,
                   "hosts to reach directly, NO_PROXY's syntax (example.com,.internal,10.0.0.0/8,"
                   "*); replaces NO_PROXY")
      ->type_name("LIST");
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
  request
      ->add_option("--threads", flags->threads,
                   "threads running the client and the workers (default: the number of CPUs; "
                   "never more than --parallel; at most 256)")
      ->check(whole_number_check(1, max_threads))
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
  request
      ->add_option("-o,--output", flags->output,
                   "write the body to FILE (curl's flag), streamed: never held whole; with "
                   "--count, the bodies one after the other")
      ->type_name("FILE");
  request->add_option("--trace-out", flags->trace_out,
                      "write the trace as Chrome Trace Event JSON (Perfetto) to FILE");
  return [flags] { return run_request(*flags); };
}

}  // namespace tunedhttp::program
