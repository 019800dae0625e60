#pragma once
// Child processes for the suites that run programs (`tunedhttp serve`, `tunedhttp request`,
// curl, nginx): every wait has a deadline, so a hung child fails one test instead of hanging the
// suite, and every child is killed and reaped at the end, so no test leaks a process or a
// descriptor. A failure to start or to exit in time is reported with ADD_FAILURE.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tunedhttp::test_support {

using Clock = std::chrono::steady_clock;

/// A child with stdin on /dev/null (so it never waits for the test's terminal) and stdout and
/// stderr on pipes; killed and reaped if still running at the end.
class Process {
 public:
  /// Starts argv[0] (a path: no PATH search, so a test runs what the build made).
  explicit Process(const std::vector<std::string>& argv);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// False when the spawn failed (already a test failure), so callers can stop early.
  bool started() const { return pid_ > 0 || exited_; }
  /// The next stdout line (without '\n'), or nullopt at the deadline or end of output: how a
  /// test learns what a server printed at start without blocking on it.
  std::optional<std::string> read_line(Clock::time_point deadline);
  /// Sends a signal if the process still runs (never to a reaped pid, which may be reused).
  void signal(int number);
  /// True (and the exit code kept for wait()) once the process has exited; never blocks, so a
  /// test can watch a server while it polls something else.
  bool poll_exited();
  /// Reads both pipes to their end and reaps; the exit code, -1 at the deadline (the process is
  /// then killed) or when it never started, or -2 - N when killed by signal N.
  int wait(Clock::time_point deadline);

  /// What was read from stdout and not yet returned by read_line().
  const std::string& out() const { return out_; }
  /// What was read from stderr (by wait()).
  const std::string& err() const { return err_; }

 private:
  int pid_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  std::string out_;
  std::string err_;
};

/// `PROGRAM serve ARGS...` with its base URL (and with --tls the CA file) read from its first
/// stdout lines; stopped with SIGTERM at the end (killed if it lingers), so its own shutdown is
/// exercised by every test that uses it.
class Serve {
 public:
  /// `program` is the tunedhttp binary the build made (each suite gets it from its CMake
  /// target); `tls` says a second line, the CA path, follows the URL.
  Serve(const std::string& program, std::vector<std::string> args, bool tls = false);
  ~Serve();
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;

  /// The command line of `program serve ARGS...`, for tests that expect it not to start.
  static std::vector<std::string> command(const std::string& program,
                                          std::vector<std::string> args);

  std::string url;      ///< "http://127.0.0.1:PORT/", empty if serve did not start
  std::string ca_path;  ///< with tls
  /// To signal it, read its event lines or wait for its exit.
  Process& process() { return process_; }

 private:
  Process process_;
};

}  // namespace tunedhttp::test_support
