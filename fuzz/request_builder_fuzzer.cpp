// Requests built from untrusted parts (a method, a target, header fields whose values may hold
// any byte, CR, LF and NUL included, a body): request_problem() must either refuse the request
// with a "net/http: " message or pass a request that Beast's serializer (the one the client
// writes with) turns into exactly one line per field, each parsing back to the field it came
// from, so no value can add a line or a field. quote() and printable() never let a control byte
// through.
//
// Input layout (FuzzedDataProvider): from the front, strings each ended by a backslash and a
// byte other than a backslash ("\\\\" is one backslash): method, target, then name and value
// of each field; the rest is the body. From the back: one byte of flags, one byte for the
// number of fields (mod 9).
#include <fuzzer/FuzzedDataProvider.h>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/serializer.hpp>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tunedhttp/client.hpp>
#include <tunedhttp/http_syntax.hpp>
#include <vector>

namespace {

namespace http = boost::beast::http;

enum : std::uint8_t {
  prefix_target = 1,     // "http://127.0.0.1:1" + target, else the target as given
  prepare_payload = 2,   // Content-Length / Transfer-Encoding from the body, after the fields
  set_fields = 4,        // request.set(name, value), else request.insert(name, value)
  use_make_request = 8,  // start from make_request(verb, target, body)
};

bool has_control(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

// Optional whitespace around a field value (RFC 9110 OWS: SP and HTAB), as a parser drops it.
std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

void check_escaping(std::string_view text, std::size_t limit) {
  if (has_control(tunedhttp::printable(text))) __builtin_trap();
  for (const char mark : {'"', '\''}) {
    const std::string quoted = tunedhttp::quote(text, limit, mark);
    if (has_control(quoted)) __builtin_trap();
    if (quoted.size() < 2 || quoted.front() != mark || quoted.back() != mark) __builtin_trap();
  }
  if (has_control(tunedhttp::quote(text))) __builtin_trap();
}

// The request as the client's serializer writes it: head (through the blank line) and body.
void serialize(tunedhttp::Request& request, std::string& head, std::string& body) {
  http::request_serializer<http::string_body> serializer(request);
  serializer.split(true);
  std::string* out = &head;
  boost::beast::error_code ec;
  while (!serializer.is_done()) {
    serializer.next(ec, [&](boost::beast::error_code&, const auto& buffers) {
      std::size_t bytes = 0;
      for (const auto buffer : boost::beast::buffers_range_ref(buffers)) {
        out->append(static_cast<const char*>(buffer.data()), buffer.size());
        bytes += buffer.size();
      }
      serializer.consume(bytes);
    });
    if (ec) __builtin_trap();  // a string body cannot fail to serialize
    if (serializer.is_header_done()) out = &body;
  }
}

// The contract for a request request_problem() passes.
void check_serialized(tunedhttp::Request& request) {
  std::string head;
  std::string body;
  serialize(request, head, body);

  // Lines of the head, each ended by CRLF; the last one is the blank line.
  std::vector<std::string_view> lines;
  std::string_view rest = head;
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    if (end == std::string_view::npos) __builtin_trap();  // a line without its CRLF
    lines.push_back(rest.substr(0, end));
    rest.remove_prefix(end + 2);
  }
  std::size_t fields = 0;
  for (auto it = request.begin(); it != request.end(); ++it) ++fields;
  if (lines.size() != fields + 2) __builtin_trap();  // request line, one per field, blank line
  if (!lines.back().empty()) __builtin_trap();
  for (const auto line : lines) {
    if (line.find_first_of("\r\n") != std::string_view::npos) __builtin_trap();  // bare CR/LF
  }

  const std::string request_line =
      std::string(request.method_string()) + " " + std::string(request.target()) + " HTTP/1.1";
  if (lines.front() != request_line) __builtin_trap();

  std::size_t i = 1;
  for (const auto& field : request) {
    const auto line = lines[i++];
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) __builtin_trap();
    if (line.substr(0, colon) != field.name_string()) __builtin_trap();
    if (trim_ows(line.substr(colon + 1)) != field.value()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const auto flags = input.ConsumeIntegral<std::uint8_t>();
  const int field_count = input.ConsumeIntegralInRange<int>(0, 8);
  const std::string method = input.ConsumeRandomLengthString(256);
  std::string target = input.ConsumeRandomLengthString(4096);
  if (flags & prefix_target) target = "http://127.0.0.1:1" + target;
  std::vector<std::pair<std::string, std::string>> fields;
  for (int i = 0; i < field_count; ++i) {
    std::string name = input.ConsumeRandomLengthString(1024);
    std::string value = input.ConsumeRandomLengthString(4096);
    fields.emplace_back(std::move(name), std::move(value));
  }
  std::string body = input.ConsumeRemainingBytesAsString();

  check_escaping(method, flags % 100);
  check_escaping(target, 80);
  for (const auto& [name, value] : fields) {
    check_escaping(name, 20);
    check_escaping(value, 80);
  }

  tunedhttp::Request request;
  const auto verb = http::string_to_verb(method);
  // make_request() calls Beast's prepare_payload(), which throws std::invalid_argument for a
  // TRACE with a body (Beast's rule; see README "Findings"): such a request is built by hand.
  if ((flags & use_make_request) && !(verb == http::verb::trace && !body.empty())) {
    request =
        tunedhttp::make_request(verb == http::verb::unknown ? http::verb::get : verb, target, body);
    if (verb == http::verb::unknown) request.method_string(method);
  } else {
    request.version(11);
    request.method_string(method);
    request.target(target);
    request.body() = body;
  }
  for (const auto& [name, value] : fields) {
    // Beast stores each length in 16 bits and throws std::length_error past it, by design.
    if (name.size() > tunedhttp::max_field_size || value.size() > tunedhttp::max_field_size) {
      continue;
    }
    if (flags & set_fields) {
      request.set(name, value);
    } else {
      request.insert(name, value);
    }
  }
  if (flags & prepare_payload) {
    try {
      request.prepare_payload();
    } catch (const std::invalid_argument&) {
      // Beast refuses a body on TRACE (its documented rule); the request stays as it was.
    }
  }

  const std::string problem = tunedhttp::request_problem(request);
  if (problem.empty()) {
    check_serialized(request);
  } else {
    if (problem.rfind("net/http: ", 0) != 0) __builtin_trap();
    if (has_control(problem)) __builtin_trap();  // a message quotes what it is about
  }
  return 0;
}
