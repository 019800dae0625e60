#include "no_sockets.hpp"

#include <errno.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

namespace tunedhttp::testing_support {

bool forbid_sockets() {
  static const bool installed = [] {
    // Load the syscall number; socket and socketpair fail with EACCES, all else is allowed.
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
    };
    sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
  }();
  return installed;
}

namespace {

// Installed before any test runs, so every test in the binary runs without sockets.
class NoSockets : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(forbid_sockets()) << "seccomp refused: errno " << errno; }
};

const auto* const no_sockets = ::testing::AddGlobalTestEnvironment(new NoSockets);

TEST(NoSockets, SocketCallsFail) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int error = errno;
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(error, EACCES);
  int pair[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), -1);
}

}  // namespace
}  // namespace tunedhttp::testing_support
