// Like Go's afterTest: every test must leave no file descriptor and no child process behind.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <filesystem>

namespace {

int open_descriptors() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

class LeakCheck : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { at_start_ = open_descriptors(); }
  void OnTestEnd(const ::testing::TestInfo&) override {
    EXPECT_EQ(open_descriptors(), at_start_) << "file descriptors leaked (or closed) by the test";
    errno = 0;
    int status = 0;
    const pid_t child = ::waitpid(-1, &status, WNOHANG);
    EXPECT_TRUE(child == -1 && errno == ECHILD) << "a child process was left behind";
  }
  int at_start_ = 0;
};

[[maybe_unused]] const bool registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new LeakCheck);
  return true;
}();

}  // namespace
