#include "pgsplit/admin/command.hpp"

namespace pgsplit::admin {
namespace {

char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Comments become spaces; other whitespace becomes a space. Case is kept (a database name).
std::string withoutComments(std::string_view q) {
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
    if (c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') c = ' ';
    out += c;
  }
  return out;
}

// Words separated by spaces; a double-quoted word may hold spaces ("" is one quote).
std::vector<std::string> words(std::string_view statement, bool& malformed) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < statement.size()) {
    if (statement[i] == ' ') {
      ++i;
      continue;
    }
    std::string word;
    if (statement[i] == '"') {
      word += '"';
      ++i;
      bool closed = false;
      while (i < statement.size()) {
        if (statement[i] == '"') {
          if (i + 1 < statement.size() && statement[i + 1] == '"') {
            word += "\"\"";
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        word += statement[i++];
      }
      word += '"';
      if (!closed) malformed = true;
    } else {
      while (i < statement.size() && statement[i] != ' ')
        word += statement[i++];
    }
    out.push_back(std::move(word));
  }
  return out;
}

// A database name as PostgreSQL reads an identifier: folded to lower case unless quoted.
std::string identifier(std::string_view word) {
  std::string out;
  if (word.size() >= 2 && word.front() == '"') {
    const std::string_view body = word.substr(1, word.size() - 2);
    for (std::size_t i = 0; i < body.size(); ++i) {
      out += body[i];
      if (body[i] == '"') ++i;  // "" is one "
    }
    return out;
  }
  for (char c : word)
    out += lower(c);
  return out;
}

Command parseOne(std::string_view statement) {
  bool malformed = false;
  const std::vector<std::string> w = words(statement, malformed);
  Command cmd;
  if (w.empty()) {
    cmd.kind = CommandKind::Empty;
    return cmd;
  }
  for (const std::string& word : w) {
    if (!cmd.text.empty()) cmd.text += ' ';
    for (char c : word)
      cmd.text += word.front() == '"' ? c : upper(c);
  }
  struct Entry {
    std::string_view text;
    CommandKind kind;
    bool takesDatabase;
  };
  static constexpr Entry kCommands[] = {
      {"SHOW NODES", CommandKind::ShowNodes, false},
      {"SHOW POOLS", CommandKind::ShowPools, false},
      {"SHOW CLIENTS", CommandKind::ShowClients, false},
      {"SHOW SERVERS", CommandKind::ShowServers, false},
      {"SHOW STATS", CommandKind::ShowStats, false},
      {"SHOW QUERIES", CommandKind::ShowQueries, false},
      {"SHOW CONFIG", CommandKind::ShowConfig, false},
      {"SHOW VERSION", CommandKind::ShowVersion, false},
      {"SHOW HELP", CommandKind::ShowHelp, false},
      {"RELOAD", CommandKind::Reload, false},
      {"SHUTDOWN", CommandKind::Shutdown, false},
      {"PAUSE", CommandKind::Pause, true},
      {"RESUME", CommandKind::Resume, true},
      {"SHOW RULES", CommandKind::NotSupported, false},
  };
  for (const Entry& e : kCommands) {
    // The command's words, then (for PAUSE/RESUME) at most one database name.
    std::string head;
    std::size_t n = 0;
    while (n < w.size() && head.size() < e.text.size()) {
      if (!head.empty()) head += ' ';
      for (char c : w[n])
        head += upper(c);
      ++n;
    }
    if (head != e.text) continue;
    const std::size_t extra = w.size() - n;
    if (extra == 0 || (extra == 1 && e.takesDatabase && !malformed)) {
      cmd.kind = e.kind;
      if (extra == 1) {
        cmd.argument = identifier(w[n]);
        if (cmd.argument.empty()) break;  // "" names nothing
        cmd.text = std::string(e.text) + " " + w[n];
      }
      return cmd;
    }
  }
  cmd.kind = CommandKind::Unknown;
  cmd.argument.clear();
  return cmd;
}

}  // namespace

std::vector<Command> parseCommands(std::string_view query) {
  const std::string text = withoutComments(query);
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
  if (out.empty()) out.push_back({CommandKind::Empty, "", ""});
  return out;
}

}  // namespace pgsplit::admin
