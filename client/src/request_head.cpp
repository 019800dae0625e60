#include "request_head.hpp"

namespace tunedhttp::detail {

namespace {

void append(std::string& out, boost::beast::string_view text) {
  out.append(text.data(), text.size());
}

// One formatter for both: `wire` null sends the request as it is.
void format(const Request& request, const WireForm* wire, std::string& out) {
  out.clear();
  append(out, request.method_string());
  out += ' ';
  if (wire) {
    out += wire->target;
  } else {
    append(out, request.target());
  }
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
  // In the order prepare_request adds them (Beast appends a new field last).
  if (wire && request.find(boost::beast::http::field::host) == request.end()) {
    out += "Host: ";
    out += wire->host;
    out += "\r\n";
  }
  if (wire && request.find(boost::beast::http::field::user_agent) == request.end()) {
    out += "User-Agent: ";
    out += wire->user_agent;
    out += "\r\n";
  }
  out += "\r\n";
  // An empty chunked body is its last chunk alone (no trailer fields).
  if (request.chunked()) out += "0\r\n\r\n";
}

}  // namespace

void format_bodiless_request(const Request& request, std::string& out) {
  format(request, nullptr, out);
}

void format_bodiless_request(const Request& request, const WireForm& wire, std::string& out) {
  format(request, &wire, out);
}

}  // namespace tunedhttp::detail
