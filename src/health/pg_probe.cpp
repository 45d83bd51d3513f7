#include "pgsplit/health/pg_probe.hpp"

#include <libpq-fe.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

namespace pgsplit::health {

// One round trip: the role, the position (a primary's insert position is past every commit it
// acknowledged, even with synchronous_commit = off; a replica's replay position is what its reads
// see), and the replica's own delay estimate (0 once it has replayed all it received, so an idle
// primary does not inflate it).
const char* const PgProbe::kQuery =
    "SELECT pg_is_in_recovery(), "
    "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
    "ELSE pg_current_wal_insert_lsn() END, "
    "CASE WHEN NOT pg_is_in_recovery() THEN NULL "
    "WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
    "ELSE (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint END";

namespace {

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// the first says what happened.
std::string firstLine(const char* text) {
  std::string s = text ? text : "";
  auto eol = s.find('\n');
  if (eol != std::string::npos) s.resize(eol);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  return s.empty() ? std::string("unknown error") : s;
}

}  // namespace

// A name lookup on a thread of its own: getaddrinfo cannot be interrupted, and a stuck resolver
// must cost only this check its deadline, never the monitor's thread or another node's check.
struct PgProbe::Lookup {
  std::mutex mutex;
  bool done = false;
  bool abandoned = false;  // the check stopped waiting (or took the answer): do not wake it
  std::string address;
  std::string error;
};

void PgProbe::startLookup(std::shared_ptr<Lookup> lookup, std::string host, std::string port,
                          asio::any_io_executor ex, asio::steady_timer* wake) {
  std::thread([lookup, host = std::move(host), port = std::move(port), ex, wake] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    std::string address;
    std::string error;
    if (rc == 0 && res != nullptr) {
      char buf[NI_MAXHOST];
      if (::getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof buf, nullptr, 0,
                        NI_NUMERICHOST) == 0)
        address = buf;
      else
        error = "could not print the address of " + host;
    } else {
      error = "could not resolve " + host + ": " + ::gai_strerror(rc);
    }
    if (res != nullptr) ::freeaddrinfo(res);
    std::lock_guard lock(lookup->mutex);
    lookup->done = true;
    lookup->address = std::move(address);
    lookup->error = std::move(error);
    if (lookup->abandoned) return;
    // The check is still waiting, so its executor and timer are alive.
    asio::post(ex, [lookup, wake] {
      std::lock_guard relock(lookup->mutex);
      if (!lookup->abandoned) wake->cancel();
    });
  }).detach();
}

PgProbe::PgProbe(asio::any_io_executor ex, ProbeTarget target)
    : ex_(ex), target_(std::move(target)), waiter_(ex), deadline_(ex), resolved_(ex) {}

PgProbe::~PgProbe() {
  if (lookup_) {
    // A lookup still running must not post to an executor that is about to go.
    std::lock_guard lock(lookup_->mutex);
    lookup_->abandoned = true;
  }
  // The descriptor only borrows libpq's socket: never let Asio close it.
  if (waiter_.is_open()) waiter_.release();
  disconnect();
}

void PgProbe::disconnect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

void PgProbe::cancel() {
  cancelled_ = true;
  error_code ignored;
  if (waiter_.is_open()) waiter_.cancel(ignored);
  resolved_.cancel();
  deadline_.cancel();
}

std::string PgProbe::connectionError() const {
  if (expired_) return "no answer within " + std::to_string(timeout_.count()) + " ms";
  if (cancelled_) return "check cancelled";
  return firstLine(conn_ != nullptr ? PQerrorMessage(conn_) : nullptr);
}

Task<ProbeResult> PgProbe::check(std::chrono::milliseconds timeout) {
  ProbeResult result;
  if (cancelled_) {
    result.error = "check cancelled";
    co_return result;
  }
  expired_ = false;
  timeout_ = timeout;
  const std::uint64_t generation = ++generation_;
  deadline_.expires_after(timeout);
  deadline_.async_wait([this, generation](const error_code& ec) {
    if (ec || generation != generation_) return;
    expired_ = true;
    error_code ignored;
    if (waiter_.is_open()) waiter_.cancel(ignored);
    resolved_.cancel();
  });
  const bool reused = conn_ != nullptr;
  bool ok = co_await attempt(result);
  if (!ok && reused && !stopped()) {
    // The kept connection may simply have been closed by the server while idle.
    result = ProbeResult{};
    ok = co_await attempt(result);
  }
  ++generation_;
  deadline_.cancel();
  result.up = ok;
  if (!ok && result.error.empty()) result.error = connectionError();
  co_return result;
}

Task<bool> PgProbe::attempt(ProbeResult& result) {
  if (conn_ != nullptr && PQstatus(conn_) != CONNECTION_OK) disconnect();
  // (co_await only as a whole statement or a whole condition: g++ 12 miscompiles it inside
  // && / || and switch.)
  if (conn_ == nullptr) {
    const bool connected = co_await connect(result.error);
    if (!connected) co_return false;
  }
  const bool answered = co_await query(result);
  co_return answered;
}

Task<bool> PgProbe::resolve(std::string& address, std::string& error) {
  error_code ec;
  asio::ip::make_address(target_.host, ec);
  if (!ec) {
    address = target_.host;  // a literal address: nothing to look up
    co_return true;
  }
  auto lookup = std::make_shared<Lookup>();
  lookup_ = lookup;
  startLookup(lookup, target_.host, std::to_string(target_.port), ex_, &resolved_);
  resolved_.expires_at(asio::steady_timer::time_point::max());
  {
    std::lock_guard lock(lookup->mutex);
    if (lookup->done) resolved_.cancel();  // (cannot happen before we wait, but cheap to say)
  }
  if (!stopped()) co_await resolved_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  std::lock_guard lock(lookup->mutex);
  lookup->abandoned = true;
  lookup_.reset();
  if (!lookup->done || stopped()) {
    error = expired_ ? "no answer within " + std::to_string(timeout_.count()) + " ms (resolving " +
                           target_.host + ")"
                     : "check cancelled";
    co_return false;
  }
  if (!lookup->error.empty()) {
    error = lookup->error;
    co_return false;
  }
  address = lookup->address;
  co_return true;
}

Task<bool> PgProbe::connect(std::string& error) {
  std::string address;
  if (!co_await resolve(address, error)) co_return false;
  const std::string port = std::to_string(target_.port);
  // hostaddr: libpq must not look the name up itself (that would block this thread).
  const char* keys[] = {"host",     "hostaddr",         "port",       "dbname", "user",
                        "password", "application_name", "gssencmode", nullptr};
  const char* values[] = {target_.host.c_str(),
                          address.c_str(),
                          port.c_str(),
                          target_.database.c_str(),
                          target_.user.c_str(),
                          target_.password.c_str(),
                          "pgsplit-health",
                          "disable",
                          nullptr};
  conn_ = PQconnectStartParams(keys, values, 0);
  if (conn_ == nullptr) {
    error = "out of memory";
    co_return false;
  }
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  if (PQstatus(conn_) == CONNECTION_BAD) {
    error = connectionError();
    disconnect();
    co_return false;
  }
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    bool ready = false;
    if (status != PGRES_POLLING_FAILED)
      ready = co_await waitSocket(status == PGRES_POLLING_WRITING);
    if (!ready) {
      error = connectionError();
      disconnect();
      co_return false;
    }
    status = PQconnectPoll(conn_);
  }
  if (PQsetnonblocking(conn_, 1) != 0) {
    error = connectionError();
    disconnect();
    co_return false;
  }
  co_return true;
}

Task<bool> PgProbe::query(ProbeResult& result) {
  using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;
  auto fail = [&] {
    result.error = connectionError();
    disconnect();
    return false;
  };
  result.sentAt = routing::Clock::now();
  if (PQsendQuery(conn_, kQuery) == 0) co_return fail();
  for (;;) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) co_return fail();
    const bool writable = co_await waitSocket(true);
    if (!writable) co_return fail();
  }
  ResultPtr first(nullptr, &PQclear);
  for (;;) {
    while (PQisBusy(conn_) != 0) {
      const bool readable = co_await waitSocket(false);
      if (!readable || PQconsumeInput(conn_) == 0) co_return fail();
    }
    ResultPtr r(PQgetResult(conn_), &PQclear);
    if (!r) break;
    if (!first) first = std::move(r);
  }
  result.receivedAt = routing::Clock::now();
  if (!first || PQresultStatus(first.get()) != PGRES_TUPLES_OK || PQntuples(first.get()) != 1 ||
      PQnfields(first.get()) != 3) {
    result.error = first ? firstLine(PQresultErrorMessage(first.get())) : connectionError();
    if (result.error == "unknown error") result.error = "unexpected answer to the health query";
    co_return false;  // the connection itself is fine: keep it
  }
  PGresult* r = first.get();
  result.role = PQgetvalue(r, 0, 0)[0] == 't' ? routing::Role::Replica : routing::Role::Primary;
  result.lsn = PQgetisnull(r, 0, 1) ? 0 : routing::parseLsn(PQgetvalue(r, 0, 1));
  result.replayDelayMs = PQgetisnull(r, 0, 2) ? -1 : std::atoll(PQgetvalue(r, 0, 2));
  if (result.replayDelayMs < -1) result.replayDelayMs = 0;  // clocks of a replica ahead
  co_return true;
}

Task<bool> PgProbe::waitSocket(bool forWrite) {
  if (stopped()) co_return false;
  const int fd = PQsocket(conn_);
  if (fd < 0) co_return false;
  error_code ec;
  // Registered for this one wait: libpq may close and reopen its socket between calls.
  waiter_.assign(fd, ec);
  if (ec) co_return false;
  co_await waiter_.async_wait(forWrite ? asio::posix::stream_descriptor::wait_write
                                       : asio::posix::stream_descriptor::wait_read,
                              asio::redirect_error(asio::use_awaitable, ec));
  waiter_.release();
  co_return !ec && !stopped();
}

}  // namespace pgsplit::health
