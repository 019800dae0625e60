// `tunedhttp serve` as a subprocess, driven by curl: each of the four stalls shown to a client
// nobody here wrote; bad SPECs exit 2; SIGTERM exits 0 and leaves no temporary file.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "test_support.hpp"

extern char** environ;

namespace tunedhttp::mockserver::testing {
namespace {

/// A child process with stdout and stderr on pipes; killed and reaped if still running at the
/// end, so no test leaks a process or a descriptor.
class Process {
 public:
  explicit Process(const std::vector<std::string>& argv) {
    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe: " << std::strerror(errno);
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int error = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    stdout_ = out[0];
    stderr_ = err[0];
    if (error != 0) {
      pid_ = -1;
      ADD_FAILURE() << "spawn " << argv[0] << ": " << std::strerror(error);
    }
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
    if (stderr_ >= 0) ::close(stderr_);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// The next stdout line (without '\n'), or nullopt at the deadline or end of output.
  std::optional<std::string> read_line(Clock::time_point deadline) {
    for (;;) {
      if (auto end = out_.find('\n'); end != std::string::npos) {
        auto line = out_.substr(0, end);
        out_.erase(0, end + 1);
        return line;
      }
      if (!read_more(stdout_, out_, deadline)) return std::nullopt;
    }
  }

  void signal(int number) { ::kill(pid_, number); }

  /// Waits for the exit (reading both pipes to their end); returns the exit code, or -1 if the
  /// deadline passed, -2 - signal if killed by a signal.
  int wait(Clock::time_point deadline) {
    while (read_more(stdout_, out_, deadline)) {
    }
    while (read_more(stderr_, err_, deadline)) {
    }
    if (Clock::now() >= deadline) return -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return -2 - WTERMSIG(status);
  }

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  /// Reads what is there (waiting until the deadline); false at end of file or deadline.
  static bool read_more(int fd, std::string& into, Clock::time_point deadline) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd waiting{fd, POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(left)) != 1) return false;
    char chunk[4096];
    const auto n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    into.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  std::string out_;
  std::string err_;
};

/// `tunedhttp serve ARGS...`, its URL (and CA path) read from stdout.
class Serve {
 public:
  explicit Serve(std::vector<std::string> args, bool tls = false) : process_(command(args)) {
    url = process_.read_line(Clock::now() + 5s).value_or("");
    if (tls) ca_path = process_.read_line(Clock::now() + 5s).value_or("");
  }
  static std::vector<std::string> command(std::vector<std::string> args) {
    args.insert(args.begin(), {TUNEDHTTP_PROGRAM, "serve"});
    return args;
  }
  Process& process() { return process_; }
  std::string url;
  std::string ca_path;

 private:
  Process process_;
};

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
};

#ifdef TUNEDHTTP_CURL
CurlResult curl(std::vector<std::string> args) {
  args.insert(args.begin(),
              {TUNEDHTTP_CURL, "--silent", "--show-error", "--output", "/dev/null", "--write-out",
               "%{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total} "
               "%{http_code}"});
  Process process{args};
  CurlResult result;
  result.exit_code = process.wait(Clock::now() + 10s);
  result.out = process.out();
  result.err = process.err();
  std::istringstream{result.out} >> result.connect >> result.tls >> result.first_byte >>
      result.total >> result.status;
  return result;
}
#define SKIP_WITHOUT_CURL() \
  do {                      \
  } while (false)
#else
CurlResult curl(std::vector<std::string>) { return {}; }
#define SKIP_WITHOUT_CURL() GTEST_SKIP() << "curl not found at configure time"
#endif

Clock::duration seconds(double value) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value));
}

constexpr int curl_timed_out = 28;  // CURLE_OPERATION_TIMEDOUT

/// curl's own timers (--connect-timeout, --max-time, --expect100-timeout) may fire a
/// millisecond or so before their time by curl's own clock; what matters here is that the stall
/// outlasted them.
constexpr auto curl_granularity = 10ms;
void expect_curl_timed_out(const CurlResult& result, Clock::duration limit, const char* what) {
  EXPECT_EQ(result.exit_code, curl_timed_out) << what << ": " << result.err;
  expect_elapsed(seconds(result.total) + curl_granularity, limit, what);
}

TEST(Serve, PrintsTheUrlAndServesCurl) {
  SKIP_WITHOUT_CURL();
  Serve serve{{}};
  ASSERT_EQ(serve.url.rfind("http://127.0.0.1:", 0), 0u) << serve.url;
  auto result = curl({"--max-time", "5", serve.url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  serve.process().signal(SIGINT);
  EXPECT_EQ(serve.process().wait(Clock::now() + 5s), 0) << serve.process().err();
}

TEST(Serve, StallAcceptLeavesCurlsConnectPending) {
  SKIP_WITHOUT_CURL();
  Serve serve{{"--fault", "stall-accept"}};
  auto result = curl({"--connect-timeout", "0.5", serve.url});
  expect_curl_timed_out(result, 500ms, "curl --connect-timeout 0.5");
}

TEST(Serve, DelayTlsHandshakeDelaysCurlsHandshake) {
  SKIP_WITHOUT_CURL();
  Serve serve{{"--tls", "--fault", "delay-tls-handshake=300ms"}, true};
  ASSERT_EQ(serve.url.rfind("https://127.0.0.1:", 0), 0u) << serve.url;
  auto result = curl({"--max-time", "5", "--cacert", serve.ca_path, serve.url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  // From curl's start: the server's delay starts at its accept, which curl may notice late.
  expect_elapsed(seconds(result.tls), 300ms, "curl's TLS handshake");

  Serve forever{{"--tls", "--fault", "delay-tls-handshake"}, true};
  auto stalled = curl({"--max-time", "0.5", "--cacert", forever.ca_path, forever.url});
  expect_curl_timed_out(stalled, 500ms, "curl --max-time 0.5");
}

TEST(Serve, WithholdContinueMakesCurlWaitItsExpect100Timeout) {
  SKIP_WITHOUT_CURL();
  Serve serve{{"--fault", "withhold-continue"}};
  auto result = curl({"--max-time", "5", "--expect100-timeout", "0.3", "-H", "Expect: 100-continue",
                      "--data-binary", "hello", serve.url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.status, 200);
  // curl sent the body only when its 0.3 s expect timeout fired.
  expect_elapsed(seconds(result.first_byte - result.connect) + curl_granularity, 300ms,
                 "curl's expect100 wait");
}

TEST(Serve, HoldHeadersMakesCurlTimeOut) {
  SKIP_WITHOUT_CURL();
  Serve serve{{"--fault", "hold-headers"}};
  auto stalled = curl({"--max-time", "0.5", serve.url});
  expect_curl_timed_out(stalled, 500ms, "curl --max-time 0.5");

  Serve held{{"--fault", "hold-headers=300ms"}};
  auto result = curl({"--max-time", "5", held.url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  expect_elapsed(seconds(result.first_byte - result.connect), 300ms, "response headers");
}

TEST(Serve, EventsArePrintedAsJsonLines) {
  SKIP_WITHOUT_CURL();
  Serve serve{{"--events"}};
  auto result = curl({"--max-time", "5", serve.url + "path"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> lines;
  const auto deadline = Clock::now() + 2s;
  while (auto line = serve.process().read_line(deadline)) {
    lines.push_back(*line);
    if (line->find("closed_by") != std::string::npos) break;
  }
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind(R"({"kind":"accepted","at_ms":)", 0), 0u) << lines[0];
  EXPECT_NE(lines[1].find(R"("detail":"GET /path")"), std::string::npos) << lines[1];
  EXPECT_NE(lines.back().find(R"("kind":"closed_by_peer")"), std::string::npos) << lines.back();
}

TEST(Serve, BadSpecsAndAddressesExit2NamingThem) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--fault", "hold-headers=5x"},
                                        {"--fault", "nope"},
                                        {"--fault", "withhold-continue=reply:99"},
                                        {"--listen", "999.1.1.1:0"},
                                        {"--listen", "127.0.0.1:99999"},
                                        {"--listen", "localhost"},
                                        {"--fault", "delay-tls-handshake=1s"}}) {
    Process process{Serve::command(args)};
    EXPECT_EQ(process.wait(Clock::now() + 5s), 2) << args[1];
    EXPECT_NE(process.err().find(args[1]), std::string::npos) << process.err();
    EXPECT_EQ(process.err().find('\n'), process.err().size() - 1) << "one line: " << process.err();
    EXPECT_EQ(process.out(), "");
  }
}

TEST(Serve, SigtermExits0AndRemovesTheCaFile) {
  Serve serve{{"--tls"}, true};
  ASSERT_FALSE(serve.ca_path.empty());
  struct stat info {};
  ASSERT_EQ(::stat(serve.ca_path.c_str(), &info), 0) << serve.ca_path;
  RawClient client;
  ASSERT_TRUE(client.connect(tcp::endpoint{
      asio::ip::make_address("127.0.0.1"),
      static_cast<unsigned short>(std::stoi(serve.url.substr(serve.url.rfind(':') + 1)))}));
  serve.process().signal(SIGTERM);
  EXPECT_EQ(serve.process().wait(Clock::now() + 5s), 0) << serve.process().err();
  EXPECT_NE(::stat(serve.ca_path.c_str(), &info), 0) << serve.ca_path << " left behind";
  auto closed = client.read_to_close(Clock::now() + 2s);
  EXPECT_TRUE(closed && closed->error) << "the connection should be closed";
}

}  // namespace
}  // namespace tunedhttp::mockserver::testing
