// Reproducing a stall in a unit test: pin your client's response_header timeout against a server
// that holds its response headers (a long-running call), with its twin that must succeed.
#include <chrono>
#include <tunedhttp/testing/fixture.hpp>

namespace {

using namespace std::chrono_literals;

// Your fixture: tunedhttp::testing::MockServerTest runs the mock server on its own thread.
class LongRunningCallTest : public tunedhttp::testing::MockServerTest {
 protected:
  // Your production settings would come from your own code; here only response_header matters.
  static tunedhttp::Settings settings() {
    tunedhttp::Settings settings;
    settings.response_header = 200ms;
    return settings;
  }
};

TEST_F(LongRunningCallTest, response_header_fires_when_headers_are_held) {
  start_server({"hold-headers=2s"});  // the server sends the headers after 2 s
  use_client(settings());
  // Fails with response_header_timeout 200 ms after the request was written, never earlier.
  EXPECT_FAILS_WITH_TIMEOUT(get("/invoke"), tunedhttp::errc::response_header_timeout, 200ms);
}

TEST_F(LongRunningCallTest, succeeds_when_headers_come_within_the_limit) {
  start_server({"hold-headers=50ms"});  // inside the limit: the twin must succeed
  use_client(settings());
  EXPECT_SUCCEEDS(get("/invoke"));
}

}  // namespace
