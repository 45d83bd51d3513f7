#include "pgsplit/admin/command.hpp"

namespace pgsplit::admin {
namespace {

// Comments become spaces, the rest upper case.
std::string normalise(std::string_view q) {
  std::string out;
  out.reserve(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (q.substr(i, 2) == "--") {
      while (i < q.size() && q[i] != '\n')
        ++i;
      out += ' ';
      continue;
    }
    if (q.substr(i, 2) == "/*") {
      const auto end = q.find("*/", i + 2);
      i = end == std::string_view::npos ? q.size() : end + 1;
      out += ' ';
      continue;
    }
    char c = q[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') c = ' ';
    out += c;
  }
  return out;
}

Command parseOne(std::string_view statement) {
  // Collapse whitespace.
  std::string text;
  for (char c : statement) {
    if (c == ' ') {
      if (!text.empty() && text.back() != ' ') text += ' ';
      continue;
    }
    text += c;
  }
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  Command cmd;
  cmd.text = text;
  struct Entry {
    std::string_view text;
    CommandKind kind;
  };
  static constexpr Entry kCommands[] = {
      {"SHOW NODES", CommandKind::ShowNodes},
      {"SHOW POOLS", CommandKind::ShowPools},
      {"SHOW CLIENTS", CommandKind::ShowClients},
      {"SHOW SERVERS", CommandKind::ShowServers},
      {"SHOW STATS", CommandKind::ShowStats},
      {"SHOW CONFIG", CommandKind::ShowConfig},
      {"SHOW VERSION", CommandKind::ShowVersion},
      {"SHOW HELP", CommandKind::ShowHelp},
      {"SHOW RULES", CommandKind::ShowRules},
      {"SHOW CLUSTERS", CommandKind::ShowClusters},
      {"RELOAD", CommandKind::Reload},
      {"SHUTDOWN", CommandKind::Shutdown},
      {"PAUSE", CommandKind::NotSupported},
      {"RESUME", CommandKind::NotSupported},
      {"SHOW QUERIES", CommandKind::NotSupported},
  };
  if (text.empty()) {
    cmd.kind = CommandKind::Empty;
    return cmd;
  }
  for (const Entry& e : kCommands) {
    if (text == e.text) {
      cmd.kind = e.kind;
      return cmd;
    }
  }
  cmd.kind = CommandKind::Unknown;
  return cmd;
}

}  // namespace

std::vector<Command> parseCommands(std::string_view query) {
  const std::string text = normalise(query);
  std::vector<Command> out;
  std::size_t start = 0;
  for (;;) {
    const auto semi = text.find(';', start);
    const std::string_view part = std::string_view(text).substr(
        start, semi == std::string::npos ? std::string::npos : semi - start);
    Command c = parseOne(part);
    // Empty statements between semicolons are dropped, but a query of nothing is one Empty.
    if (c.kind != CommandKind::Empty) out.push_back(std::move(c));
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  if (out.empty()) out.push_back({CommandKind::Empty, ""});
  return out;
}

}  // namespace pgsplit::admin
