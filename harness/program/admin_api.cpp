// The control API of `tunedhttp serve --admin` (docs/control-api.md): one coroutine per
// connection on the serve program's executor, requests read with Beast, JSON with nlohmann-json.
// The mock server's fault list is swapped whole under its own lock (Server::set_faults), so a
// change answered here applies to every connection accepted and request read afterwards.
#include "admin_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/mockserver/fault_config.hpp>
#include <tunedhttp/units.hpp>

#include "event_json.hpp"

namespace tunedhttp::program {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;
using asio::awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t request_body_limit = 1024 * 1024;  // a list of SPECs is a few hundred bytes
constexpr std::chrono::seconds longest_wait{60};         // ?wait= is capped here
constexpr std::chrono::milliseconds event_poll{5};       // how often a long poll looks again

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response json_response(http::status status, const json& body, unsigned version) {
  Response response{status, version};
  response.set(http::field::content_type, "application/json");
  response.body() = body.dump() + "\n";
  return response;
}

Response error_response(http::status status, const std::string& message, unsigned version) {
  return json_response(status, json{{"error", message}}, version);
}

json range_json(std::uint64_t first, const std::optional<std::uint64_t>& last) {
  return json{{"first", first}, {"last", last.value_or(first)}};
}

/// A fault as GET /faults shows it: its SPEC and its parsed form.
json fault_json(const mockserver::FaultEntry& entry) {
  const auto& target = entry.config.target;
  json target_json = json::object();
  if (target.connection) {
    target_json["connection"] = range_json(*target.connection, target.connection_last);
  }
  if (target.request) target_json["request"] = range_json(*target.request, target.request_last);
  if (target.path) target_json["path"] = *target.path;
  if (target.listener) target_json["listener"] = *target.listener;
  return json{{"id", entry.id},
              {"spec", mockserver::format_fault_spec(entry.config)},
              {"name", entry.config.name},
              {"parameters", entry.config.parameters},
              {"target", target_json}};
}

json faults_json(const std::vector<mockserver::FaultEntry>& entries) {
  json list = json::array();
  for (const auto& entry : entries) list.push_back(fault_json(entry));
  return list;
}

/// A SPEC from a JSON value: a string, or {"spec": string}.
mockserver::FaultConfig spec_of(const json& value) {
  if (value.is_string()) return mockserver::parse_fault_spec(value.get<std::string>());
  if (value.is_object() && value.size() == 1 && value.contains("spec") &&
      value["spec"].is_string()) {
    return mockserver::parse_fault_spec(value["spec"].get<std::string>());
  }
  throw std::invalid_argument("a fault is a SPEC string such as \"hold-headers=2s\"; got " +
                              quote(value.dump(), 80));
}

/// The request's query parameters (no percent-decoding: the values are numbers and durations).
struct Query {
  std::string path;
  std::map<std::string, std::string> values;
};

Query split_target(std::string_view target) {
  Query query;
  const auto mark = target.find('?');
  query.path = std::string(target.substr(0, mark));
  if (mark == std::string_view::npos) return query;
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto item = rest.substr(0, amp);
    const auto equals = item.find('=');
    query.values[std::string(item.substr(0, equals))] =
        equals == std::string_view::npos ? "" : std::string(item.substr(equals + 1));
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
  return query;
}

std::optional<std::uint64_t> whole_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

struct AdminApi::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor executor, mockserver::Server& mock)
      : strand(asio::make_strand(executor)), acceptor(strand), server(mock) {}

  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [error, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
      if (stopped || !acceptor.is_open()) break;
      if (error) continue;
      auto shared = std::make_shared<tcp::socket>(std::move(socket));
      sockets.insert(shared);
      asio::co_spawn(strand, session(shared), asio::detached);
    }
  }

  awaitable<void> session(std::shared_ptr<tcp::socket> socket) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    while (!stopped) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(request_body_limit);
      auto [error, n] = co_await http::async_read(*socket, buffer, parser, as_tuple_awaitable);
      (void)n;
      if (stopped) break;
      if (error == http::error::body_limit || error == http::error::header_limit) {
        // Too big to be a list of SPECs: say so, then close (the rest is unread).
        auto refused = error_response(http::status::payload_too_large,
                                      "the request is over the control API's limit of " +
                                          std::to_string(request_body_limit) + " bytes",
                                      11);
        refused.keep_alive(false);
        refused.prepare_payload();
        co_await http::async_write(*socket, refused, as_tuple_awaitable);
        break;
      }
      if (error) break;
      const Request request = parser.release();
      Response response = co_await answer(request);
      // A change is answered once in force everywhere, the accept queue included.
      if (request.method() != http::verb::get) co_await changes_applied();
      response.set(http::field::server, "tunedhttp-admin");
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      auto [write_error, written] =
          co_await http::async_write(*socket, response, as_tuple_awaitable);
      (void)written;
      if (write_error || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    socket->shutdown(tcp::socket::shutdown_both, ignored);
    socket->close(ignored);
    sockets.erase(socket);
  }

  awaitable<void> changes_applied() {
    auto applied = std::make_shared<asio::steady_timer>(strand, Clock::time_point::max());
    server.after_changes(
        [applied, admin = strand] { asio::post(admin, [applied] { applied->cancel(); }); });
    co_await applied->async_wait(as_tuple_awaitable);
  }

  awaitable<Response> answer(const Request& request) {
    const unsigned version = request.version();
    const auto query = split_target(request.target());
    const auto method = request.method();
    if (query.path == "/faults") {
      switch (method) {
        case http::verb::get:
          co_return json_response(http::status::ok, faults_json(server.faults()), version);
        case http::verb::put:
          co_return replace_faults(request);
        case http::verb::post:
          co_return add_fault(request);
        case http::verb::delete_:
          co_return json_response(http::status::ok, faults_json(server.set_faults({})), version);
        default:
          co_return not_allowed("GET, PUT, POST, DELETE", version);
      }
    }
    if (query.path.rfind("/faults/", 0) == 0) {
      if (method != http::verb::delete_) co_return not_allowed("DELETE", version);
      const auto id = whole_number(std::string_view(query.path).substr(8));
      if (!id) {
        co_return error_response(http::status::bad_request,
                                 "DELETE /faults/N: N is a fault's id (GET /faults)", version);
      }
      if (!server.remove_fault(*id)) {
        co_return error_response(http::status::not_found, "no fault with id " + std::to_string(*id),
                                 version);
      }
      co_return json_response(http::status::ok, faults_json(server.faults()), version);
    }
    if (query.path == "/events") {
      if (method == http::verb::delete_) {
        server.events().clear();
        co_return json_response(http::status::ok, json::object(), version);
      }
      if (method != http::verb::get) co_return not_allowed("GET, DELETE", version);
      co_return co_await events(query, version);
    }
    if (query.path == "/stats") {
      if (method != http::verb::get) co_return not_allowed("GET", version);
      const auto stats = server.stats();
      co_return json_response(http::status::ok,
                              json{{"connections", stats.connections},
                                   {"requests", stats.requests},
                                   {"faults_fired", stats.faults_fired},
                                   {"faults", server.faults().size()},
                                   {"events", server.events().snapshot().size()}},
                              version);
    }
    if (query.path == "/reset") {
      if (method != http::verb::post) co_return not_allowed("POST", version);
      server.set_faults({});
      server.events().clear();
      co_return json_response(http::status::ok, json{{"faults", json::array()}}, version);
    }
    co_return error_response(
        http::status::not_found,
        "no such resource " + quote(query.path, 80) + " (see /faults, /events, /stats, /reset)",
        version);
  }

  Response replace_faults(const Request& request) {
    const unsigned version = request.version();
    const auto body = json::parse(request.body(), nullptr, false);
    if (body.is_discarded() || !body.is_array()) {
      return error_response(http::status::bad_request,
                            "PUT /faults: the body is a JSON array of SPECs, such as "
                            "[\"hold-headers=2s\"]",
                            version);
    }
    try {
      std::vector<mockserver::FaultConfig> configs;
      for (const auto& item : body) configs.push_back(spec_of(item));
      return json_response(http::status::ok, faults_json(server.set_faults(configs)), version);
    } catch (const std::invalid_argument& e) {
      return error_response(http::status::bad_request, e.what(), version);
    }
  }

  Response add_fault(const Request& request) {
    const unsigned version = request.version();
    const auto body = json::parse(request.body(), nullptr, false);
    if (body.is_discarded()) {
      return error_response(http::status::bad_request,
                            "POST /faults: the body is one SPEC as a JSON string, such as "
                            "\"hold-headers=2s\"",
                            version);
    }
    try {
      return json_response(http::status::created, fault_json(server.add_fault(spec_of(body))),
                           version);
    } catch (const std::invalid_argument& e) {
      return error_response(http::status::bad_request, e.what(), version);
    }
  }

  /// GET /events[?since=SEQ][&wait=D]: the log as JSON lines, those after SEQ; with wait, for
  /// up to D until there is at least one.
  awaitable<Response> events(const Query& query, unsigned version) {
    std::uint64_t since = 0;
    Clock::duration wait{};
    for (const auto& [key, value] : query.values) {
      if (key == "since") {
        const auto seq = whole_number(value);
        if (!seq) {
          co_return error_response(
              http::status::bad_request,
              "since: a sequence number (an event's seq); got " + quote(value, 40), version);
        }
        since = *seq;
      } else if (key == "wait") {
        const auto duration = parse_duration(value);
        if (!duration || duration->count() < 0) {
          co_return error_response(http::status::bad_request,
                                   "wait: a duration such as 500ms or 5s; got " + quote(value, 40),
                                   version);
        }
        wait = std::min<Clock::duration>(*duration, longest_wait);
      } else {
        co_return error_response(http::status::bad_request,
                                 "unknown parameter " + quote(key, 40) + " (expected since, wait)",
                                 version);
      }
    }
    const auto deadline = Clock::now() + wait;
    auto found = server.events().after(since);
    asio::steady_timer timer(strand);
    while (found.empty() && Clock::now() < deadline && !stopped) {
      timer.expires_after(std::min<Clock::duration>(event_poll, deadline - Clock::now()));
      co_await timer.async_wait(as_tuple_awaitable);
      found = server.events().after(since);
    }
    Response response{http::status::ok, version};
    response.set(http::field::content_type, "application/x-ndjson");
    const auto origin = server.started_at();
    for (const auto& event : found) {
      response.body() += event_json_line(event, origin) + "\n";
    }
    co_return response;
  }

  Response not_allowed(const char* allowed, unsigned version) {
    auto response =
        error_response(http::status::method_not_allowed,
                       std::string("method not allowed here (allowed: ") + allowed + ")", version);
    response.set(http::field::allow, allowed);
    return response;
  }

  void close_all() {
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (const auto& socket : sockets) socket->close(ignored);
  }

  asio::strand<asio::any_io_executor> strand;
  tcp::acceptor acceptor;
  mockserver::Server& server;
  std::set<std::shared_ptr<tcp::socket>> sockets;  // strand only
  bool stopped = false;                            // strand only
  std::string url;                                 // set before any handler runs
};

AdminApi::AdminApi(asio::any_io_executor executor, mockserver::Server& server,
                   const std::string& address, unsigned short port)
    : state_(std::make_shared<State>(std::move(executor), server)) {
  const tcp::endpoint endpoint{asio::ip::make_address(address), port};
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  const auto bound = acceptor.local_endpoint();
  std::string host = bound.address().to_string();
  if (bound.address().is_v6()) host = "[" + host + "]";
  state_->url = "http://" + host + ":" + std::to_string(bound.port()) + "/";
  asio::co_spawn(state_->strand, state_->accept_loop(), asio::detached);
}

AdminApi::~AdminApi() { stop(); }

std::string AdminApi::url() const { return state_->url; }

void AdminApi::stop() {
  asio::dispatch(state_->strand, [state = state_] {
    if (!state->stopped) state->close_all();
  });
}

}  // namespace tunedhttp::program
