#pragma once
// HTTP/1.1 request syntax (RFC 9110), checked the way Go's httpguts checks a request before it
// is written: a method or field name is a token, a field value holds no control character but
// horizontal tab. One place for these rules: the client refuses a request that breaks them, and
// the command line, the scenario loader and the mock server reject such input the same way.

#include <cstddef>
#include <string>
#include <string_view>

namespace tunedhttp {

/// The longest header field name or value one field can hold (Boost.Beast stores each length
/// in 16 bits, with two bytes of its own).
inline constexpr std::size_t max_field_size = 65533;

/// RFC 9110 tchar: ALPHA, DIGIT or one of "!#$%&'*+-.^_`|~". For tables built at compile time
/// (the client's response quick path); is_token() is the check to call.
constexpr bool is_token_char(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

/// RFC 9110 token: one or more tchar (is_token_char). Methods and field names.
bool is_token(std::string_view text);

/// Go's httpguts.ValidHeaderFieldName, and no longer than max_field_size.
bool is_valid_field_name(std::string_view name);

/// Go's httpguts.ValidHeaderFieldValue (no byte below 0x20 but HTAB, no DEL; obs-text allowed),
/// and no longer than max_field_size. CR and LF are refused, so a value cannot add a line.
bool is_valid_field_value(std::string_view value);

/// A request target in origin form or a path: not empty, no space, no control character.
bool is_valid_request_target(std::string_view target);

/// A numeric IPv4 or IPv6 address ("127.0.0.1", "::1"; no brackets, no port, no name).
bool is_ip_address(std::string_view text);

/// What is wrong with the header `name: value`, in Go's words
/// (`net/http: invalid header field name "Bad Name"`), or empty when the field is valid.
std::string field_problem(std::string_view name, std::string_view value);

/// What is wrong with a method, in Go's words (`net/http: invalid method "G T"`), or empty.
std::string method_problem(std::string_view method);

/// `text` between `mark` characters with control characters, the quote, backslashes and bytes
/// of 0x80 and above escaped (\r, \n, \t, \x1b, ...), as Go's %q writes it: safe on a
/// terminal, and at most `limit` characters of the text are shown ("..." marks the cut).
std::string quote(std::string_view text, std::size_t limit = 80, char mark = '"');

/// `text` with control characters escaped as in quote(), without the quotes or a limit: for
/// printing text a file supplied (a scenario's name) to a terminal.
std::string printable(std::string_view text);

}  // namespace tunedhttp
