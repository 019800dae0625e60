// The client refuses what it must never put on the wire (Go's httpguts rules): a request whose
// method, header name or value breaks RFC 9110 fails with invalid_request (a bad target with
// invalid_url, as in Go) before any connection is made; bad TLS options are an error value, never
// an exception.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <tunedhttp/client.hpp>

#include "client_fixture.hpp"

namespace tunedhttp::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::string_literals;

/// A listening socket nobody accepts on: it tells whether anyone tried to connect.
class ListeningPort {
 public:
  ListeningPort() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    acceptor_.non_blocking(true);
  }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  bool anyone_connected() {
    boost::system::error_code error;
    tcp::socket socket(io_);
    acceptor_.accept(socket, error);
    return !error;
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
};

struct BadRequest {
  const char* name;
  std::function<void(Request&)> spoil;
  const char* problem;  ///< a part of request_problem()'s text
  errc error = errc::invalid_request;
};

const BadRequest bad_requests[] = {
    {"value with CR LF", [](Request& r) { r.insert("X", "a\r\nInj: 1"); },
     "invalid header field value for \"X\""},
    {"value with a bare LF", [](Request& r) { r.insert("X", "a\nb"); },
     "invalid header field value for \"X\""},
    {"value with NUL", [](Request& r) { r.insert("X", "a\0b"s); },
     "invalid header field value for \"X\""},
    {"name with a space", [](Request& r) { r.insert("Bad Name", "v"); },
     "invalid header field name \"Bad Name\""},
    {"name with a colon", [](Request& r) { r.insert("X:Y", "v"); },
     "invalid header field name \"X:Y\""},
    {"Host with CR LF", [](Request& r) { r.set(http::field::host, "h\r\nInj: 1"); },
     "invalid header field value for \"Host\""},
    {"method with a space", [](Request& r) { r.method_string("G T"); }, "invalid method \"G T\""},
    {"method with CR LF", [](Request& r) { r.method_string("GET\r\nX"); }, "invalid method"},
    {"TRACE with a body",
     [](Request& r) {
       r.method(http::verb::trace);
       r.body() = "x";
     },
     "a TRACE request cannot have a body"},
    {"target with CR LF", [](Request& r) { r.target(std::string(r.target()) + "a\r\nInj: 1"); },
     "invalid request URL", errc::invalid_url},
    {"target with a space", [](Request& r) { r.target(std::string(r.target()) + "a b"); },
     "invalid request URL", errc::invalid_url},
};

class InvalidRequest : public ::testing::TestWithParam<BadRequest> {};

TEST_P(InvalidRequest, FailsBeforeAnyConnectionNamingTheField) {
  ListeningPort port;
  Request request = get(port.url());
  GetParam().spoil(request);
  EXPECT_NE(request_problem(request).find(GetParam().problem), std::string::npos)
      << "got " << request_problem(request) << "; want it to say " << GetParam().problem;

  ClientFixture fixture;
  const auto outcome = fixture.request(request, std::chrono::seconds{5});
  ASSERT_TRUE(outcome.completed);
  EXPECT_EQ(outcome.error, GetParam().error) << outcome.error.message();
  EXPECT_FALSE(port.anyone_connected()) << "an invalid request must not dial";
  EXPECT_TRUE(fixture.events(TracePoint::dial_start).empty());
}

INSTANTIATE_TEST_SUITE_P(Client, InvalidRequest, ::testing::ValuesIn(bad_requests),
                         [](const auto& test_info) {
                           std::string name = test_info.param.name;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(RequestProblem, MakeRequestNeverThrowsForATraceWithABody) {
  Request request;
  ASSERT_NO_THROW(request = make_request(http::verb::trace, "http://127.0.0.1:1/", "body"));
  EXPECT_NE(request_problem(request), "");
}

TEST(RequestProblem, AValidRequestHasNone) {
  Request request = make_request(http::verb::put, "http://example.com:8080/a?b=c", "body");
  request.set("X-Amz-Date", "20261130T000000Z");
  request.set("X-Tab", "a\tb");
  request.method_string("PROPFIND");
  EXPECT_EQ(request_problem(request), "");
}

// A CA file that holds no certificate: once an abort from the constructor.
class BadCaFile : public ::testing::TestWithParam<std::string> {};

TEST_P(BadCaFile, IsAnErrorValueAndOnlyHttpsRequestsFail) {
  const std::string path = ::testing::TempDir() + "tunedhttp-bad-ca.pem";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << GetParam();
  }
  asio::io_context io;
  ClientOptions options;
  options.tls.ca_file = path;
  boost::system::error_code ec;
  std::unique_ptr<Client> client;
  ASSERT_NO_THROW(client = std::make_unique<Client>(io.get_executor(), options, ec));
  EXPECT_TRUE(ec) << "want the constructor to report the bad CA file";
  EXPECT_EQ(client->setup_error(), ec);

  ListeningPort port;
  std::optional<boost::system::error_code> https_error, http_error;
  client->async_request(make_request(http::verb::get, "https://127.0.0.1:1/"),
                        [&](boost::system::error_code e, Response) { https_error = e; });
  Request plain = get(port.url());
  plain.set(http::field::connection, "close");
  client->async_request(std::move(plain),
                        [&](boost::system::error_code e, Response) { http_error = e; });
  io.run_for(std::chrono::milliseconds{300});
  ASSERT_TRUE(https_error);
  EXPECT_EQ(*https_error, errc::invalid_tls_options) << https_error->message();
  EXPECT_TRUE(port.anyone_connected()) << "an http request does not need the CA and still dials";
  std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(Client, BadCaFile,
                         ::testing::Values(""s, "not a certificate\n"s,
                                           "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                           "-----END CERTIFICATE-----\n"s));

}  // namespace
}  // namespace tunedhttp::testing
