// Which executors run handlers one at a time (is_serial): the lean path runs on them without a
// strand per request, so a wrong answer either costs a strand per request or races.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <tunedhttp/serial_executor.hpp>

namespace tunedhttp {
namespace {

namespace asio = boost::asio;

bool context_is_serial(int concurrency_hint) {
  asio::io_context context{concurrency_hint};
  return is_serial(context.get_executor());
}

TEST(SerialExecutor, AnIoContextIsSerialWhenTheHintPromisesOneThread) {
  EXPECT_TRUE(context_is_serial(1));
  // BlockingClient's: no locking of the reactor's I/O, which Asio allows only on one thread.
  EXPECT_TRUE(context_is_serial(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO));
  EXPECT_TRUE(context_is_serial(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE));
}

TEST(SerialExecutor, AnIoContextIsNotSerialWhenSeveralThreadsMayRunIt) {
  EXPECT_FALSE(context_is_serial(BOOST_ASIO_CONCURRENCY_HINT_DEFAULT));
  EXPECT_FALSE(context_is_serial(2));
  EXPECT_FALSE(context_is_serial(BOOST_ASIO_CONCURRENCY_HINT_SAFE));
}

TEST(SerialExecutor, AStrandIsSerialAndOtherExecutorsAreNot) {
  asio::io_context context;
  EXPECT_TRUE(is_serial(asio::make_strand(context)));
  EXPECT_TRUE(is_serial(asio::any_io_executor(asio::make_strand(context.get_executor()))));
  asio::thread_pool pool{1};
  EXPECT_FALSE(is_serial(pool.get_executor()));
  // serial_executor() keeps a serial executor and wraps any other in a strand.
  const asio::any_io_executor kept = serial_executor(asio::make_strand(context));
  EXPECT_TRUE(is_serial(kept));
  EXPECT_TRUE(is_serial(serial_executor(pool.get_executor())));
  pool.join();
}

}  // namespace
}  // namespace tunedhttp
