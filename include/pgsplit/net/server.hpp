#pragma once
// Worker threads (one io_context each) and the listening socket they share. The process's
// lifecycle (signals, drain, reload) is net::Controller's.
#include <memory>
#include <optional>
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
  // Starts the workers: each accepts clients and runs their sessions.
  void start();
  // Closes the listening socket (every worker's copy): new clients are refused by the kernel.
  void stopAccepting();
  // Stops the workers and joins their threads (sessions still open are cut).
  void stop();

 private:
  struct Worker {
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<session::WorkerContext> context;
    std::unique_ptr<tcp::acceptor> acceptor;  // a dup of the shared listening socket
    // Keeps the loop running once the acceptor is closed (drain): the worker must still answer
    // the controller even with no session left.
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
  };
  static Task<void> acceptLoop(session::WorkerContext* worker, tcp::acceptor* acceptor);

  session::Runtime& runtime_;
  std::vector<Worker> workers_;
  tcp::endpoint endpoint_;
};

}  // namespace pgsplit::net
