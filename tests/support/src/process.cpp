#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tunedhttp/test_support/process.hpp>

extern char** environ;

namespace tunedhttp::test_support {

using namespace std::chrono_literals;

namespace {

long long milliseconds_until(Clock::time_point deadline) {
  return std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
}

/// One read from a pipe that poll() found ready, so it does not block; false at its end (or on
/// an error, which ends the output just the same).
bool read_chunk(int fd, std::string& into) {
  char chunk[4096];
  const auto n = ::read(fd, chunk, sizeof chunk);
  if (n <= 0) return false;
  into.append(chunk, static_cast<std::size_t>(n));
  return true;
}

/// Waits for the pipe (up to the deadline) and reads what is there; false at the deadline or
/// the end of output.
bool read_more(int fd, std::string& into, Clock::time_point deadline) {
  const auto left = milliseconds_until(deadline);
  if (fd < 0 || left <= 0) return false;
  pollfd waiting{fd, POLLIN, 0};
  if (::poll(&waiting, 1, static_cast<int>(left)) != 1) return false;
  return read_chunk(fd, into);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Process

Process::Process(const std::vector<std::string>& argv) {
  int out[2];
  int err[2];
  // Close-on-exec, so a child started later by the same test does not hold these pipes open.
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return;
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    ::close(out[0]);
    ::close(out[1]);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int error = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  stdout_ = out[0];
  stderr_ = err[0];
  if (error != 0) {
    ADD_FAILURE() << "spawn " << argv[0] << ": " << std::strerror(error);
    return;
  }
  pid_ = pid;
}

Process::~Process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_ >= 0) ::close(stdout_);
  if (stderr_ >= 0) ::close(stderr_);
}

std::optional<std::string> Process::read_line(Clock::time_point deadline) {
  for (;;) {
    if (auto end = out_.find('\n'); end != std::string::npos) {
      auto line = out_.substr(0, end);
      out_.erase(0, end + 1);
      return line;
    }
    if (!read_more(stdout_, out_, deadline)) return std::nullopt;
  }
}

void Process::signal(int number) {
  if (pid_ > 0) ::kill(pid_, number);
}

bool Process::poll_exited() {
  if (exited_) return true;
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  pid_ = -1;
  exited_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -2 - WTERMSIG(status);
  return true;
}

int Process::wait(Clock::time_point deadline) {
  // Both pipes at once, so a child filling one while we wait on the other cannot block.
  bool out_open = stdout_ >= 0;
  bool err_open = stderr_ >= 0;
  while (out_open || err_open) {
    const auto left = milliseconds_until(deadline);
    if (left <= 0) break;
    pollfd fds[2] = {{out_open ? stdout_ : -1, POLLIN, 0}, {err_open ? stderr_ : -1, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(left)) <= 0) continue;
    if (fds[0].revents != 0) out_open = read_chunk(stdout_, out_);
    if (fds[1].revents != 0) err_open = read_chunk(stderr_, err_);
  }
  while (!poll_exited()) {
    // Never started (the spawn failure is already reported): nothing to reap, and kill(-1)
    // would signal every process we may signal.
    if (pid_ <= 0) return -1;
    if (Clock::now() >= deadline) {
      ADD_FAILURE() << "the process did not exit in time; killed. stderr so far: " << err_;
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return -1;
    }
    // The pipes are closed, so the exit is a moment away; poll for it briefly.
    ::poll(nullptr, 0, 5);
  }
  return exit_code_;
}

// ---------------------------------------------------------------------------------------------
// tunedhttp serve

Serve::Serve(const std::string& program, std::vector<std::string> args, bool tls)
    : process_(command(program, std::move(args))) {
  // Generous: a loaded machine may take seconds to start a program, and a missing line is
  // reported by the caller (an empty url) rather than waited on forever.
  url = process_.read_line(Clock::now() + 10s).value_or("");
  if (tls) ca_path = process_.read_line(Clock::now() + 10s).value_or("");
}

Serve::~Serve() {
  if (process_.poll_exited()) return;
  process_.signal(SIGTERM);
  process_.wait(Clock::now() + 5s);
}

std::vector<std::string> Serve::command(const std::string& program, std::vector<std::string> args) {
  args.insert(args.begin(), {program, "serve"});
  return args;
}

}  // namespace tunedhttp::test_support
