// The client's response reader fed the fuzz input directly, without a socket: the first byte
// chooses HEAD or not and a split size, the rest is fed in pieces of that size, as reads would
// deliver it, then EOF. The reader must end in an event or a clear error, never crash, never
// consume more than it was given, and never loop without progress.
// The input is also fed whole to a reader that may take the quick path (quick_response.hpp) and
// to one that may not: their steps and messages must be the same.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "response_reader.hpp"

namespace {

using tunedhttp::detail::ResponseReader;

// The steps (event, bytes used, error) and, when complete, the message and keep-alive of
// `input` fed whole, then EOF if more is needed.
std::string read_whole(const std::string& input, bool quick) {
  ResponseReader reader(64 * 1024, 1024 * 1024, /*head=*/false, quick);
  std::string trace;
  boost::asio::const_buffer rest(input.data(), input.size());
  for (int events = 0; events < 64; ++events) {
    auto step = reader.feed(rest);
    rest += step.consumed;
    if (step.event == ResponseReader::Event::need_more) step = reader.feed_eof();
    trace += std::to_string(static_cast<int>(step.event)) + "/" + std::to_string(step.consumed) +
             "/" + step.error.message() + ";";
    if (step.event == ResponseReader::Event::complete) {
      const bool keep_alive = reader.keep_alive();
      auto message = reader.release();
      trace += std::to_string(message.version()) + " " + std::to_string(message.result_int()) +
               " " + std::string(message.reason()) + (keep_alive ? " keep" : " close") + "\n";
      for (const auto& field : message) {
        trace += std::string(field.name_string()) + ":" + std::string(field.value()) + "\n";
      }
      return trace + message.body();
    }
    if (step.event == ResponseReader::Event::failed ||
        step.event == ResponseReader::Event::need_more) {
      return trace;
    }
  }
  return trace;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool head = (data[0] & 1) != 0;
  const std::size_t piece = 1 + (data[0] >> 1);  // 1..128 bytes per read
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  if (read_whole(input, true) != read_whole(input, false)) __builtin_trap();
  ResponseReader reader(64 * 1024, 1024 * 1024, head);
  std::string buffered;
  std::size_t next = 0;
  for (int events = 0; events < 100000; ++events) {
    const auto step = reader.feed(boost::asio::buffer(buffered));
    if (step.consumed > buffered.size()) __builtin_trap();
    buffered.erase(0, step.consumed);
    if (step.event == ResponseReader::Event::complete) {
      (void)reader.release();
      return 0;
    }
    if (step.event == ResponseReader::Event::failed) return 0;
    if (step.event != ResponseReader::Event::need_more) continue;  // 100 or another 1xx
    if (next == input.size()) {
      (void)reader.feed_eof();
      return 0;
    }
    const std::size_t take = std::min(piece, input.size() - next);
    buffered.append(input, next, take);
    next += take;
  }
  __builtin_trap();  // no progress: the reader looped
}
