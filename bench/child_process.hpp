#pragma once
// A peer program run beside the benchmarks for the whole run (the Go peer's client session, a
// server in its own process), spoken to through pipes on its stdin and stdout.

#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tunedhttp::bench {

class ChildProcess {
 public:
  /// Starts `argv[0]` with `argv`, its stdin and stdout piped to us; nullptr when it cannot be
  /// started.
  static std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& argv);

  /// Closes its stdin (a session ends at EOF), sends SIGTERM (a server stops on it) and waits.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Writes `line` and a newline to its stdin.
  void send_line(const std::string& line);
  /// The next line of its stdout, without the newline; nullopt once it closed it.
  std::optional<std::string> read_line();

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  std::FILE* to_child_ = nullptr;
  std::FILE* from_child_ = nullptr;
};

}  // namespace tunedhttp::bench
