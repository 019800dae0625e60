#include "quick_response.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <cstring>
#include <iterator>
#include <tunedhttp/http_syntax.hpp>

namespace tunedhttp::detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

// What a byte is in a field value or a reason: visible (VCHAR, no obs-text here), blank (SP,
// HTAB), the CR that ends the line, or anything else (the quick path declines).
enum class ValueByte : unsigned char { other, visible, blank, cr };

constexpr std::array<ValueByte, 256> value_bytes = [] {
  std::array<ValueByte, 256> table{};
  for (int c = '!'; c <= '~'; ++c) table[c] = ValueByte::visible;
  table[' '] = ValueByte::blank;
  table['\t'] = ValueByte::blank;
  table['\r'] = ValueByte::cr;
  return table;
}();

ValueByte value_byte(char c) { return value_bytes[static_cast<unsigned char>(c)]; }
bool is_blank(char c) { return value_byte(c) == ValueByte::blank; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The fields whose values Beast's parser acts on (do_field), told apart by their names alone.
enum class Framing { content_length, connection, refused, none };

// A field name the quick path knows: its lowercase spelling, Beast's enum for it, and what it
// means to the framing.
struct KnownName {
  std::string_view lowercase;
  http::field field;
  Framing framing;
};

// The names Beast's parser acts on, and the ones most responses carry. Knowing their enum here
// saves string_to_field's hash and compare (about 110 instructions a name, callgrind) at the
// fill; any other name is still looked up there, so the message is Beast's either way.
constexpr KnownName known_names[] = {
    {"content-length", http::field::content_length, Framing::content_length},
    {"content-type", http::field::content_type, Framing::none},
    {"connection", http::field::connection, Framing::connection},
    {"date", http::field::date, Framing::none},
    {"server", http::field::server, Framing::none},
    {"transfer-encoding", http::field::transfer_encoding, Framing::refused},
    {"upgrade", http::field::upgrade, Framing::refused},
    {"proxy-connection", http::field::proxy_connection, Framing::refused},
    {"keep-alive", http::field::keep_alive, Framing::none},
    {"cache-control", http::field::cache_control, Framing::none},
    {"etag", http::field::etag, Framing::none},
    {"last-modified", http::field::last_modified, Framing::none},
    {"content-encoding", http::field::content_encoding, Framing::none},
    {"vary", http::field::vary, Framing::none},
    {"accept-ranges", http::field::accept_ranges, Framing::none},
    {"expires", http::field::expires, Framing::none},
    {"location", http::field::location, Framing::none},
    {"set-cookie", http::field::set_cookie, Framing::none},
};

constexpr bool lowercase_letters_and_dashes(std::string_view name) {
  for (const char c : name) {
    if (c != '-' && (c < 'a' || c > 'z')) return false;
  }
  return true;
}

static_assert(std::all_of(std::begin(known_names), std::end(known_names),
                          [](const KnownName& known) {
                            return lowercase_letters_and_dashes(known.lowercase);
                          }),
              "token_is() compares only lowercase letters and dashes exactly");

// Whether `name`, a token (is_token), is `lowercase` (letters and dashes) in any case. A byte
// ORed with 0x20 is a letter's lowercase for either case of that letter, and '-' only for '-'
// or CR, which is no token byte: so the compare is exact, eight bytes at a time. (Beast's
// iequals goes byte by byte once the case differs, about 100 instructions for "Content-Length"
// against its lowercase.)
bool token_is(std::string_view name, std::string_view lowercase) {
  const std::size_t size = name.size();
  if (size != lowercase.size()) return false;
  constexpr std::uint64_t to_lower = 0x2020202020202020;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t sent = 0;
    std::uint64_t known = 0;
    std::memcpy(&sent, name.data() + i, 8);
    std::memcpy(&known, lowercase.data() + i, 8);
    if ((sent | to_lower) != known) return false;
  }
  for (; i < size; ++i) {
    if ((name[i] | 0x20) != lowercase[i]) return false;
  }
  return true;
}

// `name` must be a token.
const KnownName* known_name(std::string_view name) {
  for (const auto& known : known_names) {
    if (token_is(name, known.lowercase)) return &known;
  }
  return nullptr;
}

// One field line as the quick path takes it.
struct FieldLine {
  std::string_view name;
  std::string_view value;  ///< without the OWS around it
  std::size_t size = 0;    ///< the line with its CRLF
};

// The field line at the start of `rest`, or nullopt when it is not `token ":" OWS value OWS CRLF`
// with a visible, non-empty value (or its CRLF is not in `rest`).
std::optional<FieldLine> field_line(std::string_view rest) {
  // A token has no ':', so the first one ends the name; anything else before it (a blank, a CR)
  // is not a token, and is_token (units/http_syntax.hpp, the client's own check of request
  // fields) refuses it.
  std::size_t i = rest.find(':');
  if (i == std::string_view::npos || !is_token(rest.substr(0, i))) return std::nullopt;
  FieldLine line;
  line.name = rest.substr(0, i);
  ++i;
  while (i < rest.size() && is_blank(rest[i])) ++i;
  const std::size_t value_start = i;
  std::size_t value_end = i;  // past the last visible byte
  for (; i < rest.size(); ++i) {
    const ValueByte kind = value_byte(rest[i]);
    if (kind == ValueByte::visible) {
      value_end = i + 1;
    } else if (kind != ValueByte::blank) {
      break;
    }
  }
  if (value_end == value_start || i + 1 >= rest.size() || rest[i] != '\r' || rest[i + 1] != '\n') {
    return std::nullopt;
  }
  line.value = rest.substr(value_start, value_end - value_start);
  line.size = i + 2;
  return line;
}

// The status line's size when `bytes` begin with one the quick path takes, else 0.
std::size_t status_line(std::string_view bytes, QuickHead& head) {
  // "HTTP/1.x" SP 3DIGIT SP reason CRLF
  if (bytes.size() < 13 || bytes.substr(0, 7) != "HTTP/1." ||
      (bytes[7] != '0' && bytes[7] != '1') || bytes[8] != ' ' || !is_digit(bytes[9]) ||
      !is_digit(bytes[10]) || !is_digit(bytes[11]) || bytes[12] != ' ') {
    return 0;
  }
  head.version = bytes[7] == '1' ? 11 : 10;
  head.status =
      static_cast<unsigned>((bytes[9] - '0') * 100 + (bytes[10] - '0') * 10 + (bytes[11] - '0'));
  // 1xx, 204 and 304 have no body (and 101 switches protocols): Beast's parser's.
  if (head.status < 200 || head.status > 599 || head.status == 204 || head.status == 304) return 0;
  std::size_t i = 13;
  while (i < bytes.size() && value_byte(bytes[i]) != ValueByte::other &&
         value_byte(bytes[i]) != ValueByte::cr) {
    ++i;
  }
  if (i + 1 >= bytes.size() || bytes[i] != '\r' || bytes[i + 1] != '\n') return 0;
  head.reason = bytes.substr(13, i - 13);  // as Beast's: all of it, blanks included
  return i + 2;
}

}  // namespace

bool scan_quick_response(std::string_view bytes, std::uint32_t header_limit,
                         std::optional<std::uint64_t> body_limit, QuickHead& head) {
  // Offsets are 32 bits: a head is within header_limit, and only its fields are recorded.
  const std::size_t first_line = status_line(bytes, head);
  if (first_line == 0) return false;
  std::string_view rest = bytes.substr(first_line);
  bool has_length = false;
  bool has_connection = false;
  bool close = false;
  bool keep_alive_token = false;
  for (;;) {
    if (rest.size() >= 2 && rest[0] == '\r' && rest[1] == '\n') break;  // the empty line
    const auto line = field_line(rest);
    if (!line) return false;
    rest.remove_prefix(line->size);
    if (head.field_count == QuickHead::max_fields) return false;
    const auto offset = [&](std::string_view part) {
      return static_cast<std::uint32_t>(part.data() - bytes.data());
    };
    const KnownName* const known = known_name(line->name);
    head.fields[head.field_count++] = QuickHead::Field{
        offset(line->name), static_cast<std::uint32_t>(line->name.size()), offset(line->value),
        static_cast<std::uint32_t>(line->value.size()),
        known ? static_cast<std::uint32_t>(known->field) : QuickHead::Field::look_up};
    switch (known ? known->framing : Framing::none) {
      case Framing::content_length: {
        if (has_length || line->value.size() > 18) return false;  // 18 digits: no overflow
        for (const char c : line->value) {
          if (!is_digit(c)) return false;
          head.content_length = head.content_length * 10 + static_cast<unsigned>(c - '0');
        }
        has_length = true;
        break;
      }
      case Framing::connection:
        if (has_connection) return false;
        has_connection = true;
        close = beast::iequals(line->value, "close");
        keep_alive_token = beast::iequals(line->value, "keep-alive");
        if (!close && !keep_alive_token) return false;
        break;
      case Framing::refused:
        return false;
      case Framing::none:
        break;
    }
  }
  head.head_size = bytes.size() - rest.size() + 2;
  if (!has_length || head.head_size >= header_limit) return false;
  if (body_limit && head.content_length > *body_limit) return false;
  if (head.content_length > bytes.size() - head.head_size) return false;  // not all here
  head.keep_alive = head.version == 11 ? !close : keep_alive_token;
  return true;
}

void fill_quick_response(std::string_view bytes, const QuickHead& head,
                         http::response<http::string_body>& message) {
  // As Beast's parser's on_response_impl, then on_field_impl per field.
  message.result(head.status);
  message.version(head.version);
  message.reason(head.reason);
  for (std::size_t i = 0; i < head.field_count; ++i) {
    const auto& field = head.fields[i];
    const auto name = bytes.substr(field.name_at, field.name_size);
    const auto known = field.known == QuickHead::Field::look_up
                           ? http::string_to_field(name)
                           : static_cast<http::field>(field.known);
    message.insert(known, name, bytes.substr(field.value_at, field.value_size));
  }
  message.body().assign(bytes.data() + head.head_size,
                        static_cast<std::size_t>(head.content_length));
}

http::field quick_field_of(std::string_view name) {
  const KnownName* const known = is_token(name) ? known_name(name) : nullptr;
  return known ? known->field : http::string_to_field(name);
}

}  // namespace tunedhttp::detail
