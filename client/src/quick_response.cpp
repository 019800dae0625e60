#include "quick_response.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <cstring>
#include <iterator>
#include <tunedhttp/http_syntax.hpp>

namespace tunedhttp::detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

// What a byte is to the scan, as bits: one table lookup per byte. A token byte (is_token_char)
// may be in a field name; a visible one (VCHAR, no obs-text here) or a blank (SP, HTAB) in a
// value or a reason. Anything else (CR, LF, controls, non-ASCII) ends what is being scanned.
enum ByteClass : unsigned char { token_byte = 1, visible_byte = 2, blank_byte = 4 };

constexpr std::array<unsigned char, 256> byte_classes = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 256; ++c) {
    if (is_token_char(static_cast<unsigned char>(c))) table[c] |= token_byte;
    if (c >= '!' && c <= '~') table[c] |= visible_byte;
  }
  table[' '] = blank_byte;
  table['\t'] = blank_byte;
  return table;
}();

unsigned char byte_class(char c) { return byte_classes[static_cast<unsigned char>(c)]; }
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
  // Words of 8 (or 4) bytes; the last one overlaps the one before when the size is not a
  // multiple, which compares a few bytes twice rather than any byte by byte.
  const auto same = [&](std::size_t at, auto word) {
    decltype(word) sent = 0;
    decltype(word) known = 0;
    std::memcpy(&sent, name.data() + at, sizeof word);
    std::memcpy(&known, lowercase.data() + at, sizeof word);
    return (sent | static_cast<decltype(word)>(0x2020202020202020)) == known;
  };
  if (size >= 8) {
    for (std::size_t at = 0; at + 8 < size; at += 8) {
      if (!same(at, std::uint64_t{})) return false;
    }
    return same(size - 8, std::uint64_t{});
  }
  if (size >= 4) return same(0, std::uint32_t{}) && same(size - 4, std::uint32_t{});
  for (std::size_t i = 0; i < size; ++i) {
    if ((name[i] | 0x20) != lowercase[i]) return false;
  }
  return true;
}

// known_names by the size of their names, so that a name is compared with at most three.
constexpr std::size_t longest_known_name = 17;
constexpr std::size_t most_known_of_a_size = 3;
using KnownBySize =
    std::array<std::array<const KnownName*, most_known_of_a_size>, longest_known_name + 1>;
constexpr KnownBySize known_by_size = [] {
  KnownBySize table{};
  for (const auto& known : known_names) {
    auto& same_size = table[known.lowercase.size()];
    std::size_t slot = 0;
    while (same_size[slot] != nullptr) ++slot;  // past the end: not a constant expression
    same_size[slot] = &known;
  }
  return table;
}();

// `name` must be a token.
const KnownName* known_name(std::string_view name) {
  if (name.size() > longest_known_name) return nullptr;
  for (const KnownName* known : known_by_size[name.size()]) {
    if (known == nullptr) break;
    if (token_is(name, known->lowercase)) return known;
  }
  return nullptr;
}

// One field line as the quick path takes it.
struct FieldLine {
  std::string_view name;
  std::string_view value;  ///< without the OWS around it
};

// The field line at `at`, if it is `token ":" OWS value OWS CRLF` with a visible, non-empty value
// and its CRLF is before `end`: returns where the next line starts, else null.
const char* field_line(const char* at, const char* end, FieldLine& line) {
  // A token has no ':', so the first byte that is not a token byte must be the ':'.
  const char* p = at;
  while (p < end && (byte_class(*p) & token_byte) != 0) ++p;
  if (p == at || p == end || *p != ':') return nullptr;
  line.name = std::string_view(at, static_cast<std::size_t>(p - at));
  ++p;
  while (p < end && byte_class(*p) == blank_byte) ++p;
  const char* const value_start = p;
  const char* value_end = p;  // past the last visible byte
  for (; p < end; ++p) {
    const unsigned char kind = byte_class(*p);
    if ((kind & visible_byte) != 0) {
      value_end = p + 1;
    } else if (kind != blank_byte) {
      break;
    }
  }
  if (value_end == value_start || end - p < 2 || p[0] != '\r' || p[1] != '\n') return nullptr;
  line.value = std::string_view(value_start, static_cast<std::size_t>(value_end - value_start));
  return p + 2;
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
  while (i < bytes.size() && (byte_class(bytes[i]) & (visible_byte | blank_byte)) != 0) ++i;
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
  const char* const begin = bytes.data();
  const char* const end = begin + bytes.size();
  const char* at = begin + first_line;
  bool has_length = false;
  bool has_connection = false;
  bool close = false;
  bool keep_alive_token = false;
  for (;;) {
    if (end - at >= 2 && at[0] == '\r' && at[1] == '\n') break;  // the empty line
    FieldLine line;
    at = field_line(at, end, line);
    if (at == nullptr || head.field_count == QuickHead::max_fields) return false;
    const auto offset = [begin](std::string_view part) {
      return static_cast<std::uint32_t>(part.data() - begin);
    };
    const KnownName* const known = known_name(line.name);
    head.fields[head.field_count++] = QuickHead::Field{
        offset(line.name), static_cast<std::uint32_t>(line.name.size()), offset(line.value),
        static_cast<std::uint32_t>(line.value.size()), known ? known->field : http::field::unknown};
    switch (known ? known->framing : Framing::none) {
      case Framing::content_length: {
        if (has_length || line.value.size() > 18) return false;  // 18 digits: no overflow
        for (const char c : line.value) {
          if (!is_digit(c)) return false;
          head.content_length = head.content_length * 10 + static_cast<unsigned>(c - '0');
        }
        has_length = true;
        break;
      }
      case Framing::connection:
        if (has_connection) return false;
        has_connection = true;
        close = beast::iequals(line.value, "close");
        keep_alive_token = beast::iequals(line.value, "keep-alive");
        if (!close && !keep_alive_token) return false;
        break;
      case Framing::refused:
        return false;
      case Framing::none:
        break;
    }
  }
  head.head_size = static_cast<std::size_t>(at - begin) + 2;
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
  // Beast answers reason() with the status's standard text when none is stored, so storing
  // that same text changes nothing anyone can read, and would cost an allocation (about 200
  // instructions): "200 OK" is most responses.
  if (head.reason != http::obsolete_reason(static_cast<http::status>(head.status))) {
    message.reason(head.reason);
  }
  for (std::size_t i = 0; i < head.field_count; ++i) {
    const auto& field = head.fields[i];
    const auto name = bytes.substr(field.name_at, field.name_size);
    const auto known =
        field.known != http::field::unknown ? field.known : http::string_to_field(name);
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
