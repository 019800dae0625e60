#pragma once
// For tests of decisions without I/O: a seccomp filter, installed before the first test, makes
// every socket() and socketpair() in this process fail with EACCES. A decision test that
// reached for the network would fail instead of quietly using loopback.

namespace tunedhttp::testing_support {

/// Installs the filter (once; later calls do nothing). Returns false with `errno` set when the
/// kernel refuses it.
bool forbid_sockets();

}  // namespace tunedhttp::testing_support
