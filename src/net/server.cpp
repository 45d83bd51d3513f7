#include "pgsplit/net/server.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "pgsplit/session/client_session.hpp"

namespace pgsplit::net {

Server::Server(session::Runtime& runtime, unsigned workers) : runtime_(runtime) {
  runtime_.workerCount = workers;
  workers_.resize(workers);
  for (unsigned i = 0; i < workers; ++i) {
    workers_[i].io = std::make_unique<asio::io_context>(1);
    workers_[i].context = std::make_unique<session::WorkerContext>(runtime_, *workers_[i].io, i);
    runtime_.workers.push_back(workers_[i].context.get());
  }
}

Server::~Server() {
  stop();
  runtime_.workers.clear();
  // Pools hold sockets of their io_context: they go first.
  for (auto& w : workers_) {
    w.acceptor.reset();
    w.context.reset();
  }
  for (auto& w : workers_)
    w.io.reset();
}

bool Server::listen() {
  const auto& cfg = runtime_.config->server;
  error_code ec;
  auto addr = asio::ip::make_address(cfg.listenHost, ec);
  if (ec) {
    tcp::resolver resolver(*workers_[0].io);
    auto results = resolver.resolve(cfg.listenHost, std::to_string(cfg.listenPort), ec);
    if (ec || results.empty()) {
      spdlog::critical("cannot resolve listen address {}: {}", cfg.listenHost, ec.message());
      return false;
    }
    endpoint_ = *results.begin();
  } else {
    endpoint_ = tcp::endpoint(addr, cfg.listenPort);
  }
  // One listening socket; each worker accepts on its own duplicate of it. (Not SO_REUSEPORT: that
  // would let a second process bind the same port and silently take half the clients.)
  tcp::acceptor first(*workers_[0].io);
  first.open(endpoint_.protocol(), ec);
  if (!ec) first.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) first.bind(endpoint_, ec);
  if (!ec) first.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::critical("cannot listen on {}:{}: {}", cfg.listenHost, cfg.listenPort, ec.message());
    return false;
  }
  endpoint_ = first.local_endpoint();
  for (auto& w : workers_) {
    int fd = ::dup(first.native_handle());
    w.acceptor = std::make_unique<tcp::acceptor>(*w.io, endpoint_.protocol(), fd);
    w.acceptor->non_blocking(true, ec);
  }
  return true;
}

tcp::endpoint Server::localEndpoint() const {
  return endpoint_;
}

Task<void> Server::acceptLoop(session::WorkerContext* worker, tcp::acceptor* acceptor) {
  asio::steady_timer backoff(worker->io());
  for (;;) {
    tcp::socket socket(worker->io());
    error_code ec;
    co_await acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: say so, and do not spin.
      spdlog::error("accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto session = std::make_shared<session::ClientSession>(*worker, std::move(socket));
    worker->track(session);
    worker->stats().clientsAccepted.add();
    const auto id = session->id();
    asio::co_spawn(worker->io(), session::ClientSession::run(std::move(session)),
                   [id](std::exception_ptr e) {
                     if (e) session::logSessionBug(id, "session", e);
                   });
  }
}

void Server::start() {
  for (auto& w : workers_) {
    asio::co_spawn(*w.io, acceptLoop(w.context.get(), w.acceptor.get()), [](std::exception_ptr e) {
      if (e) session::logSessionBug(0, "accept loop", e);
    });
    w.context->startMaintenance();
    w.work.emplace(w.io->get_executor());
    w.thread = std::thread([io = w.io.get()] { io->run(); });
  }
}

void Server::stopAccepting() {
  // Each acceptor belongs to its worker's thread: closed there. The kernel drops the listening
  // socket once the last copy is closed.
  for (auto& w : workers_) {
    if (!w.acceptor) continue;
    asio::post(*w.io, [acceptor = w.acceptor.get()] {
      error_code ec;
      acceptor->close(ec);
    });
  }
}

void Server::stop() {
  for (auto& w : workers_) {
    if (!w.io) continue;
    w.work.reset();
    w.io->stop();
  }
  for (auto& w : workers_)
    if (w.thread.joinable()) w.thread.join();
}

}  // namespace pgsplit::net
