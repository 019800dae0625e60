#pragma once
// How `tunedhttp request` carries out its checked flags: `parallel` workers each sending
// `count` requests through one client, reporting each request (request_report.hpp).

#include <chrono>
#include <string>
#include <tunedhttp/client.hpp>

namespace tunedhttp::program {

/// Everything a run needs, checked: the request every worker sends and the client's options.
struct RequestPlan {
  Request request;
  ClientOptions options;
  int count = 1;
  int parallel = 1;
  int threads = 1;  ///< threads running the client and the workers; at most `parallel` are used
  bool json = false;
  bool verbose = false;
  std::chrono::nanoseconds max_time{0};  ///< per request; 0: none
  std::chrono::nanoseconds interval{0};  ///< pause between a worker's requests
  std::string timeline;                  ///< SVG file to write (empty: none)
  std::string trace_out;                 ///< Chrome Trace Event JSON file to write (empty: none)
  std::string title;                     ///< the pictures' title (the URL)
  /// -o FILE: every body is streamed to this file, one after the other (empty: stdout). With
  /// -o or --json the body is never held whole, only one read's worth at a time.
  std::string output;
  /// --data @FILE of a regular file: each request streams it (a BodySource), never held whole.
  std::string data_file;
};

/// Runs the plan; returns the exit code: 0 when every request got a response, 1 when any failed
/// (or a picture could not be written), 2 when the client's TLS options cannot be used (a
/// --cacert that holds no certificate).
int run_plan(RequestPlan plan);

}  // namespace tunedhttp::program
