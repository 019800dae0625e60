#pragma once
// curl as a client nobody here wrote: one run of it, with its own timings and codes.

#include <sstream>
#include <string>
#include <tunedhttp/test_support/process.hpp>
#include <vector>

#include "test_support.hpp"

namespace tunedhttp::mockserver::testing {

struct CurlResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  /// curl's own timings (-w), in seconds.
  double connect = 0;
  double tls = 0;
  double first_byte = 0;
  double total = 0;
  int status = 0;
  int connect_status = 0;  ///< the proxy's answer to CONNECT (%{http_connect}), 0 without one
};

#ifdef TUNEDHTTP_CURL
/// Runs curl with `args` (the body goes to /dev/null), for at most 10 s.
inline CurlResult curl(std::vector<std::string> args) {
  args.insert(args.begin(),
              {TUNEDHTTP_CURL, "--silent", "--show-error", "--output", "/dev/null", "--write-out",
               "%{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total} "
               "%{http_code} %{http_connect}"});
  test_support::Process process{args};
  CurlResult result;
  result.exit_code = process.wait(Clock::now() + 10s);
  result.out = process.out();
  result.err = process.err();
  std::istringstream{result.out} >> result.connect >> result.tls >> result.first_byte >>
      result.total >> result.status >> result.connect_status;
  return result;
}
#define SKIP_WITHOUT_CURL() \
  do {                      \
  } while (false)
#else
inline CurlResult curl(std::vector<std::string>) { return {}; }
#define SKIP_WITHOUT_CURL() GTEST_SKIP() << "curl not found at configure time"
#endif

inline Clock::duration seconds(double value) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value));
}

inline constexpr int curl_timed_out = 28;  // CURLE_OPERATION_TIMEDOUT

/// curl's own timers (--connect-timeout, --max-time, --expect100-timeout) may fire a
/// millisecond or so before their time by curl's own clock; what matters here is that the stall
/// outlasted them.
inline constexpr auto curl_granularity = 10ms;
inline void expect_curl_timed_out(const CurlResult& result, Clock::duration limit,
                                  const char* what) {
  EXPECT_EQ(result.exit_code, curl_timed_out) << what << ": " << result.err;
  expect_elapsed(seconds(result.total) + curl_granularity, limit, what);
}

}  // namespace tunedhttp::mockserver::testing
