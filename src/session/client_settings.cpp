// ClientSession: the client's settings (startup parameters, SET, RESET) and how they follow it to
// every backend, and what the server's answers mean for them and for the client's statement
// names (EffectLedger::Listener).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/session/client_session.hpp"
#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::session {

using namespace protocol;
using backend::BackendConnection;
using sql::EffectKind;

namespace {

std::string quotedName(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

void ClientSession::noteStartupParameter(std::string_view name, std::string_view value) {
  const std::string lower = sql::asciiLowered(name);
  if (lower == "pgsplit.min_lsn") {  // pgsplit's own: never sent to a server
    minLsnFloor_ = routing::parseLsn(value);
    badMinLsn_ = minLsnFloor_ == 0 && value != "0/0";
    if (badMinLsn_) badMinLsnValue_ = std::string(value);
    return;
  }
  if (!sql::plausibleParameterName(lower)) {
    spdlog::info("[c{}] ignoring startup parameter with an unusable name", id_);
    return;
  }
  startupParameters_.emplace_back(name, value);
  startupSettings_[lower] = sql::startupSettingSql(lower, value);
  startupValues_[lower] = value;
  settings_ = startupSettings_;
  settingsChanged();
}

void ClientSession::settingsChanged() {
  ++settingsVersion_;
  auto it = settings_.find("default_transaction_isolation");
  serializableDefault_ = it != settings_.end() &&
                         sql::asciiLowered(it->second).find("serializable") != std::string::npos;
}

void ClientSession::syncSettings(BackendConnection& target) {
  auto& st = target.state();
  if (st.syncedSession == id_ && st.syncedVersion == settingsVersion_ && !st.settingsUnknown)
    return;
  // One Query message per statement: each runs in its own implicit transaction, so one that fails
  // (reported to the client as a notice) cannot undo the others, above all the RESETs of what
  // another client left behind.
  bool sent = false;
  auto add = [&](std::string_view statement) {
    writeQuery(wire_, statement);
    PendingReply e;
    e.request = client::Query;
    e.forClient = false;
    e.errorAsNotice = true;
    pushReply(std::move(e));
    sent = true;
  };
  if (st.settingsUnknown) {
    // RESET ALL leaves the role alone: SET SESSION AUTHORIZATION DEFAULT resets it too.
    add("SET SESSION AUTHORIZATION DEFAULT");
    add("RESET ALL");
    st.settings.clear();
  }
  for (const auto& [name, had] : st.settings) {
    if (settings_.find(name) != settings_.end()) continue;
    if (name == "session_authorization")
      add("SET SESSION AUTHORIZATION DEFAULT");
    else
      add("RESET " + quotedName(name));
  }
  // SET SESSION AUTHORIZATION resets the role: it goes first.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [name, want] : settings_) {
      if ((name == "session_authorization") != (pass == 0)) continue;
      auto it = st.settings.find(name);
      if (it == st.settings.end() || it->second != want) add(want);
    }
  }
  // (Compared first: clients of one application usually send the same settings, and the copy
  // would allocate every node of the map each time a backend changes hands.)
  if (st.settings != settings_) st.settings = settings_;
  st.settingsUnknown = false;
  st.syncedSession = id_;
  st.syncedVersion = settingsVersion_;
  if (!sent) return;
  st.unnamedOwner = 0;  // (a simple Query drops the unnamed statement)
  spdlog::debug("[c{}] bringing server connection (pid {}) in line with the client's settings", id_,
                target.pid());
}

void ClientSession::setSetting(const std::string& name, const std::string* sql) {
  if (sql) {
    settings_[name] = *sql;
    return;
  }
  auto startup = startupSettings_.find(name);
  if (startup != startupSettings_.end())
    settings_[name] = startup->second;  // RESET goes back to what the client connected with
  else
    settings_.erase(name);
}

void ClientSession::resetAllSettings() {
  // RESET ALL leaves the role and the session authorization as they are (PostgreSQL's
  // GUC_NO_RESET_ALL), so they survive here too.
  auto keep = [this](const char* name, std::map<std::string, std::string, std::less<>>& into) {
    if (auto it = settings_.find(name); it != settings_.end()) into[name] = it->second;
  };
  std::map<std::string, std::string, std::less<>> next = startupSettings_;
  keep("role", next);
  keep("session_authorization", next);
  settings_ = std::move(next);
}

void ClientSession::applyEffects(std::vector<sql::SessionEffect>& effects,
                                 BackendConnection* conn) {
  backend::ServerState* st = conn ? &conn->state() : nullptr;
  // A reset's text is set when pgsplit restored the startup values right after it
  // (restoreStartup): the backend then holds them, not its own defaults.
  auto restored = [&](const sql::SessionEffect& e) {
    if (!st || e.text.empty()) return;
    for (const auto& [name, sql] : startupSettings_)
      if (e.kind != EffectKind::Reset || name == e.name) st->settings[name] = sql;
  };
  for (auto& e : effects) {
    switch (e.kind) {
      case EffectKind::Set:
        setSetting(e.name, &e.text);
        if (st) st->settings[e.name] = e.text;
        break;
      case EffectKind::Reset:
        setSetting(e.name, nullptr);
        if (st) st->settings.erase(e.name);
        restored(e);
        break;
      case EffectKind::DiscardAll:
        // Temporary tables, LISTEN, session locks, SQL PREPAREs, the role: all gone with it.
        if (pinned_) spdlog::info("[c{}] DISCARD ALL: session no longer pinned", id_);
        pinned_ = false;
        pinReason_ = nullptr;
        settings_ = startupSettings_;
        if (st) {
          st->settings.clear();
          st->syncedSession = 0;
        }
        restored(e);
        break;
      case EffectKind::ResetAll:
        resetAllSettings();
        if (st) {
          std::map<std::string, std::string, std::less<>> kept;
          for (const char* name : {"role", "session_authorization"})
            if (auto it = st->settings.find(name); it != st->settings.end())
              kept[name] = it->second;
          st->settings = std::move(kept);
        }
        restored(e);
        break;
      case EffectKind::DeallocateAll:
      case EffectKind::Deallocate:
      case EffectKind::Unsupported:
      case EffectKind::Savepoint:
      case EffectKind::Release:
      case EffectKind::RollbackTo:
      case EffectKind::Commit:
      case EffectKind::Rollback:
      case EffectKind::None:
        break;
    }
  }
  settingsChanged();
}

std::vector<std::string> ClientSession::startupResets(std::uint64_t begin,
                                                      std::uint64_t end) const {
  std::vector<std::string> names;
  if (startupValues_.empty()) return names;
  for (std::uint64_t seq = begin; seq < end; ++seq) {
    const EffectLedger::Record* r = ledger_.find(seq);
    if (!r) continue;
    const EffectKind k = r->effect.kind;
    if (k == EffectKind::ResetAll || k == EffectKind::DiscardAll) {
      names.clear();
      for (const auto& [name, value] : startupValues_)
        names.push_back(name);
      return names;
    }
    if (k == EffectKind::Reset && startupValues_.count(r->effect.name) &&
        std::find(names.begin(), names.end(), r->effect.name) == names.end())
      names.push_back(r->effect.name);
  }
  return names;
}

void ClientSession::restoreStartup(BackendConnection& target, const std::vector<std::string>& names,
                                   std::uint64_t begin, std::uint64_t end) {
  // PostgreSQL's RESET goes back to the session's default, which for the client is what its
  // startup packet said; a pooled backend's default is its own. Its Parse/Bind/Execute follow
  // the client's statement in the same write; the server skips them if that failed.
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& name : names)
    if (auto it = startupValues_.find(name); it != startupValues_.end())
      values.emplace_back(name, it->second);
  MessageWriter(wire_)
      .begin(client::Parse)
      .cstr("")
      .cstr(sql::startupRestoreSql(values))
      .i16(0)
      .end();
  MessageWriter(wire_).begin(client::Bind).cstr("").cstr("").i16(0).i16(0).i16(0).end();
  MessageWriter(wire_).begin(client::Execute).cstr("").i32(0).end();
  for (char request : {client::Parse, client::Bind, client::Execute}) {
    PendingReply e;
    e.request = request;
    e.forClient = false;  // (an error still reaches the client: the batch stops there)
    pushReply(std::move(e));
  }
  target.state().unnamedOwner = 0;
  for (std::uint64_t seq = begin; seq < end; ++seq) {
    EffectLedger::Record* r = ledger_.find(seq);
    const EffectKind k = r ? r->effect.kind : EffectKind::None;
    if (k == EffectKind::ResetAll || k == EffectKind::DiscardAll ||
        (k == EffectKind::Reset && startupValues_.count(r->effect.name)))
      r->effect.text = "restored";  // see applyEffects
  }
}

bool ClientSession::parameterStatus(std::string_view body, const PendingReply& entry,
                                    std::string& replacement) {
  // After a RESET of a startup parameter the server reports its own default (or, when pgsplit
  // restored it, the value as the server spells it): the client sees the value it connected
  // with, as at login (welcome).
  if (startupValues_.empty() || !ledger_.inFlight()) return false;
  auto status = decodeParameterStatus(body);
  if (!status) return false;
  const std::string name = sql::asciiLowered(status->name);
  auto it = startupValues_.find(name);
  if (it == startupValues_.end() || !ledger_.lastResets(entry.unit, name)) return false;
  replacement.clear();
  writeParameterStatus(replacement, status->name, it->second);
  return true;
}

void ClientSession::committed(std::vector<sql::SessionEffect>& effects) {
  applyEffects(effects, active_.get());
}

void ClientSession::notRun(EffectLedger::Record& r) {
  // A DEALLOCATE or DISCARD ALL the server refused or skipped: the names come back.
  if (r.removed) statements_.insert_or_assign(r.effect.name, std::move(r.removed));
  for (auto& [name, ref] : r.removedAll)
    statements_.insert_or_assign(name, std::move(ref));
  if (r.backendPrepared && active_)
    active_->state().prepared.restoreAll(std::move(*r.backendPrepared));
}

}  // namespace pgsplit::session
