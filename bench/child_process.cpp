#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tunedhttp::bench {

std::unique_ptr<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv) {
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) return nullptr;
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    ::close(to_child[0]);
    ::close(to_child[1]);
    return nullptr;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
  std::vector<char*> arguments;
  for (const auto& argument : argv) arguments.push_back(const_cast<char*>(argument.c_str()));
  arguments.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, arguments[0], &actions, nullptr, arguments.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(to_child[0]);
  ::close(from_child[1]);
  if (spawned != 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    return nullptr;
  }
  auto child = std::unique_ptr<ChildProcess>(new ChildProcess);
  child->pid_ = pid;
  child->to_child_ = ::fdopen(to_child[1], "w");
  child->from_child_ = ::fdopen(from_child[0], "r");
  return child;
}

ChildProcess::~ChildProcess() {
  if (to_child_ != nullptr) std::fclose(to_child_);
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (from_child_ != nullptr) std::fclose(from_child_);
}

void ChildProcess::send_line(const std::string& line) {
  std::fputs(line.c_str(), to_child_);
  std::fputc('\n', to_child_);
  std::fflush(to_child_);
}

std::optional<std::string> ChildProcess::read_line() {
  std::string line;
  char piece[512];
  while (std::fgets(piece, sizeof piece, from_child_) != nullptr) {
    line += piece;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      return line;
    }
  }
  if (line.empty()) return std::nullopt;
  return line;
}

}  // namespace tunedhttp::bench
