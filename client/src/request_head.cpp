#include "request_head.hpp"

namespace tunedhttp::detail {

namespace {

void append(std::string& out, boost::beast::string_view text) {
  out.append(text.data(), text.size());
}

}  // namespace

void format_bodiless_request(const Request& request, std::string& out) {
  out.clear();
  append(out, request.method_string());
  out += ' ';
  append(out, request.target());
  // As Beast writes it: the version's two digits (11 is "1.1").
  out += " HTTP/";
  out += static_cast<char>('0' + request.version() / 10);
  out += '.';
  out += static_cast<char>('0' + request.version() % 10);
  out += "\r\n";
  for (const auto& field : request) {
    append(out, field.name_string());
    out += ": ";
    append(out, field.value());
    out += "\r\n";
  }
  out += "\r\n";
  // An empty chunked body is its last chunk alone (no trailer fields).
  if (request.chunked()) out += "0\r\n\r\n";
}

}  // namespace tunedhttp::detail
