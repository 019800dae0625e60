#pragma once
// The read an idle connection always has in flight, as Go's readLoop keeps one: it sees a
// server close the connection the moment it does, and the next request on the connection adopts
// it as the first read of its response instead of cancelling it. Watching and checking a pooled
// connection then costs no system call: no epoll_ctl for a readiness wait, no recv(MSG_PEEK) at
// checkout, and no speculative recv before the response can have arrived.
//
// Why adopt rather than cancel: a read that completed (with the server's FIN, or with bytes)
// just as a request took the connection has consumed what it read. Asio also marks the socket
// drained after a short read, so a fresh read would wait for a readiness edge that never comes.
// The request must see that read's result, and only adoption guarantees it.

#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace tunedhttp::detail {

/// What the read of an idle connection returned.
struct IdleReadResult {
  boost::system::error_code error;
  std::size_t bytes = 0;  ///< read into the buffer given to start(), not yet committed
};

/// A driver that adopts an idle read without a type-erased handler: adopted() is called on the
/// socket's executor, and a driver whose handlers run on a strand of their own dispatches
/// itself onto it (bodiless_exchange.hpp).
class IdleReadAdopter {
 public:
  /// The read's result; called from the read's own completion handler, or posted to the
  /// socket's executor when the read had already completed.
  virtual void adopted(const IdleReadResult& read) = 0;

 protected:
  ~IdleReadAdopter() = default;
};

/// One read of an idle connection's socket, started when the pool keeps the connection and
/// adopted by the request that takes it. Thread-safe: the read completes on whichever thread
/// runs the reactor, while the request adopts it from its own strand.
class IdleRead {
 public:
  using Signature = void(boost::system::error_code, std::size_t);

  /// What runs, on the socket's executor, when a read completes before a request adopted it:
  /// the pool then judges the idle connection (and must not assume the owner is still there).
  /// `tag` is the one its start() was given.
  using OnUnadopted = std::function<void(const IdleReadResult& read, std::uint64_t tag)>;

  IdleRead() : core_(std::make_shared<Core>()) {}

  /// Whether judge_with() was called.
  bool judged() const { return static_cast<bool>(core_->on_unadopted); }
  /// Sets what runs for a read no request adopted; once, before the first start(). Set once per
  /// connection rather than given to each start(): what it holds (the pool's and the owner's
  /// weak references) would cost every read four atomic operations.
  void judge_with(OnUnadopted on_unadopted) {
    std::lock_guard lock(core_->mutex);
    core_->on_unadopted = std::move(on_unadopted);
  }

  /// Starts reading `socket` into `buffer` unless a read is already under way. The socket and
  /// the buffer belong to this object's owner. If the read completes before a request adopts
  /// it, judge_with()'s function is called with `tag`.
  void start(boost::asio::ip::tcp::socket& socket, boost::asio::mutable_buffer buffer,
             std::uint64_t tag) {
    {
      std::lock_guard lock(core_->mutex);
      if (core_->state != State::none) return;
      core_->set_state(State::in_flight);
      core_->socket = &socket;
      core_->tag = tag;
    }
    // The handler holds the core, never the owner: a read that ends after the owner let go (a
    // connection closed) must not be what releases it, on whichever thread that is. No
    // cancellation slot is bound: an adopter's cancellation cancels the socket (Core::adopt).
    socket.async_read_some(buffer, ReadHandler(core_));
  }

  /// Whether a read is in flight or has a result no request adopted yet.
  bool adoptable() const {
    std::lock_guard lock(core_->mutex);
    return core_->state != State::none;
  }

  /// The result of a read that completed while the connection was idle, or nullopt while it is
  /// still in flight (or none was started).
  std::optional<IdleReadResult> finished() const {
    // Every checkout asks, and the read is nearly always still in flight: that answer needs no
    // lock. It can be stale by the time it is used either way; adoption is what is exact.
    if (!core_->has_result.load(std::memory_order_acquire)) return std::nullopt;
    std::lock_guard lock(core_->mutex);
    if (core_->state != State::finished) return std::nullopt;
    return core_->result;
  }

  /// As finished(), and the result is the caller's: no request adopts it, and start() may
  /// start the next read.
  std::optional<IdleReadResult> take_finished() {
    std::lock_guard lock(core_->mutex);
    if (core_->state != State::finished) return std::nullopt;
    core_->set_state(State::none);
    return core_->result;
  }

  /// As async_adopt, without a type-erased handler: the result goes to `adopter` straight from
  /// the read's handler, on the socket's executor, with no dispatch (IdleReadAdopter). Cancelled
  /// by closing the socket (the read then ends with operation_aborted).
  /// Returns false, and adopts nothing, when there is no read to adopt (adoptable() is false):
  /// one lock instead of two for the caller that would ask first.
  bool adopt_directly(std::shared_ptr<IdleReadAdopter> adopter) {
    std::unique_lock lock(core_->mutex);
    if (core_->state == State::none) return false;
    if (core_->state == State::finished) {
      core_->set_state(State::none);
      const auto kept = core_->result;
      lock.unlock();
      // Posted, not called: the caller may be inside an initiating function.
      boost::asio::post(core_->socket->get_executor(),
                        [adopter = std::move(adopter), kept] { adopter->adopted(kept); });
      return true;
    }
    core_->direct = std::move(adopter);
    return true;
  }

  /// Completes with the read's result (error, bytes read into the buffer given to start()) once
  /// it has one; at once if it already has. Supports per-operation cancellation, which cancels
  /// the read. Only when adoptable(); the caller owns the owner until it completes.
  template <class Token>
  auto async_adopt(Token&& token) {
    return boost::asio::async_initiate<Token, Signature>(
        [core = core_.get()](auto handler) { core->adopt(std::move(handler)); }, token);
  }

 private:
  enum class State { none, in_flight, finished };

  struct Core;

  // The socket read's handler. Destroyed without having been called (its io_context destroyed
  // with the read pending, as a program shuts down), it lets go of the request waiting to adopt
  // the read: that request holds the connection, which holds this read, so the cycle would keep
  // the socket open for ever.
  class ReadHandler {
   public:
    explicit ReadHandler(std::shared_ptr<Core> core) : core_(std::move(core)) {}
    ReadHandler(ReadHandler&&) noexcept = default;  // leaves the moved-from one without a core
    ReadHandler& operator=(ReadHandler&&) = delete;
    ~ReadHandler() {
      if (core_) core_->abandon();
    }

    void operator()(const boost::system::error_code& ec, std::size_t n) {
      const auto core = std::move(core_);  // called: nothing to abandon
      const IdleReadResult read{ec, n};
      std::uint64_t tag = 0;
      if (!core->complete(read, tag)) core->on_unadopted(read, tag);
    }

   private:
    std::shared_ptr<Core> core_;
  };

  struct Core {
    template <class Handler>
    void adopt(Handler handler) {
      namespace asio = boost::asio;
      std::unique_lock lock(mutex);
      if (state == State::finished) {
        set_state(State::none);
        const auto kept = result;
        lock.unlock();
        // Posted, not called: the caller is inside its initiation.
        const auto executor = asio::get_associated_executor(handler, socket->get_executor());
        asio::post(executor, [handler = std::move(handler), kept]() mutable {
          std::move(handler)(kept.error, kept.bytes);
        });
        return;
      }
      waiter_executor = asio::get_associated_executor(handler, socket->get_executor());
      // (Swapped in: Boost 1.81's move assignment of any_completion_handler recurses forever.)
      asio::any_completion_handler<Signature> adopter(std::move(handler));
      // The type-erased handler carries its own cancellation slot, connected to the handler's.
      // Any cancellation ends the request for good and closes its connection (Client), so it
      // may cancel everything on the socket: the read needs no slot of its own, which would
      // cost every read of every idle connection.
      if (auto slot = adopter.get_cancellation_slot(); slot.is_connected()) {
        slot.assign([this](asio::cancellation_type type) {
          if (type == asio::cancellation_type::none) return;
          boost::system::error_code ignored;
          socket->cancel(ignored);
        });
      }
      adopter.swap(waiter);
    }

    // Records the read's result. Hands it to an adopting request and returns true, or keeps it
    // for one and returns false with its start()'s `tag`.
    bool complete(const IdleReadResult& read, std::uint64_t& read_tag) {
      namespace asio = boost::asio;
      std::unique_lock lock(mutex);
      read_tag = tag;
      if (direct) {
        set_state(State::none);
        const auto adopter = std::move(direct);
        direct.reset();
        lock.unlock();
        adopter->adopted(read);
        return true;
      }
      if (!waiter) {
        set_state(State::finished);
        result = read;
        return false;
      }
      set_state(State::none);
      auto adopter = std::move(waiter);  // leaves waiter empty
      const auto executor = std::move(waiter_executor);
      lock.unlock();
      // The adopter's cancellation slot is cleared on its executor, where it is emitted.
      asio::dispatch(executor, [adopter = std::move(adopter), read]() mutable {
        auto slot = asio::get_associated_cancellation_slot(adopter);
        if (slot.is_connected()) slot.clear();
        std::move(adopter)(read.error, read.bytes);
      });
      return true;
    }

    // The read will never complete: drops whoever waits to adopt it (outside the lock, as
    // dropping them may destroy the connection that holds this core's other reference).
    void abandon() {
      boost::asio::any_completion_handler<Signature> dropped_waiter;
      std::shared_ptr<IdleReadAdopter> dropped_direct;
      std::lock_guard lock(mutex);
      // (Swapped out: Boost 1.81's move assignment of any_completion_handler recurses forever.)
      dropped_waiter.swap(waiter);
      dropped_direct.swap(direct);
      set_state(State::none);
    }

    // Every change of state goes through here, under the mutex.
    void set_state(State next) {
      state = next;
      has_result.store(next == State::finished, std::memory_order_release);
    }

    std::mutex mutex;
    State state = State::none;
    /// state == finished, readable without the mutex (finished()).
    std::atomic<bool> has_result{false};
    IdleReadResult result;
    boost::asio::any_completion_handler<Signature> waiter;
    std::shared_ptr<IdleReadAdopter> direct;  ///< adopt_directly()'s adopter, while it waits
    boost::asio::any_io_executor waiter_executor;
    /// The socket read (the owner's): its executor serves a handler without one of its own.
    boost::asio::ip::tcp::socket* socket = nullptr;
    std::uint64_t tag = 0;     ///< start()'s
    OnUnadopted on_unadopted;  ///< judge_with()'s: set before the first read, then only read
  };

  std::shared_ptr<Core> core_;
};

}  // namespace tunedhttp::detail
