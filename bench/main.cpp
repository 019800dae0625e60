// The benchmark program: Google Benchmark's command line, plus `--serve plain|tls`, which runs the
// benchmark server alone (the memory benchmarks start it in a child process).
#include <curl/curl.h>

#include <cstring>
#include <iostream>

#include "common.hpp"

int main(int argc, char** argv) {
  using namespace tunedhttp::bench;
  if (argc == 3 && std::strcmp(argv[1], "--serve") == 0) {
    return serve_until_stdin_closes(std::strcmp(argv[2], "tls") == 0);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  register_client_benchmarks();
  register_peer_benchmarks();
  register_go_client_benchmarks();
  register_streaming_benchmarks();
  register_server_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("smoke", smoke() ? "yes" : "no");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  curl_global_cleanup();
  return 0;
}
