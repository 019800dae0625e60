// Streaming throughput: one large body downloaded through tunedhttp's streamed response
// (async_request_stream, read 64 KiB at a time and dropped) and through libcurl (a write
// callback that drops it), side by side against the same mock server, in the same run.
// bytes_per_second is the figure to compare (docs/bench/streaming.md).
#include <curl/curl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <thread>
#include <tunedhttp/client.hpp>
#include <tunedhttp/mockserver/server.hpp>
#include <vector>

#include "common.hpp"

namespace tunedhttp::bench {
namespace {

namespace asio = boost::asio;

// The body of every response: 256 MiB (1 MiB in the smoke run), generated as it is sent.
std::uint64_t body_size() { return smoke() ? 1u << 20 : 256u << 20; }

// A mock server on its own thread, serving the large body.
class StreamingServer {
 public:
  StreamingServer() : server_(io_.get_executor(), options()) {
    server_.start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~StreamingServer() {
    server_.stop();
    work_.reset();
    thread_.join();
  }
  std::string url() const { return server_.base_url() + "object"; }

 private:
  static mockserver::ServerOptions options() {
    mockserver::ServerOptions options;
    options.default_route.body_size = body_size();
    return options;
  }
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  mockserver::Server server_;
  std::thread thread_;
};

StreamingServer& streaming_server() {
  static StreamingServer server;
  return server;
}

asio::awaitable<void> download(Client& client, const std::string& url, std::uint64_t& bytes,
                               std::string& error) {
  auto [ec, response] = co_await client.async_request_stream(
      make_request(boost::beast::http::verb::get, url), asio::as_tuple(asio::use_awaitable));
  if (ec) {
    error = ec.message();
    co_return;
  }
  std::vector<char> piece(64 * 1024);
  for (;;) {
    auto [read_error, n] = co_await response.body.async_read_some(
        asio::buffer(piece), asio::as_tuple(asio::use_awaitable));
    if (read_error == asio::error::eof) co_return;
    if (read_error) {
      error = read_error.message();
      co_return;
    }
    bytes += n;
  }
}

void stream_tunedhttp(benchmark::State& state) {
  const std::string url = streaming_server().url();
  asio::io_context io(1);
  Client client(io.get_executor());
  for (auto _ : state) {
    std::uint64_t bytes = 0;
    std::string error;
    bool done = false;
    asio::co_spawn(io, download(client, url, bytes, error),
                   [&done](std::exception_ptr) { done = true; });
    // Until the download ends, not until the io_context runs out of work: the pooled
    // connection's idle timer (idle_conn, 90 s) would hold run() that long.
    io.restart();
    while (!done) io.run_one();
    if (!error.empty() || bytes != body_size()) {
      state.SkipWithError(error.empty() ? "short body" : error.c_str());
      return;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body_size()));
}

std::size_t count_body(char* /*data*/, std::size_t size, std::size_t count, void* bytes) {
  *static_cast<std::uint64_t*>(bytes) += size * count;
  return size * count;
}

void stream_curl(benchmark::State& state) {
  const std::string url = streaming_server().url();
  CURL* handle = curl_easy_init();
  std::uint64_t bytes = 0;
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, count_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &bytes);
  for (auto _ : state) {
    bytes = 0;
    const CURLcode code = curl_easy_perform(handle);
    if (code != CURLE_OK || bytes != body_size()) {
      state.SkipWithError(code != CURLE_OK ? curl_easy_strerror(code) : "short body");
      break;
    }
  }
  curl_easy_cleanup(handle);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body_size()));
}

}  // namespace

void register_streaming_benchmarks() {
  benchmark::RegisterBenchmark("streaming/plain/tunedhttp", stream_tunedhttp)->UseRealTime();
  benchmark::RegisterBenchmark("streaming/plain/curl", stream_curl)->UseRealTime();
}

}  // namespace tunedhttp::bench
