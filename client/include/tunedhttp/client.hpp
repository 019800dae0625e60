#pragma once
// The tuned HTTP/1.1 client.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tunedhttp/body_reader.hpp>
#include <tunedhttp/body_source.hpp>
#include <tunedhttp/error.hpp>
#include <tunedhttp/pool_stats.hpp>
#include <tunedhttp/settings.hpp>
#include <tunedhttp/trace.hpp>
#include <vector>

namespace tunedhttp {

/// A request. Its target must be an absolute URL ("http://host:port/path?query"), which names
/// the connection to use; it is sent in origin form ("/path?query") with a Host header.
using Request = boost::beast::http::request<boost::beast::http::string_body>;

/// A response, its body read to the end.
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// How the client verifies TLS servers.
/// The system store is OpenSSL's default paths (on Debian, /etc/ssl/certs and its bundle, or
/// SSL_CERT_FILE and SSL_CERT_DIR), read once per process, when the first client that uses it is
/// made, and shared by every client after it.
struct TlsOptions {
  std::string ca_file;    ///< PEM file of CAs to trust instead of the system store.
  std::string ca_pem;     ///< PEM text of CAs to trust instead of the system store.
  bool insecure = false;  ///< skip certificate and host name checks (testing only!).
};

/// Which proxy requests go through (Go's Transport.Proxy). A proxy is an HTTP/1.1 proxy,
/// `http://[user:password@]host[:port]` (port 80 by default; a value without a scheme, such as
/// `proxy:3128`, means http://). An `http://` request is sent to it in absolute form on
/// connections pooled per proxy; an `https://` request gets a tunnel (`CONNECT host:port`, under
/// `Settings::proxy_connect`) and TLS to the target through it, on connections pooled per proxy
/// and target. The userinfo is sent as `Proxy-Authorization: Basic`.
struct ProxyOptions {
  enum class Source {
    /// Go's ProxyFromEnvironment, read once when the client is made: HTTPS_PROXY for https
    /// targets, HTTP_PROXY for http ones, NO_PROXY (or `no_proxy` below) for exceptions, each
    /// also in lowercase (uppercase wins), HTTP_PROXY ignored in a CGI program. As in Go,
    /// `localhost` and loopback addresses never go through it.
    environment,
    url,   ///< every request through `url`, loopback included (curl's -x), except `no_proxy`.
    none,  ///< no proxy.
  };
  Source source = Source::environment;
  std::string url;  ///< with Source::url: the proxy.
  /// Hosts reached directly, in NO_PROXY's syntax (`example.com`, `.example.com`, `*`, IPs,
  /// CIDRs, `host:port`); replaces the environment's NO_PROXY when set (curl's --noproxy).
  std::optional<std::string> no_proxy;
};

/// Why `options` cannot be used, or empty: with Source::url, a proxy URL that is not
/// `http://[user[:password]@]host[:port]` ("invalid proxy address socks5://p:1080: scheme socks5
/// is not supported (want http://)"). Requests through such a proxy fail with
/// errc::invalid_proxy; a command line checks it first to refuse the flag.
std::string proxy_problem(const ProxyOptions& options);

/// Everything a client is made with.
struct ClientOptions {
  Settings settings;   ///< the eight knobs.
  TlsOptions tls;      ///< TLS verification.
  TraceHook trace;     ///< client-wide trace hook (all requests and the pool); may be empty.
  ProxyOptions proxy;  ///< proxies: by default, the environment's (Go's rules).
  /// Names that resolve to chosen addresses instead of asking DNS, like curl's --resolve:
  /// "host" or "host:port" → numeric addresses, in order ("host:port" wins for its port). They
  /// are dialled as a resolver's answer would be, dual-stack fallback included. An address that
  /// is not numeric fails the dial with host_not_found.
  std::map<std::string, std::vector<std::string>> resolve;
  /// Defensive limit on the size of response headers; past it `errc::response_too_large`.
  std::uint32_t header_limit = 1024 * 1024;
  /// Defensive limit on a response body held in memory; past it `errc::response_too_large`.
  std::uint64_t body_limit = 256ull * 1024 * 1024;
};

/// Makes a request with an absolute URL target, a Host header, and a Content-Length for `body`
/// when it is not empty (or the method is POST/PUT/PATCH).
Request make_request(boost::beast::http::verb method, const std::string& url,
                     std::string body = {});

/// Why `request` cannot be sent, in Go's words (`net/http: invalid header field value for
/// "X-Note"`), or empty when it can: its method must be an RFC 9110 token, its target an
/// absolute http(s) URL without spaces or control characters, and every header field a token
/// name with a value free of control characters (CR and LF included, so no field can add a
/// line). async_request makes this check and fails, writing nothing: with errc::invalid_url for
/// the target (as Go's url.Parse does), errc::invalid_request for the method or a field.
std::string request_problem(const Request& request);

/// An asynchronous HTTP/1.1 client with Go net/http Transport semantics: one dial per new
/// connection under `connect`, TLS under `tls_handshake`, an exchange under `expect_continue`
/// and `response_header`, and an idle pool governed by the three pool settings.
///
/// Thread safety: all member functions may be called from any thread; requests may complete
/// on different threads when the executor runs on several.
class Client {
 public:
  /// Makes a client whose connections and timers run on `executor`. Never throws for bad
  /// options: a CA file or PEM that holds no usable certificate is kept as setup_error(), and
  /// every https request then fails with errc::invalid_tls_options (http requests still work).
  Client(boost::asio::any_io_executor executor, ClientOptions options);
  /// As above, and sets `ec` to setup_error(), for callers that want to stop at once.
  Client(boost::asio::any_io_executor executor, ClientOptions options,
         boost::system::error_code& ec);
  /// Makes a client with these settings, the system CA store and no trace hook.
  explicit Client(boost::asio::any_io_executor executor, Settings settings = {});
  /// Closes idle connections. Requests in flight keep the internals alive and complete as usual.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends `request` and reads the whole response.
  ///
  /// Completes when the response body has been read to the end, or on the first error
  /// (a timeout of one of the settings, a network error, a malformed response). A request
  /// that breaks RFC 9110 fails at once with errc::invalid_request (request_problem() says
  /// why), with nothing written. A request
  /// that fails on a reused connection before anything was written, or whose method is
  /// idempotent, is retried once on a new connection; timeouts are never retried.
  ///
  /// @param request the request; its target is an absolute URL. Taken by value.
  /// @param trace a per-request hook, called with this request's events (and the client-wide
  ///        hook too); may be empty.
  /// @param token completion token with signature `void(boost::system::error_code, Response)`.
  ///
  /// Per-operation cancellation: any cancellation type (terminal, partial, total) ends the
  /// request with `operation_aborted` and closes its connection (never pooled). A request
  /// cancelled while waiting for a connection stops waiting; its dial, as in Go, completes
  /// and its connection goes to the pool. This is how a caller sets a whole-request deadline,
  /// e.g. `co_await (client.async_request(r, use_awaitable) || timer.async_wait(use_awaitable))`.
  template <class CompletionToken>
  auto async_request(Request request, TraceHook trace, CompletionToken&& token) {
    // The initiation takes its arguments by reference: each move of a request through the
    // layers costs a reused request about 1% (perf).
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, Response)>(
        [this](auto handler, auto&& req, auto&& hook) {
          start_request(std::forward<decltype(req)>(req), nullptr,
                        std::forward<decltype(hook)>(hook), std::move(handler));
        },
        token, std::move(request), std::move(trace));
  }

  /// Sends `request` with its body read from `body` as it is written (a file, a callback),
  /// never held whole: `request.body()` is ignored and Content-Length is `body.size`. Otherwise
  /// as the overload above, with Go's GetBody rule for retries (BodySource).
  template <class CompletionToken>
  auto async_request(Request request, BodySource body, TraceHook trace, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, Response)>(
        [this](auto handler, Request req, BodySource source, TraceHook hook) {
          start_request(std::move(req), std::make_shared<BodySource>(std::move(source)),
                        std::move(hook), std::move(handler));
        },
        token, std::move(request), std::move(body), std::move(trace));
  }

  /// Sends `request` without a per-request trace hook. See the overload above.
  template <class CompletionToken>
  auto async_request(Request request, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, Response)>(
        [this](auto handler, auto&& req) {
          start_request(std::forward<decltype(req)>(req), nullptr, TraceHook{}, std::move(handler));
        },
        token, std::move(request));
  }

  /// Sends `request` and reads the response up to its final headers; the caller then reads
  /// the body, in pieces, from the StreamedResponse's BodyReader.
  ///
  /// Completes when the final (non-1xx) response headers have been read, or on the first
  /// error, with the rules of async_request above: the same settings up to the headers, the
  /// same retry rule, the same cancellation (which covers only this operation: the body's
  /// reads are the BodyReader's). The body is never held whole, so ClientOptions::body_limit
  /// does not apply. The connection goes back to the pool once the body is read to the end,
  /// and is closed if the BodyReader is closed or destroyed before that (Go's bodyEOFSignal).
  /// A response that comes while the request body is still being written stops that write:
  /// the connection is closed, and the body can be read only as far as it had arrived.
  ///
  /// @param request the request; its target is an absolute URL. Taken by value.
  /// @param trace a per-request hook (also called for the body's trace points); may be empty.
  /// @param token completion token with signature `void(boost::system::error_code,
  ///        StreamedResponse)`.
  template <class CompletionToken>
  auto async_request_stream(Request request, TraceHook trace, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, StreamedResponse)>(
        [this](auto handler, Request req, TraceHook hook) {
          start_stream_request(std::move(req), nullptr, std::move(hook), std::move(handler));
        },
        token, std::move(request), std::move(trace));
  }

  /// Streams the response to `request` whose body is read from `body` (see the BodySource
  /// overload of async_request): neither body is ever held whole.
  template <class CompletionToken>
  auto async_request_stream(Request request, BodySource body, TraceHook trace,
                            CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, StreamedResponse)>(
        [this](auto handler, Request req, BodySource source, TraceHook hook) {
          start_stream_request(std::move(req), std::make_shared<BodySource>(std::move(source)),
                               std::move(hook), std::move(handler));
        },
        token, std::move(request), std::move(body), std::move(trace));
  }

  /// Streams `request`'s response without a per-request trace hook. See the overload above.
  template <class CompletionToken>
  auto async_request_stream(Request request, CompletionToken&& token) {
    return async_request_stream(std::move(request), TraceHook{},
                                std::forward<CompletionToken>(token));
  }

  /// A snapshot of the pool's counters.
  PoolStats pool_stats() const;

  /// Closes every idle connection now (Go's CloseIdleConnections).
  void close_idle_connections();

  /// The settings this client was made with.
  const Settings& settings() const;

  /// Why the TLS options could not be used (OpenSSL's reason, e.g. "no certificate or crl
  /// found" for a file that is not PEM), or success.
  boost::system::error_code setup_error() const;

 private:
  friend class BlockingClient;
  /// For BlockingClient, whose io_context runs only inside its calls and on the caller's thread:
  /// a request on a pooled connection starts in line, though the caller is not in a handler,
  /// instead of being posted to the executor (start_request).
  void start_requests_in_line();

  /// Where BlockingClient's request ends: written on the thread that runs the executor (the
  /// caller's), with no completion handler in between. A handler takes the response by value
  /// through its type erasure: two more moves of its fields, and the handler's own allocation.
  struct Delivery {
    /// Ends the request: `received` is assigned to *response, then `done` is set.
    void end(boost::system::error_code result, Response&& received);

    boost::system::error_code error;
    Response* response = nullptr;  ///< assigned the response
    bool done = false;             ///< set last
  };

  /// With `into`, the request ends there instead (`handler` is empty, and `into` must outlive
  /// the request: BlockingClient waits for `done`).
  void start_request(
      Request request, std::shared_ptr<BodySource> source, TraceHook trace,
      boost::asio::any_completion_handler<void(boost::system::error_code, Response)> handler,
      Delivery* into = nullptr);
  void start_stream_request(
      Request request, std::shared_ptr<BodySource> source, TraceHook trace,
      boost::asio::any_completion_handler<void(boost::system::error_code, StreamedResponse)>
          handler);

  struct State;
  std::shared_ptr<State> state_;
};

/// A blocking client: owns an io_context and runs it inside each call. One call at a time: it
/// is not thread-safe (make one per thread).
class BlockingClient {
 public:
  /// Makes a blocking client with these options.
  explicit BlockingClient(ClientOptions options = {});
  ~BlockingClient();
  /// Sends `request` and waits for the whole response; errors are returned in `ec`.
  Response request(Request request, boost::system::error_code& ec);
  /// The client that does the work, for its pool statistics and settings.
  Client& client();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tunedhttp
