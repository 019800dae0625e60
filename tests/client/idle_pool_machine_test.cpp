// The idle pool's decisions, driven without sockets or clocks: one row per Go Transport rule,
// with connections and waiters as plain numbers and time as exact values.
#include "idle_pool_machine.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace tunedhttp::detail {
namespace {

using namespace std::chrono_literals;
using Machine = IdlePoolMachine<int, int>;
using Closed = Machine::Closed;
using TimePoint = Machine::TimePoint;

const TimePoint t0{};  // time is data: every row counts from here
const auto alive = [](int) { return std::optional<CloseReason>{}; };

PoolLimits limits(std::chrono::nanoseconds idle_conn = 90s, std::size_t max_all = 100,
                  std::size_t max_host = 2) {
  return PoolLimits{idle_conn, max_all, max_host};
}

// Puts `connection` back for `key` and expects it kept idle.
void put_idle(Machine& pool, int connection, const std::string& key, TimePoint at) {
  std::vector<Closed> closed;
  const auto result = pool.put(connection, key, at, closed);
  ASSERT_FALSE(result.refused) << "connection " << connection << " refused";
  ASSERT_FALSE(result.handed_to);
}

std::optional<int> take(Machine& pool, const std::string& key, TimePoint at) {
  std::vector<Closed> closed;
  return pool.take(key, at, closed, alive).connection;
}

std::uint64_t closes(const Machine& pool, CloseReason reason) {
  const auto stats = pool.stats();
  const auto found = stats.closes_by_reason.find(close_reason_name(reason));
  return found == stats.closes_by_reason.end() ? 0 : found->second;
}

struct Rule {
  const char* name;
  const char* go;  ///< the rule in Go's transport.go this row encodes
  PoolLimits limits;
  std::function<void(Machine&)> check;
};

const Rule rules[] = {
    {"lifo_per_host", "queueForIdleConn takes the most recently used idle connection", limits(),
     [](Machine& pool) {
       put_idle(pool, 1, "h", t0);
       put_idle(pool, 2, "h", t0 + 1ms);
       put_idle(pool, 3, "other", t0 + 2ms);
       EXPECT_EQ(take(pool, "h", t0 + 3ms), 2);
       EXPECT_EQ(take(pool, "h", t0 + 3ms), 1);
       EXPECT_EQ(take(pool, "h", t0 + 3ms), std::nullopt);
       EXPECT_EQ(pool.stats().reuses, 2u);
     }},
    {"idle_time_reported", "GotConnInfo.IdleTime is the time since the connection was put",
     limits(),
     [](Machine& pool) {
       put_idle(pool, 1, "h", t0 + 5ms);
       std::vector<Closed> closed;
       const auto taken = pool.take("h", t0 + 12ms, closed, alive);
       EXPECT_EQ(taken.idle_time, 7ms);
     }},
    {"host_cap_closes_returning", "tryPutIdleConn: len(idleConn[key]) >= maxIdleConnsPerHost",
     limits(90s, 100, 2),
     [](Machine& pool) {
       put_idle(pool, 1, "h", t0);
       put_idle(pool, 2, "h", t0);
       std::vector<Closed> closed;
       const auto result = pool.put(3, "h", t0, closed);
       EXPECT_EQ(result.refused, CloseReason::host_cap);
       EXPECT_TRUE(closed.empty());  // the caller closes the refused one
       EXPECT_EQ(closes(pool, CloseReason::host_cap), 1u);
       EXPECT_EQ(pool.stats().idle_per_host.at("h"), 2u);
     }},
    {"global_cap_evicts_least_recently_idled",
     "tryPutIdleConn: MaxIdleConns exceeded removes idleLRU.removeOldest()", limits(90s, 2, 2),
     [](Machine& pool) {
       put_idle(pool, 1, "a", t0);
       put_idle(pool, 2, "b", t0 + 1ms);
       std::vector<Closed> closed;
       const auto result = pool.put(3, "b", t0 + 2ms, closed);
       EXPECT_FALSE(result.refused);
       ASSERT_EQ(closed.size(), 1u);
       EXPECT_EQ(closed[0].connection, 1);
       EXPECT_EQ(closed[0].reason, CloseReason::global_cap);
       EXPECT_EQ(pool.stats().idle, 2u);
       EXPECT_EQ(take(pool, "a", t0 + 3ms), std::nullopt);
     }},
    {"global_cap_lru_counts_reuse", "a connection put back becomes the most recently idled",
     limits(90s, 2, 2),
     [](Machine& pool) {
       put_idle(pool, 1, "a", t0);
       put_idle(pool, 2, "b", t0 + 1ms);
       ASSERT_EQ(take(pool, "a", t0 + 2ms), 1);
       put_idle(pool, 1, "a", t0 + 3ms);
       std::vector<Closed> closed;
       pool.put(3, "c", t0 + 4ms, closed);
       ASSERT_EQ(closed.size(), 1u);
       EXPECT_EQ(closed[0].connection, 2);
     }},
    {"idle_conn_expired_at_take", "getConn skips an idle connection past IdleConnTimeout",
     limits(100ms),
     [](Machine& pool) {
       put_idle(pool, 1, "h", t0);
       put_idle(pool, 2, "h", t0 + 50ms);
       std::vector<Closed> closed;
       // At 100 ms connection 2 (LIFO) has 50 ms left; connection 1 has reached the limit.
       EXPECT_EQ(pool.take("h", t0 + 100ms, closed, alive).connection, 2);
       EXPECT_TRUE(closed.empty());
       EXPECT_EQ(pool.take("h", t0 + 100ms, closed, alive).connection, std::nullopt);
       ASSERT_EQ(closed.size(), 1u);
       EXPECT_EQ(closed[0].connection, 1);
       EXPECT_EQ(closed[0].reason, CloseReason::idle_timeout);
       EXPECT_EQ(closes(pool, CloseReason::idle_timeout), 1u);
     }},
    {"idle_conn_one_nanosecond_early", "never closed before IdleConnTimeout has passed",
     limits(100ms),
     [](Machine& pool) {
       put_idle(pool, 1, "h", t0);
       EXPECT_EQ(take(pool, "h", t0 + 100ms - 1ns), 1);
     }},
    {"idle_timer_measures_latest_put",
     "closeConnIfStillIdle: the timer is reset by each put (idleAt), never closes early",
     limits(100ms),
     [](Machine& pool) {
       put_idle(pool, 1, "h", t0);
       ASSERT_EQ(take(pool, "h", t0 + 60ms), 1);
       put_idle(pool, 1, "h", t0 + 70ms);
       // The timer armed by the first put fires at 100 ms: 70 ms into the second spell.
       const auto early = pool.idle_timer_fired(1, t0 + 100ms);
       EXPECT_FALSE(early.close);
       EXPECT_EQ(early.rearm_at, t0 + 170ms);
       const auto due = pool.idle_timer_fired(1, t0 + 170ms);
       EXPECT_TRUE(due.close);
       EXPECT_EQ(closes(pool, CloseReason::idle_timeout), 1u);
       EXPECT_EQ(pool.stats().idle, 0u);
     }},
    {"idle_timer_ignores_connection_in_use", "closeConnIfStillIdle: not idle, nothing to do",
     limits(100ms),
     [](Machine& pool) {
       put_idle(pool, 1, "h", t0);
       ASSERT_EQ(take(pool, "h", t0 + 10ms), 1);
       const auto verdict = pool.idle_timer_fired(1, t0 + 100ms);
       EXPECT_FALSE(verdict.close);
       EXPECT_FALSE(verdict.rearm_at);
     }},
    {"dead_at_take_is_skipped", "a connection the server closed is not handed out", limits(),
     [](Machine& pool) {
       put_idle(pool, 1, "h", t0);
       put_idle(pool, 2, "h", t0 + 1ms);
       std::vector<Closed> closed;
       const auto taken = pool.take("h", t0 + 2ms, closed, [](int connection) {
         return connection == 2 ? std::optional{CloseReason::server_closed} : std::nullopt;
       });
       EXPECT_EQ(taken.connection, 1);
       ASSERT_EQ(closed.size(), 1u);
       EXPECT_EQ(closed[0].reason, CloseReason::server_closed);
       EXPECT_EQ(pool.stats().reuses, 1u);
     }},
    {"watch_of_an_earlier_spell_is_ignored", "readLoop belongs to one use of the connection",
     limits(),
     [](Machine& pool) {
       std::vector<Closed> closed;
       const auto first = pool.put(1, "h", t0, closed).spell;
       ASSERT_EQ(take(pool, "h", t0 + 1ms), 1);
       const auto second = pool.put(1, "h", t0 + 2ms, closed).spell;
       const auto dead = [](int) { return std::optional{CloseReason::server_closed}; };
       EXPECT_EQ(pool.dead_while_idle(1, first, dead), std::nullopt);
       EXPECT_EQ(pool.dead_while_idle(1, second, dead), CloseReason::server_closed);
       EXPECT_EQ(pool.stats().idle, 0u);
     }},
    {"waiter_takes_returning_before_cap",
     "tryPutIdleConn hands the connection to a waiting getConn before any cap applies",
     limits(90s, 100, 0),
     [](Machine& pool) {
       std::vector<Closed> closed;
       ASSERT_FALSE(pool.take_or_wait("h", 7, t0, closed, alive).connection);
       EXPECT_EQ(pool.waiting("h"), 1u);
       const auto result = pool.put(1, "h", t0 + 1ms, closed);
       EXPECT_EQ(result.handed_to, 7);
       EXPECT_FALSE(result.refused);
       EXPECT_EQ(pool.landed(7), HandOff::deliver_reused);
       EXPECT_EQ(pool.stats().reuses, 1u);
       EXPECT_EQ(pool.waiting("h"), 0u);
     }},
    {"waiters_served_oldest_first", "idleConnWait is a FIFO queue per key", limits(),
     [](Machine& pool) {
       std::vector<Closed> closed;
       pool.take_or_wait("h", 7, t0, closed, alive);
       pool.take_or_wait("h", 8, t0, closed, alive);
       EXPECT_EQ(pool.put(1, "h", t0, closed).handed_to, 7);
       EXPECT_EQ(pool.put(2, "h", t0, closed).handed_to, 8);
       EXPECT_FALSE(pool.put(3, "h", t0, closed).handed_to);
     }},
    {"dial_result_goes_to_its_waiter", "dialConnFor delivers to its wantConn", limits(),
     [](Machine& pool) {
       std::vector<Closed> closed;
       pool.take_or_wait("h", 7, t0, closed, alive);
       EXPECT_TRUE(pool.dial_done(7));
       EXPECT_EQ(pool.landed(7), HandOff::deliver_dialed);
       EXPECT_EQ(pool.stats().reuses, 0u);
     }},
    {"dial_after_put_goes_to_pool",
     "dialConnFor: w.tryDeliver fails, the dialed connection is put in the idle pool", limits(),
     [](Machine& pool) {
       std::vector<Closed> closed;
       pool.take_or_wait("h", 7, t0, closed, alive);
       ASSERT_EQ(pool.put(1, "h", t0, closed).handed_to, 7);
       EXPECT_FALSE(pool.dial_done(7));  // the caller puts its dialed connection instead
       put_idle(pool, 2, "h", t0 + 1ms);
       EXPECT_EQ(pool.landed(7), HandOff::deliver_reused);
       EXPECT_EQ(pool.stats().idle, 1u);
     }},
    {"cancel_while_waiting", "wantConn.cancel removes it from idleConnWait", limits(),
     [](Machine& pool) {
       std::vector<Closed> closed;
       pool.take_or_wait("h", 7, t0, closed, alive);
       pool.cancel(7);
       EXPECT_EQ(pool.waiting("h"), 0u);
       EXPECT_FALSE(pool.put(1, "h", t0, closed).handed_to);
       EXPECT_FALSE(pool.dial_done(7));  // its dial, when done, feeds the pool
     }},
    {"cancel_during_put_hand_off",
     "wantConn.cancel after tryDeliver: the connection goes back via putOrCloseIdleConn", limits(),
     [](Machine& pool) {
       std::vector<Closed> closed;
       pool.take_or_wait("h", 7, t0, closed, alive);
       ASSERT_EQ(pool.put(1, "h", t0, closed).handed_to, 7);
       pool.cancel(7);  // between the hand-off and its arrival: the race to close
       EXPECT_EQ(pool.landed(7), HandOff::put_back);
       put_idle(pool, 1, "h", t0 + 1ms);
       EXPECT_EQ(pool.stats().reuses, 0u);  // nobody used it
       EXPECT_EQ(pool.stats().idle, 1u);
     }},
    {"cancel_during_dial_hand_off", "wantConn.cancel after a dial delivered: back to the pool",
     limits(),
     [](Machine& pool) {
       std::vector<Closed> closed;
       pool.take_or_wait("h", 7, t0, closed, alive);
       ASSERT_TRUE(pool.dial_done(7));
       pool.cancel(7);
       EXPECT_EQ(pool.landed(7), HandOff::put_back);
     }},
    {"cancel_after_landing", "a delivered wantConn is the request's own; cancel is a no-op",
     limits(),
     [](Machine& pool) {
       std::vector<Closed> closed;
       pool.take_or_wait("h", 7, t0, closed, alive);
       ASSERT_EQ(pool.put(1, "h", t0, closed).handed_to, 7);
       ASSERT_EQ(pool.landed(7), HandOff::deliver_reused);
       pool.cancel(7);
       EXPECT_EQ(pool.stats().reuses, 1u);
       EXPECT_EQ(pool.waiting("h"), 0u);
     }},
    {"close_idle_closes_now_and_on_return",
     "CloseIdleConnections sets closeIdle: returning connections close until getConn asks",
     limits(),
     [](Machine& pool) {
       put_idle(pool, 1, "a", t0);
       put_idle(pool, 2, "b", t0);
       std::vector<Closed> closed;
       pool.close_all(CloseReason::client_closed, closed);
       EXPECT_EQ(closed.size(), 2u);
       EXPECT_EQ(pool.put(3, "a", t0, closed).refused, CloseReason::client_closed);
       EXPECT_EQ(take(pool, "a", t0), std::nullopt);  // a request asks: closeIdle = false
       put_idle(pool, 4, "a", t0);
       EXPECT_EQ(closes(pool, CloseReason::client_closed), 3u);
     }},
    {"counters", "dials, retries and closes by the request are counted", limits(),
     [](Machine& pool) {
       pool.count_dial();
       pool.count_dial();
       pool.count_retry();
       pool.count_close(CloseReason::error);
       const auto stats = pool.stats();
       EXPECT_EQ(stats.dials, 2u);
       EXPECT_EQ(stats.retries, 1u);
       EXPECT_EQ(closes(pool, CloseReason::error), 1u);
     }},
};

class IdlePoolRule : public ::testing::TestWithParam<Rule> {};

TEST_P(IdlePoolRule, Holds) {
  SCOPED_TRACE(GetParam().go);
  Machine pool(GetParam().limits);
  GetParam().check(pool);
}

INSTANTIATE_TEST_SUITE_P(Go, IdlePoolRule, ::testing::ValuesIn(rules),
                         [](const ::testing::TestParamInfo<Rule>& test_info) {
                           return std::string(test_info.param.name);
                         });

}  // namespace
}  // namespace tunedhttp::detail

namespace tunedhttp::detail {
namespace {

// Heap allocations on this thread, counted by the replaced operator new below (not under the
// sanitizers, which bring their own).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool counting_allocations = false;
#else
constexpr bool counting_allocations = true;
#endif
thread_local std::size_t allocations = 0;

TEST(IdlePoolMachine, PutAndTakeOfAReusedConnectionAllocateNothing) {
  if (!counting_allocations) GTEST_SKIP() << "allocations are the sanitizer's to count";
  Machine pool(limits());
  std::vector<Closed> closed;
  closed.reserve(4);
  put_idle(pool, 1, "http://127.0.0.1:8080-a-key-longer-than-sso", t0);  // warms every node
  ASSERT_EQ(take(pool, "http://127.0.0.1:8080-a-key-longer-than-sso", t0), 1);
  const std::string key = "http://127.0.0.1:8080-a-key-longer-than-sso";
  const auto before = allocations;
  for (int i = 0; i < 100; ++i) {
    pool.put(1, key, t0, closed);
    pool.take(key, t0, closed, alive);
  }
  EXPECT_EQ(allocations - before, 0u) << "allocations in 100 put/take cycles";
}

TEST(IdlePoolMachine, SpareNodesHoldNoConnection) {
  IdlePoolMachine<std::shared_ptr<int>, int> pool(limits());
  auto connection = std::make_shared<int>(1);
  std::vector<PoolClosed<std::shared_ptr<int>>> closed;
  pool.put(connection, "h", t0, closed);
  EXPECT_GT(connection.use_count(), 1);
  const auto taken =
      pool.take("h", t0, closed, [](const auto&) { return std::optional<CloseReason>{}; });
  ASSERT_EQ(taken.connection, connection);
  EXPECT_EQ(connection.use_count(), 2) << "the pool still holds the connection it handed out";
}

TEST(IdlePoolMachine, ManyHostsComeAndGo) {
  Machine pool(limits(90s, 1000, 2));
  for (int i = 0; i < 500; ++i) {
    put_idle(pool, i, "host" + std::to_string(i), t0);
    ASSERT_EQ(take(pool, "host" + std::to_string(i), t0), i);
  }
  put_idle(pool, 1000, "last", t0);
  EXPECT_EQ(pool.stats().idle, 1u);
  EXPECT_EQ(pool.stats().idle_per_host.size(), 1u);
}

}  // namespace
}  // namespace tunedhttp::detail

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// Counts this binary's allocations (per thread) for the test above.
void* operator new(std::size_t size) {
  ++tunedhttp::detail::allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
#endif
