#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <tunedhttp/body_source.hpp>

namespace tunedhttp {

namespace {

// The file's descriptor, closed with its last copy (a BodySource is copied with its functions).
struct OpenFile {
  explicit OpenFile(int fd_in) : fd(fd_in) {}
  ~OpenFile() { ::close(fd); }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int fd;
};

}  // namespace

BodySource file_body(const std::string& path, boost::system::error_code& ec) {
  ec = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ec.assign(errno, boost::system::system_category());
    return {};
  }
  auto file = std::make_shared<OpenFile>(fd);
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    ec.assign(errno, boost::system::system_category());
    return {};
  }
  if (!S_ISREG(status.st_mode)) {
    ec = make_error_code(boost::system::errc::invalid_argument);  // a folder, a pipe, ...
    return {};
  }
  BodySource source;
  source.size = static_cast<std::uint64_t>(status.st_size);
  source.read = [file](boost::asio::mutable_buffer buffer,
                       boost::system::error_code& error) -> std::size_t {
    for (;;) {
      const auto n = ::read(file->fd, buffer.data(), buffer.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      error.assign(errno, boost::system::system_category());
      return 0;
    }
  };
  source.rewind = [file] { return ::lseek(file->fd, 0, SEEK_SET) == 0; };
  return source;
}

}  // namespace tunedhttp
