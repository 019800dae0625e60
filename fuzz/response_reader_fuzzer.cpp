// The client's response reader fed the fuzz input directly, without a socket: the first byte
// chooses HEAD or not and a split size, the rest is fed in pieces of that size, as reads would
// deliver it, then EOF. The reader must end in an event or a clear error, never crash, never
// consume more than it was given, and never loop without progress.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "response_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tunedhttp::detail::ResponseReader;
  if (size == 0) return 0;
  const bool head = (data[0] & 1) != 0;
  const std::size_t piece = 1 + (data[0] >> 1);  // 1..128 bytes per read
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
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
