#pragma once
// The HTTP endpoint ([server] http_listen), on the control thread's io_context (Boost.Beast):
//   GET /healthz   200 "ok" while every worker answers (the process works), else 503
//   GET /readyz    200 when not draining and a primary or a replica is up, else 503 + why
//   GET /nodes     JSON: the nodes as SHOW NODES shows them
//   GET /metrics   Prometheus text format
// HTTP/1.1 with keep-alive; each request has a deadline; anything else is 404 (or 405).
#include <memory>
#include <string>

#include "pgsplit/asio.hpp"

namespace pgsplit::session {
struct Runtime;
}

namespace pgsplit::admin {

struct HttpResponse {
  unsigned status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  HttpServer(asio::io_context& io, session::Runtime& runtime);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds; false (logged) if it cannot.
  bool listen(const std::string& host, std::uint16_t port);
  tcp::endpoint localEndpoint() const;
  void start();

  // The answer to one request (method, target); runs on the server's io_context.
  static Task<HttpResponse> respond(session::Runtime* runtime, std::string method,
                                    std::string target);

 private:
  static Task<void> acceptLoop(HttpServer* self);
  static Task<void> serve(session::Runtime* runtime, tcp::socket socket);

  asio::io_context& io_;
  session::Runtime& runtime_;
  tcp::acceptor acceptor_;
};

}  // namespace pgsplit::admin
