#pragma once
// Counts heap allocations in this process (malloc, calloc, realloc, and so operator new, which
// calls malloc), for the benchmarks' allocations-per-request figures. The counter interposes
// glibc's malloc in the benchmark program only; it counts calls, not bytes, on this thread only.

#include <cstdint>

namespace tunedhttp::bench {

/// Heap allocations made by the calling thread so far.
std::uint64_t allocations();

}  // namespace tunedhttp::bench
