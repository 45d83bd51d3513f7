// Names as PostgreSQL resolves them, configured overrides, and resolve(): the catalog's facts
// applied to what analyze() listed.
#include "pgsplit/sql/analysis.hpp"

#include <mutex>
#include <unordered_set>

#include "name_table.hpp"
#include "references.hpp"

namespace pgsplit::sql {

namespace {

constexpr std::size_t kMaxIdentifierBytes = 63;  // NAMEDATALEN - 1
constexpr std::size_t kMaxInterned = 100000;

// PostgreSQL cuts a long identifier at a character boundary (pg_mbcliplen, UTF-8 here).
void truncateIdentifier(std::string& s) {
  if (s.size() <= kMaxIdentifierBytes) return;
  std::size_t cut = kMaxIdentifierBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  s.resize(cut);
}

bool plainIdentifier(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9') ||
                    (i > 0 && c == '$');
    if (!ok) return false;
  }
  return true;
}

std::string quotedIfNeeded(std::string_view s) {
  if (plainIdentifier(s)) return std::string(s);
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

namespace detail {

std::optional<std::string> identifierName(const Tok& t) {
  std::string out;
  if (t.kind == TokenKind::Identifier) {
    out.reserve(t.text.size());
    for (const char c : t.text)
      out += static_cast<char>(foldAscii(static_cast<unsigned char>(c)));
  } else if (t.kind == TokenKind::QuotedIdentifier && t.text.size() >= 2 && t.text[0] == '"') {
    const std::string_view body = t.text.substr(1, t.text.size() - 2);
    out.reserve(body.size());
    for (std::size_t i = 0; i < body.size(); ++i) {
      out += body[i];
      if (body[i] == '"') ++i;  // "" stands for one "
    }
  } else {
    return std::nullopt;  // U&"..." and anything else
  }
  truncateIdentifier(out);
  return out;
}

}  // namespace detail

std::string objectKey(std::string_view schema, std::string_view name) {
  std::string key;
  key.reserve(schema.size() + 1 + name.size());
  key.append(schema);
  key += '\0';
  key.append(name);
  return key;
}

std::string_view keySchema(std::string_view key) {
  return key.substr(0, key.find('\0'));
}

std::string_view keyName(std::string_view key) {
  const std::size_t nul = key.find('\0');
  return nul == std::string_view::npos ? key : key.substr(nul + 1);
}

std::string displayName(std::string_view key) {
  const std::string_view schema = keySchema(key);
  std::string out = schema.empty() ? std::string() : quotedIfNeeded(schema) + ".";
  return out + quotedIfNeeded(keyName(key));
}

std::optional<std::string> parseQualifiedName(std::string_view text) {
  detail::TokenStream ts(text);
  std::optional<std::string> parts[2];
  std::size_t count = 0;
  while (true) {
    const detail::Tok t = ts.take();  // keywords too: only the shape matters here
    if (!detail::isName(t) || count == 2) return std::nullopt;
    parts[count] = detail::identifierName(t);
    if (!parts[count] || parts[count]->empty()) return std::nullopt;
    ++count;
    if (ts.peek().kind == TokenKind::End) break;
    if (!detail::isPunct(ts.take(), '.')) return std::nullopt;
  }
  if (ts.failed()) return std::nullopt;
  return count == 1 ? objectKey("", *parts[0]) : objectKey(*parts[0], *parts[1]);
}

void CatalogChanges::merge(const CatalogChanges& other) {
  kinds |= other.kinds;
  whole |= other.whole;
  for (const std::string& key : other.functions)
    detail::References::add(functions, key);
  for (const std::string& key : other.relations)
    detail::References::add(relations, key);
}

// ---- overrides ------------------------------------------------------------------------------

FunctionOverrides::FunctionOverrides(const std::vector<std::string>& writeKeys,
                                     const std::vector<std::string>& readOnlyKeys) {
  for (const std::string& key : writeKeys) {
    const char* reason =
        internText("write: function " + displayName(key) + "() is listed in write_functions");
    entries_.push_back({std::string(keySchema(key)), std::string(keyName(key)), Verdict::Write,
                        reason != nullptr ? reason : "write: function listed in write_functions"});
  }
  for (const std::string& key : readOnlyKeys) {
    entries_.push_back({std::string(keySchema(key)), std::string(keyName(key)), Verdict::ReadOnly,
                        "read: function listed in read_only_functions"});
  }
}

FunctionOverrides::Match FunctionOverrides::match(std::string_view schema,
                                                  std::string_view name) const {
  for (const Entry& e : entries_) {  // writes come first
    if (e.name != name) continue;
    if (e.schema.empty() || schema.empty() || e.schema == schema) return {e.verdict, e.reason};
  }
  return {};
}

// ---- resolve --------------------------------------------------------------------------------

Classification resolve(const Analysis& analysis, const CatalogSnapshot* snapshot, Misses* misses) {
  Classification c = analysis.classification;
  if (!analysis.needsCatalog()) return c;
  const char* why = nullptr;  // the first thing that keeps the text off the replicas
  bool pending = false;
  bool functionProblem = false;
  for (const std::string& key : analysis.functions) {
    const char* problem = nullptr;
    if (snapshot == nullptr) {
      problem = "write: function not known read-only";
    } else if (auto it = snapshot->functions->find(key); it != snapshot->functions->end()) {
      if (it->second.volatility != 'i' && it->second.volatility != 's') {
        problem = it->second.reason != nullptr ? it->second.reason
                                               : "write: function not known read-only";
      }
    } else {
      problem = "write: function not looked up in the catalog yet";
      pending = true;
      if (misses != nullptr) misses->functions.push_back(key);
    }
    if (why == nullptr) why = problem;
    if (problem != nullptr) functionProblem = true;
  }
  for (const std::string& key : analysis.relations) {
    if (snapshot == nullptr) break;
    const char* problem = nullptr;
    if (auto it = snapshot->relations->find(key); it != snapshot->relations->end()) {
      if (!it->second.replicaSafe) {
        problem = it->second.reason != nullptr ? it->second.reason
                                               : "write: relation a standby cannot read";
      }
    } else if (snapshot->reachable) {
      problem = "write: relation not looked up in the catalog yet";
      pending = true;
      if (misses != nullptr) misses->relations.push_back(key);
    }
    if (why == nullptr) why = problem;
  }
  if (why == nullptr) return c;
  if (c.readOnly) {
    c.readOnly = false;
    c.reason = why;
    c.primaryRead = !functionProblem;
  }
  if (c.txnStart == TxnStart::ReadOnly) c.txnStart = TxnStart::ReadWrite;
  c.provisional = pending;
  return c;
}

const char* internText(std::string_view text) {
  static std::mutex mutex;
  static std::unordered_set<std::string>* texts = new std::unordered_set<std::string>();
  std::lock_guard lock(mutex);
  if (auto it = texts->find(std::string(text)); it != texts->end()) return it->c_str();
  if (texts->size() >= kMaxInterned) return nullptr;
  return texts->emplace(text).first->c_str();
}

}  // namespace pgsplit::sql
