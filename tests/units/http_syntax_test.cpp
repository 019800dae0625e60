// The request syntax rules (Go's httpguts) that the client, the command line, the loader and the
// mock server share: what passes, what is refused, and how refused text is shown.
#include <gtest/gtest.h>

#include <string>
#include <tunedhttp/http_syntax.hpp>

namespace tunedhttp {
namespace {

using namespace std::string_literals;

TEST(HttpSyntax, TokensAreRfc9110Tokens) {
  for (const char* good : {"GET", "X-Amz-Date", "a!#$%&'*+-.^_`|~z", "0"}) {
    EXPECT_TRUE(is_token(good)) << good;
  }
  for (const std::string& bad : {""s, "Bad Name"s, "X:"s, "a\r\nb"s, "(x)"s, "a\0b"s, "\x80"s}) {
    EXPECT_FALSE(is_token(bad)) << quote(bad);
  }
}

TEST(HttpSyntax, FieldValuesRefuseEveryControlButTab) {
  EXPECT_TRUE(is_valid_field_value(""));
  EXPECT_TRUE(is_valid_field_value("a\tb c"));
  EXPECT_TRUE(is_valid_field_value("caf\xc3\xa9"));  // obs-text, as Go allows
  for (const std::string& bad : {"a\r\nInj: 1"s, "a\nb"s, "a\rb"s, "a\0b"s, "a\x7f"s, "\x1b[2J"s}) {
    EXPECT_FALSE(is_valid_field_value(bad)) << quote(bad);
  }
}

TEST(HttpSyntax, FieldsLongerThanBeastHoldsAreRefused) {
  EXPECT_TRUE(is_valid_field_value(std::string(max_field_size, 'a')));
  EXPECT_FALSE(is_valid_field_value(std::string(max_field_size + 1, 'a')));
  EXPECT_TRUE(is_valid_field_name(std::string(max_field_size, 'a')));
  EXPECT_FALSE(is_valid_field_name(std::string(max_field_size + 1, 'a')));
}

TEST(HttpSyntax, ProblemsAreGosWordsNamingTheField) {
  EXPECT_EQ(field_problem("X-Ok", "fine"), "");
  EXPECT_EQ(field_problem("Bad Name", "v"), "net/http: invalid header field name \"Bad Name\"");
  EXPECT_EQ(
      field_problem("X", "a\r\nInj: 1").rfind("net/http: invalid header field value for \"X\"", 0),
      0u);
  EXPECT_NE(field_problem("X", std::string(70'000, 'v')).find("longer than 65533 bytes"),
            std::string::npos);
  EXPECT_EQ(method_problem("GET"), "");
  EXPECT_EQ(method_problem("G T"), "net/http: invalid method \"G T\"");
}

TEST(HttpSyntax, IpAddressesAreNumericOnly) {
  for (const char* good : {"127.0.0.1", "::1", "2001:db8::2"}) EXPECT_TRUE(is_ip_address(good));
  for (const char* bad : {"", "localhost", "[::1]", "127.0.0.1:80", "1.2.3"}) {
    EXPECT_FALSE(is_ip_address(bad)) << bad;
  }
}

TEST(HttpSyntax, TargetsHaveNoSpaceOrControl) {
  EXPECT_TRUE(is_valid_request_target("/a?b=c"));
  for (const std::string& bad : {""s, "/a b"s, "/a\r\nX: 1"s, "/\t"s}) {
    EXPECT_FALSE(is_valid_request_target(bad)) << quote(bad);
  }
}

TEST(HttpSyntax, QuotedAndPrintableTextCannotDriveATerminal) {
  EXPECT_EQ(quote("a\r\n\x1b[2J\"\\"), "\"a\\r\\n\\x1b[2J\\\"\\\\\"");
  EXPECT_EQ(quote("it's", 80, '\''), "'it\\'s'");
  EXPECT_EQ(quote(std::string(100, 'a'), 3), "\"aaa...\"");
  EXPECT_EQ(printable("name\x1b]0;pwned\x07 caf\xc3\xa9"), "name\\x1b]0;pwned\\x07 caf\xc3\xa9");
}

}  // namespace
}  // namespace tunedhttp
