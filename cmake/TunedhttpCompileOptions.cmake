# Warning and sanitizer flags shared by every target of the project, through one interface target.
add_library(tunedhttp_compile_options INTERFACE)
add_library(tunedhttp::compile_options ALIAS tunedhttp_compile_options)
target_compile_options(tunedhttp_compile_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
# GCC 12 misreads Asio's coroutine frame allocator (aligned_alloc paired with its own
# operator delete) as a mismatched new/delete once inlining crosses a coroutine boundary.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(tunedhttp_compile_options INTERFACE -Wno-mismatched-new-delete)
endif()
# A unity build (CMAKE_UNITY_BUILD, what `make` configures) compiles several sources as one file,
# so a type in a source's anonymous namespace is no longer in "the main file". GCC then warns
# when a coroutine frame (which has linkage) holds one; in a separate build it is silent.
if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(tunedhttp_compile_options INTERFACE -Wno-subobject-linkage)
endif()
if(TUNEDHTTP_WERROR)
  target_compile_options(tunedhttp_compile_options INTERFACE -Werror)
endif()

if(TUNEDHTTP_SANITIZE STREQUAL "address")
  set(sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
elseif(TUNEDHTTP_SANITIZE STREQUAL "thread")
  set(sanitize_flags -fsanitize=thread -fno-omit-frame-pointer)
  # GCC warns that TSan does not model std::atomic_thread_fence, which Asio's fenced blocks use
  # around handler calls. Those handlers are also handed over under the scheduler's mutex, which
  # TSan does model, so the fences add nothing TSan needs to see.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set(tsan_only_flags -Wno-tsan)
  endif()
elseif(NOT TUNEDHTTP_SANITIZE STREQUAL "")
  message(FATAL_ERROR "TUNEDHTTP_SANITIZE must be empty, 'address' or 'thread', not '${TUNEDHTTP_SANITIZE}'")
endif()
if(sanitize_flags)
  # Sanitizer instrumentation makes GCC's flow analysis report uninitialized reads inside
  # Beast's parser that it does not report in normal builds.
  target_compile_options(tunedhttp_compile_options INTERFACE ${sanitize_flags}
                                                             -Wno-maybe-uninitialized ${tsan_only_flags})
  target_link_options(tunedhttp_compile_options INTERFACE ${sanitize_flags})
endif()
