#include "program_test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <tunedhttp/units.hpp>

namespace tunedhttp::program::testing {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// tunedhttp request

RequestRun run_request(std::vector<std::string> args, Clock::duration limit) {
  args.insert(args.begin(), "request");
  return run_program(std::move(args), limit);
}

RequestRun run_program(std::vector<std::string> args, Clock::duration limit, bool prepend_binary) {
  if (prepend_binary) args.insert(args.begin(), TUNEDHTTP_BINARY);
  const auto start = Clock::now();
  Process process{args};
  RequestRun run;
  run.exit_code = process.wait(start + limit);
  run.wall = Clock::now() - start;
  run.out = process.out();
  run.err = process.err();
  if (!run.out.empty() && run.out.front() == '{') {
    std::istringstream lines{run.out};
    for (std::string line; std::getline(lines, line);) {
      auto parsed = nlohmann::json::parse(line, nullptr, false);
      if (parsed.is_discarded()) {
        ADD_FAILURE() << "stdout line is not JSON: " << line;
        continue;
      }
      run.lines.push_back(std::move(parsed));
    }
  }
  return run;
}

double trace_ms(const nlohmann::json& line, const std::string& point) {
  const auto trace = line.find("trace");
  if (trace == line.end() || !trace->contains(point) || !(*trace)[point].is_number()) {
    ADD_FAILURE() << "no trace point " << point << " in " << line.dump();
    return std::numeric_limits<double>::quiet_NaN();
  }
  return (*trace)[point].get<double>();
}

void expect_within_limit(double elapsed_ms, std::chrono::milliseconds limit,
                         const std::string& what) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double, std::milli>(elapsed_ms));
  EXPECT_EQ(tunedhttp::timing_problem(limit, elapsed), "") << what;
}

// ---------------------------------------------------------------------------------------------
// Files and ports

TemporaryDirectory::TemporaryDirectory() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/tunedhttp-request-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
    return;
  }
  path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() {
  if (path_.empty()) return;
  std::error_code ignored;  // a leftover temporary directory is not worth failing a test
  std::filesystem::remove_all(path_, ignored);
}

std::string TemporaryDirectory::write(const std::string& name, const std::string& text) const {
  const std::string path = path_ + "/" + name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file) ADD_FAILURE() << "cannot write " << path;
  return path;
}

namespace {

/// A TCP socket bound to 127.0.0.1:0 (not listening); its port through `port`.
int bind_ephemeral(unsigned short& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

/// True when something accepts TCP connections on 127.0.0.1:port right now.
bool accepts(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

// Waits (10 s at most) until `port` accepts, or the server exits; false with `error` saying why,
// with its log.
bool wait_listening(Process& process, unsigned short port, const std::string& name,
                    const std::string& log_path, std::string& error) {
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    if (accepts(port)) return true;
    if (process.poll_exited()) {
      process.wait(Clock::now() + 1s);
      error = name + " exited at start: " + process.err() + read_file(log_path);
      return false;
    }
    ::poll(nullptr, 0, 10);
  }
  error = name + " did not listen on port " + std::to_string(port) +
          " within 10s: " + read_file(log_path);
  return false;
}

}  // namespace

unsigned short ephemeral_port() {
  unsigned short port = 0;
  const int fd = bind_ephemeral(port);
  if (fd < 0) {
    ADD_FAILURE() << "cannot bind 127.0.0.1:0: " << std::strerror(errno);
    return 0;
  }
  ::close(fd);
  return port;
}

RefusingPort::RefusingPort() {
  fd_ = bind_ephemeral(port_);
  if (fd_ < 0) ADD_FAILURE() << "cannot bind 127.0.0.1:0: " << std::strerror(errno);
}

RefusingPort::~RefusingPort() {
  if (fd_ >= 0) ::close(fd_);
}

// ---------------------------------------------------------------------------------------------
// nginx

std::string nginx_program() {
  if (const char* chosen = std::getenv("TUNEDHTTP_NGINX")) {
    return ::access(chosen, X_OK) == 0 ? chosen : "";
  }
  for (const char* candidate :
       {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx", "/usr/local/bin/nginx"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

Daemon::Daemon() : port_(ephemeral_port()) {}

Daemon::~Daemon() {
  if (!process_ || process_->poll_exited()) return;
  process_->signal(SIGTERM);  // nginx: fast shutdown, closing every connection
  const auto deadline = Clock::now() + 5s;
  while (!process_->poll_exited() && Clock::now() < deadline) ::poll(nullptr, 0, 10);
  // ~Process kills it if SIGTERM was not enough.
}

void Daemon::launch(std::vector<std::string> argv, const std::string& name,
                    const std::string& log_file) {
  process_.emplace(std::move(argv));
  ready_ = wait_listening(*process_, port_, name, directory_.path() + "/" + log_file, error_);
  if (!ready_) {
    process_->signal(SIGKILL);
    process_->wait(Clock::now() + 5s);
  }
}

std::string Nginx::url(const std::string& path) const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
         "/" + path;
}

std::string Nginx::certificate() const { return directory_.path() + "/cert.pem"; }

std::string Nginx::error_log() const { return read_file(directory_.path() + "/error.log"); }

bool Nginx::make_certificate() {
  const std::string& dir = directory_.path();
  Process openssl{{"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir + "/key.pem", "-out",
                   dir + "/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                   "subjectAltName=IP:127.0.0.1,DNS:localhost" +
                       (options_.also_named.empty() ? "" : ",DNS:" + options_.also_named)}};
  if (openssl.wait(Clock::now() + 20s) != 0) {
    error_ = "openssl req failed: " + openssl.err();
    return false;
  }
  return true;
}

Nginx::Nginx(NginxOptions options) : options_(std::move(options)) {
  const std::string program = nginx_program();
  if (program.empty()) {
    error_ = "nginx is not installed (scripts/setup.sh installs Debian's nginx)";
    return;
  }
  const std::string& dir = directory_.path();
  if (dir.empty()) {
    error_ = "no temporary directory";
    return;
  }
  if (options_.tls && !make_certificate()) return;
  directory_.write("www/index.html", "hello from nginx\n");
  std::filesystem::create_directories(dir + "/www/upload");

  std::ostringstream config;
  config << "daemon off;\n"
         << "master_process off;\n"
         << "worker_processes 1;\n"
         // As root, stay root: the default user (nobody) could not write in our directory.
         << (::geteuid() == 0 ? "user root;\n" : "") << "pid " << dir << "/nginx.pid;\n"
         << "error_log " << dir << "/error.log info;\n"
         << "events { worker_connections 128; }\n"
         << "http {\n"
         << "  access_log " << dir << "/access.log;\n"
         << "  client_body_temp_path " << dir << "/client_body;\n"
         << "  proxy_temp_path " << dir << "/proxy;\n"
         << "  fastcgi_temp_path " << dir << "/fastcgi;\n"
         << "  uwsgi_temp_path " << dir << "/uwsgi;\n"
         << "  scgi_temp_path " << dir << "/scgi;\n"
         << "  keepalive_timeout " << options_.keepalive_timeout << ";\n"
         << "  keepalive_requests 1000;\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << port_ << (options_.tls ? " ssl" : "") << ";\n";
  if (!options_.also_listen.empty() && options_.also_listen != "127.0.0.1") {
    config << "    listen " << options_.also_listen << ":" << port_ << (options_.tls ? " ssl" : "")
           << ";\n";
  }
  if (options_.tls) {
    config << "    ssl_certificate " << dir << "/cert.pem;\n"
           << "    ssl_certificate_key " << dir << "/key.pem;\n";
  }
  config << "    root " << dir << "/www;\n"
         << "    location /upload/ { dav_methods PUT; create_full_put_path on; }\n"
         << "  }\n"
         << "}\n";
  const std::string config_path = directory_.write("nginx.conf", config.str());

  launch({program, "-p", dir, "-c", config_path, "-e", dir + "/error.log"}, "nginx", "error.log");
}

// ---------------------------------------------------------------------------------------------
// tinyproxy

Tinyproxy::Tinyproxy(TinyproxyOptions options) {
  const std::string program = "/usr/bin/tinyproxy";
  if (::access(program.c_str(), X_OK) != 0) {
    error_ = "tinyproxy is not installed (scripts/setup.sh installs Debian's tinyproxy)";
    return;
  }
  const std::string& dir = directory_.path();
  std::ostringstream config;
  config << "Port " << port_ << "\n"
         << "Listen 127.0.0.1\n"
         << "Timeout 60\n"
         << "MaxClients 32\n"
         << "Allow 127.0.0.1\n"
         << "LogLevel Connect\n"
         << "LogFile \"" << dir << "/tinyproxy.log\"\n"
         << "PidFile \"" << dir << "/tinyproxy.pid\"\n";
  if (!options.user.empty())
    config << "BasicAuth " << options.user << " " << options.password << "\n";
  const std::string config_path = directory_.write("tinyproxy.conf", config.str());
  launch({program, "-d", "-c", config_path}, "tinyproxy", "tinyproxy.log");
}

std::string Tinyproxy::url(const std::string& userinfo) const {
  return "http://" + (userinfo.empty() ? "" : userinfo + "@") +
         "127.0.0.1:" + std::to_string(port_);
}

std::string Tinyproxy::log() const { return read_file(directory_.path() + "/tinyproxy.log"); }

}  // namespace tunedhttp::program::testing
