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
  if (!sql::plausibleParameterName(lower)) {
    spdlog::info("[c{}] ignoring startup parameter with an unusable name", id_);
    return;
  }
  startupParameters_.emplace_back(name, value);
  startupSettings_[lower] = sql::startupSettingSql(lower, value);
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
  if (!st.settings.empty() || !settings_.empty()) st.settings = settings_;
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
  for (auto& e : effects) {
    switch (e.kind) {
      case EffectKind::Set:
        setSetting(e.name, &e.text);
        if (st) st->settings[e.name] = e.text;
        break;
      case EffectKind::Reset:
        setSetting(e.name, nullptr);
        if (st) st->settings.erase(e.name);
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
