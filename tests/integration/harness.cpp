#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "pgsplit/protocol/auth.hpp"
#include "pgsplit/protocol/frame.hpp"
#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/protocol/writer.hpp"

namespace pgsplit::test {

namespace {
// The environment wins; otherwise the paths CMake baked in for this build tree.
std::string requireEnv(const char* name) {
  if (const char* v = std::getenv(name); v && *v) return v;
  std::string fallback;
  if (std::string_view(name) == "PGSPLIT_TEST_CLUSTER_ENV") fallback = PGSPLIT_DEFAULT_CLUSTER_ENV;
  if (std::string_view(name) == "PGSPLIT_BINARY") fallback = PGSPLIT_DEFAULT_BINARY;
  if (fallback.empty())
    ADD_FAILURE() << name << " is not set: run the integration tests through ctest "
                  << "(scripts/test.sh), which starts the cluster";
  return fallback;
}
}  // namespace

Cluster Cluster::fromEnvFile(const std::string& path) {
  Cluster c;
  std::ifstream in(path);
  if (!in) ADD_FAILURE() << "cannot read " << path << ": is the cluster running?";
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || line[0] == '#') continue;
    c.env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  c.primaryPort = std::atoi(c.env["PRIMARY_PORT"].c_str());
  c.replica1Port = std::atoi(c.env["REPLICA1_PORT"].c_str());
  c.replica2Port = std::atoi(c.env["REPLICA2_PORT"].c_str());
  c.binDir = c.env["PG_BINDIR"];
  return c;
}

const Cluster& Cluster::get() {
  static Cluster cluster = fromEnvFile(requireEnv("PGSPLIT_TEST_CLUSTER_ENV"));
  EXPECT_GT(cluster.primaryPort, 0) << "cluster.env has no PRIMARY_PORT";
  return cluster;
}

std::string Cluster::superuserConninfo(int port, const std::string& db) const {
  return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + db + " user=postgres " +
         "password=postgres connect_timeout=10";
}

std::string Cluster::appConninfo(int port) const {
  return "host=127.0.0.1 port=" + std::to_string(port) +
         " dbname=app user=app password=app connect_timeout=10";
}

void Cluster::waitForReplicas() const {
  Conn primary(superuserConninfo(primaryPort));
  std::string lsn = primary.value("SELECT pg_current_wal_lsn()");
  for (int port : {replica1Port, replica2Port}) {
    Conn replica(superuserConninfo(port));
    bool caught = false;
    for (int i = 0; i < 300 && !caught; ++i) {
      caught = replica.value("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn") == "t";
      if (!caught) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(caught) << "replica on port " << port << " did not replay up to " << lsn;
  }
}

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

Pgsplit::Pgsplit(const PgsplitOptions& o) {
  const Cluster& c = o.cluster ? *o.cluster : Cluster::get();
  const std::string binary = requireEnv("PGSPLIT_BINARY");
  char tmpl[] = "/tmp/pgsplit-it-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  configPath_ = dir_ + "/pgsplit.toml";
  logPath_ = dir_ + "/pgsplit.log";

  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = freePort();
    httpPort_ = freePort();
    std::ofstream cfg(configPath_);
    cfg << "[server]\nlisten = \"127.0.0.1:" << port_ << "\"\nworkers = " << o.workers << "\n"
        << "http_listen = \"127.0.0.1:" << httpPort_ << "\"\n"
        << "shutdown_timeout_ms = " << o.shutdownTimeoutMs << "\n"
        << "auth_method = \"" << o.authMethod << "\"\n"
        << "startup_timeout_ms = " << o.startupTimeoutMs << "\n"
        << o.serverExtra << "\n"
        << "[pool]\nmode = \"" << o.poolMode << "\"\n"
        << "max_server_connections = " << o.maxServerConnections << "\n"
        << o.poolExtra << "\n"
        << "[log]\nlevel = \"" << o.logLevel << "\"\nformat = \"" << o.logFormat << "\"\n"
        << o.logExtra << "\n";
    const char* names[] = {"pg0", "pg1", "pg2"};
    const int ports[] = {c.primaryPort, c.replica1Port, c.replica2Port};
    const char* roles[] = {"primary", "replica", "replica"};
    for (int i = 0; i < 3; ++i)
      cfg << "[[nodes]]\nname = \"" << names[i] << "\"\nhost = \"127.0.0.1\"\nport = " << ports[i]
          << "\nrole = \"" << (o.nodesAuto ? "auto" : roles[i]) << "\"\n"
          << (o.nodeCluster.empty() ? "" : "cluster = \"" + o.nodeCluster + "\"\n");
    cfg << "[[users]]\nname = \"app\"\npassword = \"app\"\n"
        << "[[users]]\nname = \"md5user\"\npassword = \"md5pw\"\n"
        << o.extra << "\n";
    cfg.close();

    exited_ = false;
    pid_ = ::fork();
    if (pid_ == 0) {
      // A test binary that dies (a crash, SIGPIPE, a timeout) takes its pgsplit with it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(logPath_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      for (const auto& [name, value] : o.env)
        ::setenv(name.c_str(), value.c_str(), 1);
      ::execl(binary.c_str(), binary.c_str(), "--config", configPath_.c_str(), nullptr);
      ::_exit(127);
    }
    // Ready when it accepts connections.
    for (int i = 0; i < 200; ++i) {
      if (!running()) break;
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (running()) break;  // started but never listened: fail below
    pid_ = -1;             // exited (port taken between freePort and bind?): try another port
  }
  ADD_FAILURE() << "pgsplit did not start; its log:\n" << log();
}

bool Pgsplit::running() {
  if (pid_ <= 0 || exited_) return false;
  int status;
  if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
  exited_ = true;
  exitStatus_ = status;
  return false;
}

void Pgsplit::signal(int signo) {
  if (pid_ > 0 && running()) ::kill(pid_, signo);
}

std::optional<int> Pgsplit::waitExit(std::chrono::milliseconds timeout) {
  expectExit_ = true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exitStatus_;
}

std::string Pgsplit::configText() const {
  std::ifstream in(configPath_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Pgsplit::writeConfig(const std::string& text) {
  // Written aside and renamed, as editors and configuration tools do: a reload never reads half.
  const std::string tmp = configPath_ + ".new";
  {
    std::ofstream out(tmp);
    out << text;
  }
  std::rename(tmp.c_str(), configPath_.c_str());
}

Pgsplit::~Pgsplit() {
  if (pid_ > 0 && running()) {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200 && running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (running()) {
      ADD_FAILURE() << "pgsplit did not stop on SIGTERM within 10 s";
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    } else {
      // A clean stop exits 0; a sanitizer report (leak, UB) or a crash does not.
      EXPECT_TRUE(WIFEXITED(exitStatus_) && WEXITSTATUS(exitStatus_) == 0)
          << "pgsplit exited with status " << exitStatus_ << " after SIGTERM";
    }
  } else if (pid_ > 0 && !expectExit_) {
    ADD_FAILURE() << "pgsplit exited before the test ended (status " << exitStatus_ << ")";
  }
  if (::testing::Test::HasFailure()) std::cerr << "--- pgsplit log ---\n" << log() << "---\n";
  std::remove(configPath_.c_str());
  std::remove(logPath_.c_str());
  ::rmdir(dir_.c_str());
}

std::string Pgsplit::conninfo(const std::string& user, const std::string& password,
                              const std::string& db) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + db + " user=" + user +
         " password=" + password + " connect_timeout=10 sslmode=disable";
}

std::string Pgsplit::url(const std::string& user, const std::string& password,
                         const std::string& db) const {
  return "postgresql://" + user + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string Pgsplit::log() const {
  std::ifstream in(logPath_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Conn::Conn(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
Conn::~Conn() {
  PQfinish(conn_);
}

std::vector<std::vector<std::string>> Conn::rows(const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  PGresult* r = PQexec(conn_, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    ADD_FAILURE() << "query failed: " << sql << ": " << PQerrorMessage(conn_);
  } else {
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r); ++j)
        row.emplace_back(PQgetvalue(r, i, j));
      out.push_back(std::move(row));
    }
  }
  PQclear(r);
  return out;
}

std::string Conn::value(const std::string& sql) {
  auto r = rows(sql);
  if (r.empty() || r[0].empty()) {
    ADD_FAILURE() << "no value from: " << sql;
    return {};
  }
  return r[0][0];
}

void Conn::exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    ADD_FAILURE() << "statement failed: " << sql << ": " << PQerrorMessage(conn_);
  PQclear(r);
}

std::string Conn::errorState(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  std::string state;
  if (PQresultStatus(r) == PGRES_FATAL_ERROR) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    state = s ? s : "?????";
  }
  PQclear(r);
  return state;
}

RawClient::RawClient(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RawClient::send(const std::string& bytes) {
  ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

std::pair<char, std::string> RawClient::read(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto r = protocol::readFrame(buf_, 1u << 30);
    if (r.status == protocol::FrameStatus::Ok) {
      std::pair<char, std::string> msg{r.frame.type, std::string(r.frame.body)};
      buf_.erase(0, r.frame.size);
      return msg;
    }
    if (r.status == protocol::FrameStatus::Malformed) return {0, "malformed"};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {0, "timeout"};
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {0, "timeout"};
    char chunk[8192];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return {0, "eof"};
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool RawClient::closedByPeer(std::chrono::milliseconds timeout) {
  for (;;) {
    auto [type, body] = read(timeout);
    if (type == 0) return body == "eof";
  }
}

std::string RawClient::login(const std::string& user, const std::string& password,
                             const std::string& db,
                             const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string out;
  std::vector<std::pair<std::string, std::string>> parameters = {{"user", user}, {"database", db}};
  parameters.insert(parameters.end(), extra.begin(), extra.end());
  protocol::writeStartup(out, parameters);
  send(out);
  std::optional<protocol::ScramClient> scram;
  for (;;) {
    auto [type, body] = read();
    if (type == 0) return "EOF:" + body;
    if (type == 'E') return sqlstateOf(body);
    if (type == 'Z') return "";
    if (type != 'R') continue;
    auto req = protocol::decodeAuthRequest(body);
    if (!req) return "bad auth request";
    out.clear();
    switch (req->code) {
      case protocol::AuthCode::Sasl:
        scram.emplace(password);
        protocol::writeSaslInitialResponse(out, protocol::kScramSha256, scram->clientFirst());
        break;
      case protocol::AuthCode::SaslContinue: {
        auto reply = scram->handleServerFirst(req->data);
        if (!reply) return "bad server-first";
        protocol::writeSaslResponse(out, *reply);
        break;
      }
      case protocol::AuthCode::Md5Password:
        protocol::writePassword(
            out, protocol::md5PasswordResponse(
                     user, password, reinterpret_cast<const std::uint8_t*>(req->data.data())));
        break;
      case protocol::AuthCode::CleartextPassword:
        protocol::writePassword(out, password);
        break;
      default:
        break;
    }
    if (!out.empty()) send(out);
  }
}

std::string sqlstateOf(const std::string& errorBody) {
  auto fields = protocol::decodeError(errorBody);
  return fields ? std::string(fields->sqlstate) : "";
}

void awaitReplicaReads(Conn& c, const std::string& relation) {
  const std::string sql =
      "SELECT pg_is_in_recovery() FROM (SELECT count(*) FROM " + relation + ") s";
  for (int i = 0; i < 200; ++i) {
    if (c.value(sql) == "t") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "reads of " << relation << " never reached a replica through pgsplit";
}

std::pair<int, std::string> runCommand(const std::string& command, std::chrono::seconds timeout) {
  std::string full = "timeout " + std::to_string(timeout.count()) + " " + command + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace pgsplit::test
