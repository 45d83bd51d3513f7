#pragma once
// Worker threads (one io_context each), the listening socket they share, and signals.
#include <memory>
#include <thread>
#include <vector>

#include "pgsplit/asio.hpp"
#include "pgsplit/session/runtime.hpp"

namespace pgsplit::net {

class Server {
 public:
  Server(session::Runtime& runtime, unsigned workers);
  ~Server();

  // Binds the listen address; false (with the reason logged) if it cannot.
  bool listen();
  tcp::endpoint localEndpoint() const;
  // Runs until SIGINT or SIGTERM; returns the process exit code.
  int run();

 private:
  struct Worker {
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<session::WorkerContext> context;
    std::unique_ptr<tcp::acceptor> acceptor;  // a dup of the shared listening socket
    std::thread thread;
  };
  static Task<void> acceptLoop(session::WorkerContext* worker, tcp::acceptor* acceptor);
  void stopAll();

  session::Runtime& runtime_;
  std::vector<Worker> workers_;
  asio::io_context signalsIo_;
  tcp::endpoint endpoint_;
};

}  // namespace pgsplit::net
