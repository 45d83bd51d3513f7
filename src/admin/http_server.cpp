#include "pgsplit/admin/http_server.hpp"

// Beast after Asio (pgsplit/asio.hpp includes <utility> first, see there).
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>

#include "pgsplit/admin/metrics.hpp"
#include "pgsplit/admin/overview.hpp"
#include "pgsplit/admin/views.hpp"
#include "pgsplit/session/client_session.hpp"
#include "pgsplit/session/runtime.hpp"

namespace pgsplit::admin {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr auto kRequestDeadline = std::chrono::seconds(30);
constexpr std::size_t kMaxRequestBytes = 16 * 1024;
}  // namespace

HttpServer::HttpServer(asio::io_context& io, session::Runtime& runtime)
    : io_(io), runtime_(runtime), acceptor_(io) {}

HttpServer::~HttpServer() {
  error_code ec;
  acceptor_.close(ec);
}

bool HttpServer::listen(const std::string& host, std::uint16_t port) {
  error_code ec;
  tcp::endpoint endpoint;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      spdlog::critical("cannot resolve http_listen address {}: {}", host, ec.message());
      return false;
    }
    endpoint = *results.begin();
  } else {
    endpoint = tcp::endpoint(addr, port);
  }
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::critical("cannot listen for HTTP on {}:{}: {}", host, port, ec.message());
    return false;
  }
  return true;
}

tcp::endpoint HttpServer::localEndpoint() const {
  error_code ec;
  return acceptor_.local_endpoint(ec);
}

void HttpServer::start() {
  asio::co_spawn(io_, acceptLoop(this), [](std::exception_ptr e) {
    if (e) session::logSessionBug(0, "HTTP accept loop", e);
  });
}

Task<void> HttpServer::acceptLoop(HttpServer* self) {
  asio::steady_timer backoff(self->io_);
  for (;;) {
    tcp::socket socket(self->io_);
    error_code ec;
    co_await self->acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) co_return;
    if (ec) {
      spdlog::error("HTTP accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    asio::co_spawn(self->io_, serve(&self->runtime_, std::move(socket)), [](std::exception_ptr e) {
      if (e) session::logSessionBug(0, "HTTP connection", e);
    });
  }
}

Task<void> HttpServer::serve(session::Runtime* runtime, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    stream.expires_after(kRequestDeadline);
    http::request_parser<http::empty_body> parser;
    parser.header_limit(kMaxRequestBytes);
    parser.body_limit(kMaxRequestBytes);
    error_code ec;
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // closed, timed out or malformed
    const auto& req = parser.get();
    HttpResponse r =
        co_await respond(runtime, std::string(req.method_string()), std::string(req.target()));
    http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
    res.set(http::field::server, "pgsplit/" PGSPLIT_VERSION);
    res.set(http::field::content_type, r.contentType);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    if (req.method() != http::verb::head) res.body() = std::move(r.body);
    res.prepare_payload();
    if (req.method() == http::verb::head) res.content_length(r.body.size());
    const bool keepAlive = res.keep_alive();
    stream.expires_after(kRequestDeadline);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keepAlive) break;
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

Task<HttpResponse> HttpServer::respond(session::Runtime* runtime, std::string method,
                                       std::string target) {
  HttpResponse r;
  const std::string path = target.substr(0, target.find('?'));
  const bool known = path == "/healthz" || path == "/readyz" || path == "/nodes" ||
                     path == "/metrics" || path == "/";
  if (!known) {
    r.status = 404;
    r.body = "not found; try /healthz, /readyz, /nodes, /metrics\n";
    co_return r;
  }
  if (method != "GET" && method != "HEAD") {
    r.status = 405;
    r.body = "only GET and HEAD\n";
    co_return r;
  }
  if (path == "/") {
    r.body = "pgsplit " PGSPLIT_VERSION ": /healthz /readyz /nodes /metrics\n";
    co_return r;
  }
  if (path == "/healthz") {
    // The process works when every worker's event loop answers.
    const std::size_t answered = co_await session::sumOverWorkers(
        runtime, [](session::WorkerContext&) -> std::size_t { return 1; },
        std::chrono::milliseconds(2000));
    if (answered < runtime->workers.size()) {
      r.status = 503;
      r.body = "unhealthy: " + std::to_string(runtime->workers.size() - answered) + " of " +
               std::to_string(runtime->workers.size()) + " workers did not answer\n";
    } else {
      r.body = "ok\n";
    }
    co_return r;
  }
  const Overview o = co_await collectOverview(runtime);
  if (path == "/readyz") {
    std::string why;
    if (!ready(o, why)) r.status = 503;
    r.body = why + "\n";
  } else if (path == "/nodes") {
    r.contentType = "application/json";
    r.body = nodesJson(o);
  } else {
    r.contentType = "text/plain; version=0.0.4; charset=utf-8";
    r.body = renderMetrics(o);
  }
  co_return r;
}

}  // namespace pgsplit::admin
