// The servers beside each other: `tunedhttp serve` (the mock server as users run it, no faults,
// its event log kept) and Go's net/http server (the Go peer's `server` mode), each in its own
// process for the whole run, answering the same GETs from the same client: Go's net/http client
// (go_peer_session.hpp) with 1 and 32 workers. What differs between two lines is the server.
// (The in-process mock server against the bench server, with our client, is
// requests/plain/reused/tunedhttp_vs_mockserver beside requests/plain/reused/tunedhttp.)
#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "common.hpp"
#include "go_peer_session.hpp"

namespace tunedhttp::bench {
namespace {

enum class ServerKind { tunedhttp_serve, go_nethttp };

// A server process started on first use; its URL is the first line it prints.
class ServerProcess {
 public:
  static ServerProcess* shared(ServerKind kind) {
#ifdef TUNEDHTTP_PROGRAM
    static std::unique_ptr<ServerProcess> serve = start({TUNEDHTTP_PROGRAM, "serve"});
#else
    static std::unique_ptr<ServerProcess> serve;
#endif
#ifdef TUNEDHTTP_GO_PEER
    static std::unique_ptr<ServerProcess> go = start({TUNEDHTTP_GO_PEER, "server"});
#else
    static std::unique_ptr<ServerProcess> go;
#endif
    return kind == ServerKind::tunedhttp_serve ? serve.get() : go.get();
  }

  const std::string& url() const { return url_; }

 private:
  static std::unique_ptr<ServerProcess> start(const std::vector<std::string>& argv) {
    auto process = ChildProcess::spawn(argv);
    if (!process) return nullptr;
    auto url = process->read_line();
    if (!url || url->rfind("http://", 0) != 0) return nullptr;
    return std::unique_ptr<ServerProcess>(new ServerProcess(std::move(process), *url));
  }

  ServerProcess(std::unique_ptr<ChildProcess> process, std::string url)
      : process_(std::move(process)), url_(std::move(url)) {}
  std::unique_ptr<ChildProcess> process_;
  std::string url_;
};

void served_by(benchmark::State& state, ServerKind kind) {
  const int workers = static_cast<int>(state.range(0));
  ServerProcess* server = ServerProcess::shared(kind);
  if (server == nullptr) {
    state.SkipWithError("the server did not start or print its URL");
    return;
  }
  measure_go_client(state, server->url(), workers, smoke() ? 4 * workers : 8000);
}

}  // namespace

void register_server_benchmarks() {
  for (const int workers : {1, 32}) {
    const std::string prefix = "servers/workers:" + std::to_string(workers);
    benchmark::RegisterBenchmark((prefix + "/tunedhttp_serve").c_str(), served_by,
                                 ServerKind::tunedhttp_serve)
        ->Arg(workers)
        ->UseManualTime();
    benchmark::RegisterBenchmark((prefix + "/go_nethttp").c_str(), served_by,
                                 ServerKind::go_nethttp)
        ->Arg(workers)
        ->UseManualTime();
  }
}

}  // namespace tunedhttp::bench
