#include "pool_util.hpp"

#include <poll.h>
#include <sys/resource.h>

#include "health_util.hpp"

namespace pgsplit::test {

namespace {

enum class Phase { Connecting, Ready, Running, Done };

struct Client {
  PGconn* conn = nullptr;
  Phase phase = Phase::Connecting;
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;  // libpq: start by waiting to write
  std::size_t next = 0;                                    // the statement running or to run
  bool flushing = false;                                   // PQflush has more to send
  bool failed = false;
};

}  // namespace

ManyClientsReport runManyClients(const ManyClientsOptions& o) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + o.deadline;
  std::atomic<int> loginsSettled{0};  // succeeded or failed: the burst starts when all are
  std::mutex mutex;
  ManyClientsReport report;
  auto fail = [&](int id, const std::string& why) {
    std::lock_guard lock(mutex);
    ++report.errorCount;
    if (report.errors.size() < 10)
      report.errors.push_back("client " + std::to_string(id) + ": " + why);
  };

  auto run = [&](int first, int count) {
    std::vector<Client> clients(static_cast<std::size_t>(count));
    int started = 0, connecting = 0, done = 0, connected = 0, succeeded = 0;
    auto finish = [&](Client& c, int id, bool ok, const std::string& why) {
      if (!ok && !why.empty()) fail(id, why);  // (a statement's error was reported already)
      if (ok) ++succeeded;
      PQfinish(c.conn);
      c.conn = nullptr;
      c.phase = Phase::Done;
      ++done;
    };
    auto send = [&](Client& c, int id) {
      if (!PQsendQuery(c.conn, o.statements[c.next].c_str())) {
        finish(c, id, false, std::string("send: ") + PQerrorMessage(c.conn));
        return;
      }
      c.flushing = PQflush(c.conn) == 1;
      c.phase = Phase::Running;
    };
    while (done < count && Clock::now() < deadline) {
      while (started < count && connecting < o.maxConnecting) {
        Client& c = clients[static_cast<std::size_t>(started)];
        c.conn = PQconnectStart(o.conninfo.c_str());
        ++started;
        if (c.conn == nullptr || PQstatus(c.conn) == CONNECTION_BAD) {
          loginsSettled.fetch_add(1);
          finish(c, first + started - 1, false,
                 std::string("connect: ") + (c.conn ? PQerrorMessage(c.conn) : "out of memory"));
          continue;
        }
        ++connecting;
      }
      const bool go = !o.burst || loginsSettled.load() == o.clients;
      for (int i = 0; i < started; ++i) {
        Client& c = clients[static_cast<std::size_t>(i)];
        if (c.phase == Phase::Ready && go) {
          if (o.statements.empty())
            finish(c, first + i, true, "");
          else
            send(c, first + i);
        }
      }
      std::vector<pollfd> fds;
      std::vector<int> which;
      for (int i = 0; i < started; ++i) {
        Client& c = clients[static_cast<std::size_t>(i)];
        short events = 0;
        if (c.phase == Phase::Connecting)
          events = c.poll == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        else if (c.phase == Phase::Running)
          events = static_cast<short>(POLLIN | (c.flushing ? POLLOUT : 0));
        if (events == 0) continue;
        fds.push_back({PQsocket(c.conn), events, 0});
        which.push_back(i);
      }
      if (fds.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if (fds[k].revents == 0) continue;
        const int i = which[k];
        Client& c = clients[static_cast<std::size_t>(i)];
        if (c.phase == Phase::Connecting) {
          c.poll = PQconnectPoll(c.conn);
          if (c.poll == PGRES_POLLING_OK) {
            --connecting;
            ++connected;
            loginsSettled.fetch_add(1);
            PQsetnonblocking(c.conn, 1);
            c.phase = Phase::Ready;
          } else if (c.poll == PGRES_POLLING_FAILED) {
            --connecting;
            loginsSettled.fetch_add(1);
            finish(c, first + i, false, std::string("login: ") + PQerrorMessage(c.conn));
          }
          continue;
        }
        if (c.flushing) c.flushing = PQflush(c.conn) == 1;
        if (!PQconsumeInput(c.conn)) {
          finish(c, first + i, false, std::string("read: ") + PQerrorMessage(c.conn));
          continue;
        }
        while (c.phase == Phase::Running && !PQisBusy(c.conn)) {
          PGresult* r = PQgetResult(c.conn);
          if (r == nullptr) {  // the statement is done
            if (++c.next == o.statements.size()) {
              finish(c, first + i, !c.failed, "");
            } else {
              send(c, first + i);
            }
            break;
          }
          const auto st = PQresultStatus(r);
          if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            if (!c.failed) fail(first + i, o.statements[c.next] + ": " + PQresultErrorMessage(r));
            c.failed = true;
          }
          PQclear(r);
        }
      }
    }
    for (int i = 0; i < count; ++i) {
      Client& c = clients[static_cast<std::size_t>(i)];
      if (c.phase != Phase::Done) finish(c, first + i, false, "not done by the deadline");
    }
    std::lock_guard lock(mutex);
    report.connected += connected;
    // (Clients whose failure was already counted are not counted again by finish.)
    report.succeeded += succeeded;
  };

  std::vector<std::thread> threads;
  const int per = (o.clients + o.threads - 1) / o.threads;
  for (int first = 0; first < o.clients; first += per)
    threads.emplace_back(run, first, std::min(per, o.clients - first));
  for (auto& t : threads)
    t.join();
  return report;
}

BackendSampler::BackendSampler(const Cluster& cluster, std::string where)
    : conninfos_{cluster.superuserConninfo(cluster.primaryPort),
                 cluster.superuserConninfo(cluster.replica1Port),
                 cluster.superuserConninfo(cluster.replica2Port)},
      sql_(
          "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND "
          "application_name NOT LIKE 'pgsplit-%' AND (" +
          std::move(where) + ")") {
  thread_ = std::thread([this] {
    std::vector<std::unique_ptr<Conn>> conns;
    for (const auto& ci : conninfos_)
      conns.push_back(std::make_unique<Conn>(ci));
    while (!stop_.load()) {
      for (std::size_t n = 0; n < conns.size(); ++n) {
        const int count = std::atoi(conns[n]->value(sql_).c_str());
        int seen = max_[n].load();
        while (count > seen && !max_[n].compare_exchange_weak(seen, count)) {
        }
      }
      samples_.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
}

BackendSampler::~BackendSampler() {
  stop();
}

void BackendSampler::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

int countBackends(const Cluster& cluster, int port, const std::string& where) {
  Conn c(cluster.superuserConninfo(port));
  return std::atoi(c.value("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client "
                           "backend' AND application_name NOT LIKE 'pgsplit-%' AND (" +
                           where + ")")
                       .c_str());
}

long raiseFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<long>(lim.rlim_cur);
}

void ensureDatabase(const Cluster& cluster, const std::string& name) {
  {
    Conn primary(cluster.superuserConninfo(cluster.primaryPort));
    if (primary.value("SELECT count(*) FROM pg_database WHERE datname = '" + name + "'") == "0")
      primary.exec("CREATE DATABASE " + name + " OWNER app");
  }
  for (int port : {cluster.replica1Port, cluster.replica2Port}) {
    Conn replica(cluster.superuserConninfo(port));
    EXPECT_TRUE(eventually([&] {
      return replica.value("SELECT count(*) FROM pg_database WHERE datname = '" + name + "'") ==
             "1";
    })) << "database "
        << name << " never reached the replica on port " << port;
  }
}

}  // namespace pgsplit::test
