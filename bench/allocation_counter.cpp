#include "allocation_counter.hpp"

#include <cstddef>

// glibc's own entry points, which the interposed functions forward to.
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
}

namespace {
// Per thread: the in-process servers run on threads of their own and are not counted with the
// client that is measured on the benchmark's thread. (Plain zero-initialised TLS: safe in malloc.)
thread_local std::uint64_t allocation_count = 0;
}  // namespace

// Interposed: the program's definitions win over libc's for every caller, libcurl included.
extern "C" {
void* malloc(std::size_t size) {
  ++allocation_count;
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  ++allocation_count;
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, std::size_t size) {
  ++allocation_count;
  return __libc_realloc(pointer, size);
}
}

namespace tunedhttp::bench {

std::uint64_t allocations() { return allocation_count; }

}  // namespace tunedhttp::bench
