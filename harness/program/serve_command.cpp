// `tunedhttp serve`: the mock server on its own (docs/faults.md), to aim any client at.
//
// stdout: line 1 the base URL, line 2 (with --tls) the path of the CA's PEM file, then (with
// --admin) `admin: http://HOST:PORT/`, the control API (admin_api.hpp); with --events then one
// JSON object per event as it happens. Each line is flushed. Runs until SIGINT, SIGTERM
// or SIGHUP (a closed terminal), then closes every connection, removes the PEM file and exits 0.
// Bad --listen or --fault: a one-line error on stderr naming it, exit 2.
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/mockserver/response_template.hpp>
#include <tunedhttp/mockserver/server.hpp>
#include <tunedhttp/units.hpp>
#include <vector>

#include "admin_api.hpp"
#include "commands.hpp"
#include "event_json.hpp"

namespace tunedhttp::program {
namespace {

struct ServeOptions {
  std::vector<std::string> listen{"127.0.0.1:0"};
  bool tls = false;
  bool proxy = false;
  std::vector<std::string> faults;
  bool events = false;
  std::string respond_with = "ok";
  std::string header_read_timeout = "30s";
  std::string admin;  ///< ADDRESS:PORT of the control API; empty = none
};

/// Below this many descriptors, serve says that the hard limit caps its connections.
constexpr rlim_t few_descriptors = 16384;

/// Raises the soft limit on open descriptors to the hard one: each held connection costs one,
/// and the usual soft limit (1024) would refuse accepts long before memory runs out.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < few_descriptors) {
    std::cerr << "tunedhttp serve: note: at most " << limit.rlim_cur
              << " open files (the hard limit), so fewer concurrent connections; raise it with "
                 "`ulimit -Hn` (as root) or LimitNOFILE\n";
  }
}

struct ListenAddress {
  std::string address;
  unsigned short port = 0;
};

/// "127.0.0.1:8080", "[::1]:0", or an address alone (port 0).
std::optional<ListenAddress> parse_listen(const std::string& text) {
  std::string host = text;
  std::string port_text = "0";
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port_text = text.substr(close + 2);
    }
  } else if (const auto colon = text.rfind(':');
             colon != std::string::npos && text.find(':') == colon) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return std::nullopt;
  }
  boost::system::error_code error;
  boost::asio::ip::make_address(host, error);
  if (error) return std::nullopt;
  return ListenAddress{host, static_cast<unsigned short>(port)};
}

/// The CA's PEM in a temporary file, removed when this goes away.
class TemporaryPemFile {
 public:
  explicit TemporaryPemFile(const std::string& pem) {
    const char* directory = std::getenv("TMPDIR");
    path_ = std::string(directory && *directory ? directory : "/tmp") + "/tunedhttp-ca-XXXXXX.pem";
    const int fd = ::mkstemps(path_.data(), 4);
    if (fd < 0) throw std::runtime_error("cannot create a temporary file for the CA");
    std::size_t written = 0;
    while (written < pem.size()) {
      const auto n = ::write(fd, pem.data() + written, pem.size() - written);
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (written != pem.size()) {
      ::unlink(path_.c_str());
      throw std::runtime_error("cannot write the CA to " + path_);
    }
  }
  ~TemporaryPemFile() { ::unlink(path_.c_str()); }
  TemporaryPemFile(const TemporaryPemFile&) = delete;
  TemporaryPemFile& operator=(const TemporaryPemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int run_serve(const ServeOptions& options) {
  namespace mockserver = tunedhttp::mockserver;
  // Every --listen on one port: the first one's, or one ephemeral port shared by all.
  mockserver::ServerOptions server_options;
  for (const auto& text : options.listen) {
    const auto listen = parse_listen(text);
    if (!listen) {
      std::cerr << "tunedhttp serve: bad --listen address " << quote(text, 80, '\'')
                << " (expected ADDRESS:PORT such as 127.0.0.1:0 or [::1]:8080)\n";
      return exit_usage;
    }
    if (!server_options.listen_addresses.empty() && listen->port != server_options.port) {
      std::cerr << "tunedhttp serve: --listen " << quote(text, 80, '\'')
                << ": every --listen takes the same port (or 0 for one ephemeral port)\n";
      return exit_usage;
    }
    server_options.listen_addresses.push_back(listen->address);
    server_options.port = listen->port;
  }
  std::string listen_text;
  for (const auto& text : options.listen) listen_text += (listen_text.empty() ? "" : ", ") + text;
  server_options.tls = options.tls;
  server_options.proxy = options.proxy;
  server_options.header_read_timeout = parse_duration(options.header_read_timeout).value();
  if (auto route = mockserver::response_template(options.respond_with)) {
    server_options.default_route = std::move(*route);
  } else {
    std::cerr << "tunedhttp serve: unknown --respond-with " << quote(options.respond_with, 80, '\'')
              << " (expected one of:";
    for (const auto& name : mockserver::response_template_names()) std::cerr << " " << name;
    std::cerr << ")\n";
    return exit_usage;
  }
  for (const auto& spec : options.faults) {
    try {
      server_options.faults.push_back(mockserver::parse_fault_spec(spec));
      const auto needs = mockserver::requirements_of(server_options.faults.back().name);
      if (needs.tls && !options.tls) {
        std::cerr << "tunedhttp serve: --fault " << quote(spec, 80, '\'') << " needs --tls\n";
        return exit_usage;
      }
      if (needs.proxy && !options.proxy) {
        std::cerr << "tunedhttp serve: --fault " << quote(spec, 80, '\'') << " needs --proxy\n";
        return exit_usage;
      }
    } catch (const std::invalid_argument& e) {
      std::cerr << "tunedhttp serve: --fault: " << printable(e.what()) << "\n";
      return exit_usage;
    }
  }

  std::optional<ListenAddress> admin_address;
  if (!options.admin.empty()) {
    admin_address = parse_listen(options.admin);
    if (!admin_address) {
      std::cerr << "tunedhttp serve: bad --admin address " << quote(options.admin, 80, '\'')
                << " (expected ADDRESS:PORT such as 127.0.0.1:0)\n";
      return exit_usage;
    }
  }
  raise_descriptor_limit();

  boost::asio::io_context io;
  // Signals are caught from here on, before anyone can know the URL.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  // A reader of --events that goes away must end the server through the signal set (which
  // removes the PEM file), not kill it: writes to a closed pipe fail instead of raising SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::optional<mockserver::Server> server;
  try {
    server.emplace(io.get_executor(), std::move(server_options));
    server->start();
  } catch (const std::invalid_argument& e) {
    std::cerr << "tunedhttp serve: " << printable(e.what()) << "\n";
    return exit_usage;
  } catch (const boost::system::system_error& e) {
    std::cerr << "tunedhttp serve: cannot listen on " << quote(listen_text, 80, '\'') << ": "
              << e.code().message() << "\n";
    return exit_usage;
  }

  std::cout << server->base_url() << std::endl;  // std::endl: each line flushed at once
  std::unique_ptr<TemporaryPemFile> ca_file;
  if (options.tls) {
    try {
      ca_file = std::make_unique<TemporaryPemFile>(server->ca_pem());
    } catch (const std::runtime_error& e) {
      std::cerr << "tunedhttp serve: " << e.what() << "\n";
      return 1;
    }
    std::cout << ca_file->path() << std::endl;
  }
  std::optional<AdminApi> admin;
  if (admin_address) {
    try {
      admin.emplace(io.get_executor(), *server, admin_address->address, admin_address->port);
    } catch (const boost::system::system_error& e) {
      std::cerr << "tunedhttp serve: cannot listen on --admin " << quote(options.admin, 80, '\'')
                << ": " << e.code().message() << "\n";
      return exit_usage;
    }
    std::cout << "admin: " << admin->url() << std::endl;
  }
  if (options.events) {
    const auto origin = server->started_at();
    server->events().set_listener([origin](const mockserver::Event& event) {
      std::cout << event_json_line(event, origin) << std::endl;
      if (!std::cout) std::raise(SIGTERM);  // nobody reads the events any more: stop cleanly
    });
  }

  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (error) return;
    server->stop();  // posts the closing to the server's strand ...
    if (admin) admin->stop();
    boost::asio::post(io, [&] { io.stop(); });  // ... which runs before this
  });
  io.run();
  server->events().set_listener({});
  return 0;  // ca_file removes the PEM file
}

}  // namespace

CommandRunner add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  auto* serve = app.add_subcommand("serve",
                                   "Run the fault-injecting mock server until SIGINT, SIGTERM or "
                                   "SIGHUP. Prints the base URL (and, with "
                                   "--tls, the CA's PEM file) on stdout.");
  serve
      ->add_option("--listen", options->listen,
                   "ADDRESS:PORT to listen on; repeatable, all on one port (e.g. --listen "
                   "[::1]:0 --listen 127.0.0.1:0 for a dual-stack host); faults can target one "
                   "with listener:ADDRESS")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->capture_default_str();
  serve->add_flag("--tls", options->tls,
                  "TLS with a certificate made at start; line 2 of stdout names the CA to trust");
  serve->add_flag("--proxy", options->proxy,
                  "a forward proxy as well: forwards absolute-form requests (curl -x URL) and "
                  "tunnels CONNECT (curl -p -x URL, or https through -x); requests for a path "
                  "are still answered by the server itself");
  serve
      ->add_option("--fault", options->faults,
                   "a fault SPEC, repeatable: stall-accept[=D], delay-tls-handshake[=D], "
                   "withhold-continue[=D|reply:STATUS], hold-headers[=D], "
                   "close-after-requests=N, idle-close=D, drip-body=SIZE/D, blackhole"
                   "[=after-headers|idle:D], reset=on-accept|after-headers|mid-body:N|idle:D; "
                   "with --proxy: stall-connect, delay-connect=D, reject-connect=STATUS, "
                   "close-tunnel-idle=D; "
                   "add ',key:value' for any parameter or a target: "
                   "connection:N[-M], request:N[-M], path:/p, listener:ADDRESS "
                   "(e.g. hold-headers=2s,request:3; see docs/faults.md)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  serve->add_flag("--events", options->events, "print the event log as JSON lines");
  serve->add_option("--admin", options->admin,
                    "ADDRESS:PORT of the control API (JSON over HTTP: /faults, /events, /stats, "
                    "/reset; see docs/control-api.md), e.g. 127.0.0.1:0; prints `admin: URL` "
                    "after the URL (and CA) lines");
  serve
      ->add_option("--respond-with", options->respond_with,
                   "answer every request like: ok (200 \"ok\"), s3 (PutObject: 200 with an "
                   "ETag), lambda (Invoke: 200 with a JSON payload)")
      ->capture_default_str();
  serve
      ->add_option("--header-read-timeout", options->header_read_timeout,
                   "close a connection whose request head (line and headers) takes longer than "
                   "this (Go's ReadHeaderTimeout; 0: no limit); faults that hold on purpose are "
                   "not limited by it")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            const auto parsed = parse_duration(text);
            if (parsed && *parsed >= std::chrono::nanoseconds::zero()) return {};
            return "bad duration " + quote(text) + " (Go syntax: 250ms, 1.5s, 2m; 0 for none)";
          },
          "", "DURATION"))
      ->capture_default_str();
  return [options] { return run_serve(*options); };
}

}  // namespace tunedhttp::program
