#pragma once
// Test helpers: a Server on its own io_context thread, and a raw client (plain Asio sockets, not
// the tunedhttp client) whose every wait has a deadline and whose every completion has a time.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <tunedhttp/mockserver/server.hpp>
#include <tunedhttp/units.hpp>
#include <vector>

namespace tunedhttp::mockserver::testing {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

/// How late an observed event may be (never early): the project's one timing tolerance
/// (TUNEDHTTP_TIMING_SCALE scales it).
inline Clock::duration tolerance() { return tunedhttp::timing_tolerance(); }

inline long long ms(Clock::duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

/// Checks "at least `expected`, at most `expected + tolerance()`" with a got/want message.
inline void expect_elapsed(Clock::duration elapsed, Clock::duration expected, const char* what) {
  EXPECT_EQ(tunedhttp::timing_problem(expected, elapsed), "") << what;
}

/// A Server on its own io_context thread; stopped and joined at the end of the test.
class ServerThread {
 public:
  explicit ServerThread(ServerOptions options) : server_(io_.get_executor(), std::move(options)) {
    server_.start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ServerThread() {
    server_.stop();
    work_.reset();
    thread_.join();
  }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  Server& server() { return server_; }
  EventLog& events() { return server_.events(); }
  tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), server_.port()}; }
  /// The event, or a test failure naming what was awaited.
  std::optional<Event> wait_for(EventKind kind, std::uint64_t connection,
                                Clock::duration limit = 2s) {
    auto event = events().wait_for(kind, connection, Clock::now() + limit);
    EXPECT_TRUE(event) << "no " << event_kind_name(kind) << " event on connection " << connection
                       << " within " << ms(limit) << " ms";
    return event;
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  Server server_;
  std::thread thread_;
};

/// A client connection on its own io_context, driven from the test thread.
class RawClient {
 public:
  RawClient() = default;

  /// Starts connecting; see connected().
  void start_connect(const tcp::endpoint& endpoint) {
    socket_.async_connect(endpoint, [this](const boost::system::error_code& error) {
      connect_error_ = error;
      connected_at_ = Clock::now();
    });
  }
  /// Runs until the connect completes or the deadline passes; true if it completed.
  bool connected_by(Clock::time_point deadline) {
    return run_until([&] { return connected_at_.has_value(); }, deadline);
  }
  std::optional<Clock::time_point> connected_at() const { return connected_at_; }
  boost::system::error_code connect_error() const { return connect_error_; }

  /// Connects (2 s limit) or fails the test.
  bool connect(const tcp::endpoint& endpoint) {
    start_connect(endpoint);
    const bool done = connected_by(Clock::now() + 2s);
    EXPECT_TRUE(done && !connect_error_) << "connect: " << connect_error_.message();
    return done && !connect_error_;
  }

  /// Wraps the connection in TLS trusting `ca_pem` (verifying the name 127.0.0.1).
  void use_tls(const std::string& ca_pem) {
    tls_context_.add_certificate_authority(asio::buffer(ca_pem));
    tls_context_.set_verify_mode(ssl::verify_peer);
    tls_.emplace(socket_, tls_context_);
    tls_->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  }
  void start_handshake() {
    tls_->async_handshake(ssl::stream_base::client, [this](const boost::system::error_code& e) {
      handshake_error_ = e;
      handshake_at_ = Clock::now();
    });
  }
  bool handshake_by(Clock::time_point deadline) {
    return run_until([&] { return handshake_at_.has_value(); }, deadline);
  }
  std::optional<Clock::time_point> handshake_at() const { return handshake_at_; }
  boost::system::error_code handshake_error() const { return handshake_error_; }

  /// Writes all of `text`; returns the time the write *started*: the server cannot have read
  /// the data before, whereas this thread may notice the completion late on a loaded machine,
  /// so measuring from here never makes a server early.
  Clock::time_point write(const std::string& text) {
    const auto started = Clock::now();
    bool done = false;
    auto handler = [&](const boost::system::error_code& error, std::size_t) {
      EXPECT_FALSE(error) << "write: " << error.message();
      done = true;
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(text), handler);
    } else {
      asio::async_write(socket_, asio::buffer(text), handler);
    }
    EXPECT_TRUE(run_until([&] { return done; }, Clock::now() + 2s)) << "write timed out";
    return started;
  }

  struct Read {
    std::string text;  ///< everything up to and including the delimiter
    boost::system::error_code error;
    Clock::time_point at;
  };
  /// Reads until `delimiter` or the deadline; nullopt if the deadline passed first (the read
  /// stays pending: call again with a later deadline to keep waiting).
  std::optional<Read> read_until(const std::string& delimiter, Clock::time_point deadline) {
    if (!pending_read_) {
      pending_read_.emplace();
      auto handler = [this](const boost::system::error_code& error, std::size_t n) {
        auto data = buffer_.data();
        pending_read_->text.assign(asio::buffers_begin(data), asio::buffers_begin(data) + n);
        buffer_.consume(n);
        pending_read_->error = error;
        pending_read_->at = Clock::now();
        read_done_ = true;
      };
      read_done_ = false;
      if (tls_) {
        asio::async_read_until(*tls_, buffer_, delimiter, handler);
      } else {
        asio::async_read_until(socket_, buffer_, delimiter, handler);
      }
    }
    if (!run_until([&] { return read_done_; }, deadline)) return std::nullopt;
    auto result = std::move(*pending_read_);
    pending_read_.reset();
    return result;
  }
  /// Reads a response head ("...\r\n\r\n").
  std::optional<Read> read_head(Clock::time_point deadline) {
    return read_until("\r\n\r\n", deadline);
  }
  /// Bytes already read past the last delimiter.
  std::string buffered() const {
    auto data = buffer_.data();
    return std::string(asio::buffers_begin(data), asio::buffers_end(data));
  }
  /// Reads until the server closes; returns the error (eof) and when, or nullopt at deadline.
  std::optional<Read> read_to_close(Clock::time_point deadline) {
    auto result = read_until("\x01\x02 never sent \x03", deadline);
    if (result) result->text = buffered();
    return result;
  }

  /// Sends a request (with a body if given); returns when the write started.
  Clock::time_point send_request(const std::string& method, const std::string& path,
                                 const std::string& extra_headers = "",
                                 const std::string& body = "") {
    std::string text = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
    if (!body.empty()) text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    text += "\r\n" + body;
    return write(text);
  }

  void close() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket& socket() { return socket_; }

 private:
  bool run_until(const std::function<bool()>& done, Clock::time_point deadline) {
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      io_.run_one_until(deadline);
    }
    return true;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  tcp::socket socket_{io_};
  ssl::context tls_context_{ssl::context::tls_client};
  std::optional<ssl::stream<tcp::socket&>> tls_;
  asio::streambuf buffer_;
  std::optional<Clock::time_point> connected_at_;
  boost::system::error_code connect_error_;
  std::optional<Clock::time_point> handshake_at_;
  boost::system::error_code handshake_error_;
  std::optional<Read> pending_read_;
  bool read_done_ = false;
};

/// Options with one fault, from its `serve --fault` SPEC.
inline ServerOptions with_fault(const std::string& spec) {
  ServerOptions options;
  options.faults.push_back(parse_fault_spec(spec));
  return options;
}

/// The events of `kind` the log holds now, in order.
inline std::vector<Event> events_of(const EventLog& log, EventKind kind) {
  std::vector<Event> found;
  for (const auto& event : log.snapshot()) {
    if (event.kind == kind) found.push_back(event);
  }
  return found;
}

/// How many events of `kind` the log holds now.
inline std::size_t count_of(const EventLog& log, EventKind kind) {
  const auto events = log.snapshot();
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [&](const Event& e) { return e.kind == kind; }));
}

/// Status code of a response head ("HTTP/1.1 200 OK\r\n...").
inline int status_of(const std::string& head) {
  return head.size() >= 12 ? std::stoi(head.substr(9, 3)) : 0;
}

}  // namespace tunedhttp::mockserver::testing
