#include "ops_util.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <sstream>

#include "harness.hpp"

namespace pgsplit::test {

HttpReply httpGet(int port, const std::string& path, std::chrono::milliseconds timeout) {
  HttpReply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nConnection: close\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto headEnd = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.1 ") || headEnd == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + 9);
  reply.body = raw.substr(headEnd + 4);
  return reply;
}

std::map<std::string, double> parseMetrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    // name, optional {labels} (values may contain escaped quotes), a space, a number.
    std::size_t i = 0;
    while (i < line.size() &&
           (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_' || line[i] == ':'))
      ++i;
    if (i == 0) {
      ADD_FAILURE() << "metric line without a name: " << line;
      continue;
    }
    if (i < line.size() && line[i] == '{') {
      bool quoted = false;
      for (++i; i < line.size(); ++i) {
        if (quoted && line[i] == '\\') {
          ++i;
          continue;
        }
        if (line[i] == '"') quoted = !quoted;
        if (!quoted && line[i] == '}') break;
      }
      if (i >= line.size()) {
        ADD_FAILURE() << "unterminated labels: " << line;
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      ADD_FAILURE() << "no value: " << line;
      continue;
    }
    const std::string key = line.substr(0, i);
    const std::string value = line.substr(i + 1);
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(value, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != value.size()) {
      ADD_FAILURE() << "bad value: " << line;
      continue;
    }
    if (out.count(key) != 0) ADD_FAILURE() << "duplicate series: " << key;
    out[key] = v;
  }
  return out;
}

double metricSum(const std::map<std::string, double>& m, const std::string& name,
                 const std::vector<std::string>& labels) {
  double sum = 0;
  for (const auto& [key, value] : m) {
    if (!(key == name || key.starts_with(name + "{"))) continue;
    bool all = true;
    for (const auto& l : labels)
      all = all && key.find(l) != std::string::npos;
    if (all) sum += value;
  }
  return sum;
}

std::pair<int, std::string> psql(int port, const std::string& user, const std::string& password,
                                 const std::string& db, const std::string& command) {
  const Cluster& c = Cluster::get();
  std::string quoted = "'";
  for (char ch : command) {
    if (ch == '\'')
      quoted += "'\\''";
    else
      quoted += ch;
  }
  quoted += "'";
  return runCommand("env PGPASSWORD=" + password + " PGCONNECT_TIMEOUT=10 " + c.binDir +
                        "/psql -X -A -t -F '|' -h 127.0.0.1 -p " + std::to_string(port) + " -U " +
                        user + " -d " + db + " -v ON_ERROR_STOP=1 -c " + quoted,
                    std::chrono::seconds(60));
}

std::vector<std::vector<std::string>> psqlRows(const std::string& output) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> row;
    std::size_t start = 0;
    for (;;) {
      const auto bar = line.find('|', start);
      row.push_back(line.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace pgsplit::test
