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
  void judge_with(OnUnadopted on_unadopted) { core_->on_unadopted = std::move(on_unadopted); }

  /// Starts reading `socket` into `buffer` unless a read is already under way. The socket and
  /// the buffer belong to this object's owner, who holds the connection alone (idle, under the
  /// pool's lock). If the read completes before a request adopts it, judge_with()'s function is
  /// called with `tag`.
  void start(boost::asio::ip::tcp::socket& socket, boost::asio::mutable_buffer buffer,
             std::uint64_t tag) {
    // No read, so no handler that could change the state: only the owner does.
    if (core_->state.load(std::memory_order_acquire) != State::none) return;
    core_->socket = &socket;
    core_->tag = tag;
    core_->state.store(State::in_flight, std::memory_order_release);
    // The handler holds the core, never the owner: a read that ends after the owner let go (a
    // connection closed) must not be what releases it, on whichever thread that is. No
    // cancellation slot is bound: an adopter's cancellation cancels the socket (Core::adopt).
    socket.async_read_some(buffer, ReadHandler(core_));
  }

  /// Whether a read is in flight or has a result no request adopted yet.
  bool adoptable() const { return core_->state.load(std::memory_order_acquire) != State::none; }

  /// The result of a read that completed while the connection was idle, or nullopt while it is
  /// still in flight (or none was started). For the owner holding the connection alone.
  std::optional<IdleReadResult> finished() const {
    if (core_->state.load(std::memory_order_acquire) != State::finished) return std::nullopt;
    return core_->result;
  }

  /// As finished(), and the result is the caller's: no request adopts it, and start() may
  /// start the next read.
  std::optional<IdleReadResult> take_finished() { return core_->take_result(); }

  /// As async_adopt, without a type-erased handler: the result goes to `adopter` straight from
  /// the read's handler, on the socket's executor, with no dispatch (IdleReadAdopter). Cancelled
  /// by closing the socket (the read then ends with operation_aborted).
  /// Returns false, and adopts nothing, when there is no read to adopt (adoptable() is false).
  bool adopt_directly(std::shared_ptr<IdleReadAdopter> adopter) {
    Core& core = *core_;
    if (core.state.load(std::memory_order_acquire) == State::in_flight) {
      core.direct = std::move(adopter);
      if (core.publish_adopter()) return true;
      adopter = std::move(core.direct);  // the read ended first: its result, or abandoned
    }
    const auto kept = core.take_result();
    if (!kept) return false;
    // Posted, not called: the caller may be inside an initiating function.
    boost::asio::post(core.socket->get_executor(),
                      [adopter = std::move(adopter), read = *kept] { adopter->adopted(read); });
    return true;
  }

  /// Completes with the read's result (error, bytes read into the buffer given to start()) once
  /// it has one; at once if it already has. Supports per-operation cancellation, which cancels
  /// every operation on the socket (the caller closes the connection then: Client's cancellation
  /// is terminal). Only when adoptable(); the caller owns the owner until it completes.
  template <class Token>
  auto async_adopt(Token&& token) {
    return boost::asio::async_initiate<Token, Signature>(
        [core = core_.get()](auto handler) { core->adopt(std::move(handler)); }, token);
  }

 private:
  // One atomic word orders the owner (start, adoption, the pool's checks) and the read's
  // handler, which may run on another thread. Each non-atomic member is written by one side
  // before a store or exchange of the state publishes it, and read by the other after a load
  // that sees that state:
  // - none: no read. Only the owner acts (start).
  // - in_flight: the read is pending. The owner may publish an adopter (adopting); the handler
  //   may publish its result (finished).
  // - adopting: an adopter waits (direct or waiter). The handler takes it and sets none.
  // - finished: the result waits. The owner takes it and sets none.
  // (Three uncontended mutex sections per pooled request, before: about 160 instructions.)
  enum class State : unsigned char { none, in_flight, adopting, finished };

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
    // in_flight -> adopting, for an adopter already stored (direct or waiter). False when the
    // read ended first (finished, or none when abandoned): the caller takes its adopter back.
    bool publish_adopter() {
      auto expected = State::in_flight;
      return state.compare_exchange_strong(expected, State::adopting);
    }

    // finished -> none, with the result; nullopt in any other state.
    std::optional<IdleReadResult> take_result() {
      auto expected = State::finished;
      if (!state.compare_exchange_strong(expected, State::none)) return std::nullopt;
      return result;
    }

    template <class Handler>
    void adopt(Handler handler) {
      namespace asio = boost::asio;
      const auto executor = asio::get_associated_executor(handler, socket->get_executor());
      // (Swapped in: Boost 1.81's move assignment of any_completion_handler recurses forever.)
      asio::any_completion_handler<Signature> adopter(std::move(handler));
      // The type-erased handler carries its own cancellation slot, connected to the handler's.
      // Any cancellation ends the request for good and closes its connection (Client), so it
      // may cancel everything on the socket: the read needs no slot of its own, which would
      // cost every read of every idle connection.
      auto slot = adopter.get_cancellation_slot();
      if (slot.is_connected()) {
        slot.assign([this](asio::cancellation_type type) {
          if (type == asio::cancellation_type::none) return;
          boost::system::error_code ignored;
          socket->cancel(ignored);
        });
      }
      if (state.load(std::memory_order_acquire) == State::in_flight) {
        waiter_executor = executor;
        adopter.swap(waiter);
        if (publish_adopter()) return;
        adopter.swap(waiter);  // the read ended first
        waiter_executor = asio::any_io_executor();
      }
      if (slot.is_connected()) slot.clear();  // on the adopter's executor: it is running here
      // The result, or nothing to adopt (abandoned, as the program shuts down).
      const auto kept = take_result();
      const IdleReadResult read = kept ? *kept : IdleReadResult{asio::error::operation_aborted, 0};
      // Posted, not called: the caller is inside its initiation.
      asio::post(executor, [adopter = std::move(adopter), read]() mutable {
        std::move(adopter)(read.error, read.bytes);
      });
    }

    // Records the read's result. Hands it to an adopting request and returns true, or keeps it
    // for one and returns false with its start()'s `tag`.
    bool complete(const IdleReadResult& read, std::uint64_t& read_tag) {
      if (state.load(std::memory_order_acquire) == State::in_flight) {
        result = read;
        read_tag = tag;  // before it is published: the next start() may change it after
        auto expected = State::in_flight;
        if (state.compare_exchange_strong(expected, State::finished)) return false;
      }
      deliver(read);  // adopting: an adopter was published
      return true;
    }

    // adopting -> none: hands `read` to the adopter that waits.
    void deliver(const IdleReadResult& read) {
      namespace asio = boost::asio;
      if (direct) {
        const auto adopter = std::move(direct);  // leaves direct empty
        state.store(State::none, std::memory_order_release);
        adopter->adopted(read);
        return;
      }
      asio::any_completion_handler<Signature> adopter;
      adopter.swap(waiter);  // leaves waiter empty
      const auto executor = std::move(waiter_executor);
      state.store(State::none, std::memory_order_release);
      // The adopter's cancellation slot is cleared on its executor, where it is emitted.
      asio::dispatch(executor, [adopter = std::move(adopter), read]() mutable {
        auto slot = asio::get_associated_cancellation_slot(adopter);
        if (slot.is_connected()) slot.clear();
        std::move(adopter)(read.error, read.bytes);
      });
    }

    // The read will never complete: drops whoever waits to adopt it (as dropping them may
    // destroy the connection that holds this core's other reference, they are moved out first).
    void abandon() {
      if (state.exchange(State::none) != State::adopting) return;
      boost::asio::any_completion_handler<Signature> dropped_waiter;
      const std::shared_ptr<IdleReadAdopter> dropped_direct = std::move(direct);
      // (Swapped out: Boost 1.81's move assignment of any_completion_handler recurses forever.)
      dropped_waiter.swap(waiter);
    }

    std::atomic<State> state{State::none};
    IdleReadResult result;  ///< the handler's, published by finished
    boost::asio::any_completion_handler<Signature> waiter;  ///< async_adopt's, by adopting
    std::shared_ptr<IdleReadAdopter> direct;  ///< adopt_directly's, published by adopting
    boost::asio::any_io_executor waiter_executor;
    /// The socket read (the owner's): its executor serves a handler without one of its own.
    boost::asio::ip::tcp::socket* socket = nullptr;
    std::uint64_t tag = 0;     ///< start()'s, published by in_flight
    OnUnadopted on_unadopted;  ///< judge_with()'s: set before the first read, then only read
  };

  std::shared_ptr<Core> core_;
};

}  // namespace tunedhttp::detail
