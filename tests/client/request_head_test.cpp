// A request without a body, formatted in one buffer (client/src/request_head.hpp): byte for byte
// what Beast's serializer writes for the same message, one row per shape of request, except
// where Beast is wrong (a row then gives the bytes RFC 9112 asks for).
#include "request_head.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/write.hpp>
#include <sstream>

namespace tunedhttp::detail {
namespace {

namespace http = boost::beast::http;

struct HeadRow {
  const char* name;
  Request request;
  /// The bytes expected, when they are not what Beast writes.
  const char* unlike_beast = nullptr;
};

Request with_fields(Request request,
                    std::initializer_list<std::pair<const char*, const char*>> fields) {
  for (const auto& [name, value] : fields) request.set(name, value);
  return request;
}

Request chunked_post() {
  Request request{http::verb::post, "/upload", 11};
  request.set(http::field::host, "example.com");
  request.chunked(true);
  return request;
}

Request custom_method() {
  Request request{http::verb::unknown, "/dav/", 11};
  request.method_string("PROPFIND");
  request.set("Depth", "1");
  return request;
}

class RequestHead : public ::testing::TestWithParam<HeadRow> {};

TEST_P(RequestHead, IsWhatBeastWrites) {
  const Request& request = GetParam().request;
  std::ostringstream beast;
  beast << request;
  std::string ours = "stale bytes from the previous request";
  format_bodiless_request(request, ours);
  EXPECT_EQ(ours, GetParam().unlike_beast ? GetParam().unlike_beast : beast.str());
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, RequestHead,
    ::testing::Values(
        HeadRow{"get_without_fields", Request{http::verb::get, "/", 11}},
        HeadRow{"get_with_host_and_agent",
                with_fields(Request{http::verb::get, "/a/b?c=d", 11},
                            {{"Host", "127.0.0.1:8080"}, {"User-Agent", "tunedhttp/0.1"}})},
        HeadRow{"absolute_form_through_a_proxy",
                with_fields(Request{http::verb::get, "http://example.com/x", 11},
                            {{"Host", "example.com"}, {"Proxy-Authorization", "Basic dTpw"}})},
        HeadRow{"head_over_http_1_0",
                with_fields(Request{http::verb::head, "/", 10}, {{"Host", "h"}})},
        HeadRow{"delete_with_a_zero_length",
                with_fields(Request{http::verb::delete_, "/item/7", 11},
                            {{"Host", "h"}, {"Content-Length", "0"}, {"X-Empty", ""}})},
        // Beast 1.81 writes the last chunk twice ("0\r\n\r\n0\r\n\r\n") for an empty chunked
        // string body; the second would be read as the start of another request.
        HeadRow{"chunked_post_with_an_empty_body", chunked_post(),
                "POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
                "0\r\n\r\n"},
        HeadRow{"custom_method", custom_method()}),
    [](const ::testing::TestParamInfo<HeadRow>& test_info) { return test_info.param.name; });

// A request sent as it was given (the lean path): formatted with a WireForm, it is byte for
// byte the request rewritten the way the client rewrites it (target, then Host and User-Agent
// appended when absent), one row per shape.
struct WireRow {
  const char* name;
  Request request;
};

class WireFormHead : public ::testing::TestWithParam<WireRow> {};

TEST_P(WireFormHead, IsTheRewrittenRequest) {
  const WireForm wire{"/a?b=c", "example.com:8080", "tunedhttp/0.1"};
  Request rewritten = GetParam().request;
  rewritten.target(wire.target);
  if (rewritten.find(http::field::host) == rewritten.end()) {
    rewritten.set(http::field::host, wire.host);
  }
  if (rewritten.find(http::field::user_agent) == rewritten.end()) {
    rewritten.set(http::field::user_agent, wire.user_agent);
  }
  std::string expected;
  format_bodiless_request(rewritten, expected);
  std::string ours = "stale bytes from the previous request";
  format_bodiless_request(GetParam().request, wire, ours);
  EXPECT_EQ(ours, expected);
  // Nothing of the given request was changed.
  EXPECT_NE(GetParam().request.target(), wire.target);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, WireFormHead,
    ::testing::Values(
        WireRow{"bare_get", Request{http::verb::get, "http://example.com:8080/a?b=c", 11}},
        WireRow{"own_host_kept",
                with_fields(Request{http::verb::get, "http://example.com:8080/a?b=c", 11},
                            {{"Host", "virtual.example"}})},
        WireRow{"own_agent_kept_and_other_fields",
                with_fields(Request{http::verb::delete_, "http://example.com:8080/a?b=c", 11},
                            {{"User-Agent", "curl/7.88"}, {"X-Trace", "1"}, {"Accept", "*/*"}})},
        WireRow{"head_over_http_1_0", Request{http::verb::head, "http://example.com:8080/", 10}}),
    [](const ::testing::TestParamInfo<WireRow>& test_info) { return test_info.param.name; });

}  // namespace
}  // namespace tunedhttp::detail
