#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <tunedhttp/http_syntax.hpp>

namespace tunedhttp {
namespace {

// is_token_char as a table: every request's field names are checked a byte at a time.
constexpr std::array<bool, 256> token_chars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = is_token_char(static_cast<unsigned char>(c));
  return table;
}();

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

void append_escaped(std::string& out, unsigned char c) {
  switch (c) {
    case '\r':
      out += "\\r";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\\':
      out += "\\\\";
      return;
    default:
      break;
  }
  if (is_control(c) || c >= 0x80) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(c));
    out += hex;
    return;
  }
  out += static_cast<char>(c);
}

}  // namespace

bool is_token(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return token_chars[c]; });
}

bool is_valid_field_name(std::string_view name) {
  return name.size() <= max_field_size && is_token(name);
}

bool is_valid_field_value(std::string_view value) {
  return value.size() <= max_field_size &&
         std::none_of(value.begin(), value.end(),
                      [](unsigned char c) { return c != '\t' && is_control(c); });
}

bool is_valid_request_target(std::string_view target) {
  return !target.empty() && std::none_of(target.begin(), target.end(),
                                         [](unsigned char c) { return c == ' ' || is_control(c); });
}

bool is_ip_address(std::string_view text) {
  const std::string terminated(text);
  in6_addr address{};
  return ::inet_pton(AF_INET, terminated.c_str(), &address) == 1 ||
         ::inet_pton(AF_INET6, terminated.c_str(), &address) == 1;
}

std::string field_problem(std::string_view name, std::string_view value) {
  if (name.size() > max_field_size) {
    return "net/http: header field name " + quote(name, 20) + " is longer than " +
           std::to_string(max_field_size) + " bytes";
  }
  if (!is_token(name)) return "net/http: invalid header field name " + quote(name);
  if (value.size() > max_field_size) {
    return "net/http: header field value for " + quote(name) + " is longer than " +
           std::to_string(max_field_size) + " bytes";
  }
  if (!is_valid_field_value(value)) {
    return "net/http: invalid header field value for " + quote(name) +
           " (control characters such as CR or LF are not allowed)";
  }
  return {};
}

std::string method_problem(std::string_view method) {
  if (is_token(method) && method.size() <= max_field_size) return {};
  return "net/http: invalid method " + quote(method);
}

std::string quote(std::string_view text, std::size_t limit, char mark) {
  std::string out(1, mark);
  const std::size_t shown = std::min(text.size(), limit);
  for (std::size_t i = 0; i < shown; ++i) {
    if (text[i] == mark) out += '\\';
    append_escaped(out, static_cast<unsigned char>(text[i]));
  }
  if (shown < text.size()) out += "...";
  out += mark;
  return out;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    // Bytes of 0x80 and above pass: names may be UTF-8; only controls can drive a terminal.
    if (!is_control(byte)) {
      out += c;
    } else {
      append_escaped(out, byte);
    }
  }
  return out;
}

}  // namespace tunedhttp
