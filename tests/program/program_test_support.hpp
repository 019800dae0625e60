#pragma once
// Helpers for the `tunedhttp request` tests: `tunedhttp request` run to its end with its JSON
// lines parsed, a temporary directory, an ephemeral port, and Debian's nginx started on that port
// with a generated config. Child processes and `tunedhttp serve` come from tunedhttp::test_support.

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tunedhttp/test_support/process.hpp>
#include <vector>

namespace tunedhttp::program::testing {

using test_support::Clock;
using test_support::Process;
using test_support::Serve;
using namespace std::chrono_literals;

/// A URL where nothing listens (port 9, discard), for runs that must fail before any I/O.
inline const std::string nothing_listens_url = "http://127.0.0.1:9/";

/// Starts `tunedhttp serve ARGS...` (TLS when `tls`) as a Serve named `name`, and stops the test
/// when it printed no URL, with its stderr.
#define START_SERVE(name, tls, ...)                                         \
  Serve name{TUNEDHTTP_BINARY, std::vector<std::string>{__VA_ARGS__}, tls}; \
  ASSERT_FALSE(name.url.empty()) << "serve did not print its URL: " << name.process().err()

/// What one `tunedhttp request ...` run printed, and how it ended.
struct RequestRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::vector<nlohmann::json> lines;  ///< stdout parsed as JSON lines (with --json)
  Clock::duration wall{};             ///< from spawn to exit
};

/// Runs `tunedhttp ARGS...` (any subcommand) to its end (killed after `limit`); with
/// `prepend_binary` false, ARGS is the whole command line (e.g. /usr/bin/env VAR=... tunedhttp).
RequestRun run_program(std::vector<std::string> args, Clock::duration limit = 20s,
                       bool prepend_binary = true);

/// Runs `tunedhttp request ARGS...` to its end (killed after `limit`), parsing stdout as JSON
/// lines when it starts with '{'.
RequestRun run_request(std::vector<std::string> args, Clock::duration limit = 20s);

/// A field of a trace in a JSON line, in milliseconds; a test failure (and NaN) when missing.
double trace_ms(const nlohmann::json& line, const std::string& point);

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at the end.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::string& path() const { return path_; }
  /// Writes `text` to path()/name; returns the file's path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
unsigned short ephemeral_port();

/// A 127.0.0.1 port nothing listens on: bound, never listened, kept bound by this object.
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  unsigned short port() const { return port_; }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

/// The path of the nginx program (TUNEDHTTP_NGINX, when set, names it), or empty when it is not
/// installed.
std::string nginx_program();

/// How an Nginx is configured.
struct NginxOptions {
  std::string keepalive_timeout = "60s";  ///< nginx's idle limit on kept-alive connections
  bool tls = false;                       ///< listen with ssl, a certificate made by `openssl`
  /// Another name for the server: in its certificate, and its IPv4 address (when not
  /// 127.0.0.1) listened on too. Empty: none.
  std::string also_named = "";
  std::string also_listen = "";
};

/// A peer server (nginx, tinyproxy) run in the foreground for one test: its config and log in a
/// temporary directory, an ephemeral 127.0.0.1 port, and its process, stopped (SIGTERM, then
/// SIGKILL) at the end.
class Daemon {
 public:
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// True when it answers on its port; otherwise `error()` says why.
  bool ready() const { return ready_; }
  const std::string& error() const { return error_; }

 protected:
  Daemon();
  ~Daemon();
  /// Starts `argv` and waits (10 s at most) until the port accepts; `name` and its log file (in
  /// the directory) are quoted in the error when it does not. A failed start is killed.
  void launch(std::vector<std::string> argv, const std::string& name, const std::string& log_file);

  TemporaryDirectory directory_;
  unsigned short port_ = 0;
  std::string error_;

 private:
  std::optional<Process> process_;
  bool ready_ = false;
};

/// Debian's nginx (daemon off, master_process off). Serves /index.html ("hello from nginx\n")
/// and accepts PUT under /upload/ (WebDAV, so it reads the body and answers
/// `Expect: 100-continue`).
class Nginx : public Daemon {
 public:
  explicit Nginx(NginxOptions options = {});

  /// "http://127.0.0.1:PORT/" or "https://127.0.0.1:PORT/".
  std::string url(const std::string& path = "") const;
  /// The self-signed certificate (PEM) to trust, with `tls`.
  std::string certificate() const;
  /// nginx's error log so far (level info: it tells who closed a keep-alive connection).
  std::string error_log() const;

 private:
  bool make_certificate();

  NginxOptions options_;
};

/// How a Tinyproxy is configured.
struct TinyproxyOptions {
  std::string user;  ///< with `password`: BasicAuth required (407 without it)
  std::string password;
};

/// Debian's tinyproxy, its log at level Connect (one line per request and CONNECT it relays),
/// relaying to any port.
class Tinyproxy : public Daemon {
 public:
  explicit Tinyproxy(TinyproxyOptions options = {});

  /// "http://[USERINFO@]127.0.0.1:PORT".
  std::string url(const std::string& userinfo = "") const;
  /// Its log so far: "Request (file descriptor N): GET http://... HTTP/1.1" per request.
  std::string log() const;
};

// nginx is a peer scripts/setup.sh installs: without it these tests fail, never skip.
#define START_NGINX(name, ...)                                                           \
  ASSERT_FALSE(nginx_program().empty())                                                  \
      << "got no nginx program; want Debian's nginx (scripts/setup.sh installs it, and " \
         "TUNEDHTTP_NGINX names another)";                                               \
  Nginx name{__VA_ARGS__};                                                               \
  ASSERT_TRUE(name.ready()) << name.error()

// tinyproxy is a peer scripts/setup.sh installs: without it these tests fail, never skip.
#define START_TINYPROXY(name, ...) \
  Tinyproxy name{__VA_ARGS__};     \
  ASSERT_TRUE(name.ready()) << name.error()

/// Fails the test unless `elapsed_ms` is at least `limit` and at most limit + the project's
/// timing tolerance (tunedhttp::timing_tolerance()).
void expect_within_limit(double elapsed_ms, std::chrono::milliseconds limit,
                         const std::string& what);

}  // namespace tunedhttp::program::testing
