#pragma once
// A child program spoken to in lines: its stdin written, its stdout read line by line with
// deadlines. Used to drive the Go peer (peers/go) from the runner. No Asio here.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tunedhttp::harness::detail {

class ChildProcess {
 public:
  /// Starts argv[0] (a path) with stdin and stdout on pipes and stderr kept for messages.
  /// Throws std::runtime_error when it cannot be started.
  explicit ChildProcess(const std::vector<std::string>& argv);
  /// Closes stdin (a well-behaved child then exits), waits up to 1 s, then kills and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Writes `line` and a newline; false when the child is gone.
  bool write_line(const std::string& line);
  /// The next stdout line (without '\n'), or nullopt at the deadline or at end of output.
  std::optional<std::string> read_line(std::chrono::steady_clock::time_point deadline);
  /// True once stdout has ended (the child exited or closed it).
  bool ended() const { return ended_; }
  /// What the child wrote on stderr so far (read without blocking).
  std::string error_text();

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  std::string buffer_;
  std::string errors_;
  bool ended_ = false;
};

}  // namespace tunedhttp::harness::detail
