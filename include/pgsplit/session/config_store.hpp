#pragma once
// The configuration in force, swapped as a whole by a reload (SIGHUP, RELOAD).
//
// Each published configuration is an immutable generation: the Config (shared_ptr<const>) and what
// is derived from it once (SCRAM verifiers, the compiled routing rules). Readers on the workers
// take no lock and no reference count: `runtime.config->x` is one acquire load of the current
// generation. Generations are kept until the process ends, so a reference a session took before a
// reload (held across a co_await) never dangles; a generation costs a few kilobytes and reloads are
// rare, so this is cheaper than tracking when every session has moved on.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pgsplit/config/config.hpp"
#include "pgsplit/protocol/auth.hpp"
#include "pgsplit/routing/rules.hpp"

namespace pgsplit::session {

using VerifierMap = std::unordered_map<std::string, protocol::ScramVerifier>;

struct ConfigGeneration {
  std::uint64_t number = 0;  // 1 = the file loaded at start
  std::shared_ptr<const config::Config> config;
  VerifierMap verifiers;  // SCRAM verifiers per user (PBKDF2 is slow on purpose: once per load)
  // [[rules]] and the database -> cluster map, compiled once for this generation.
  std::shared_ptr<const routing::RuleSet> rules;
};

class ConfigStore {
 public:
  explicit ConfigStore(std::shared_ptr<const config::Config> initial);
  ConfigStore(const ConfigStore&) = delete;
  ConfigStore& operator=(const ConfigStore&) = delete;

  const config::Config* operator->() const { return current().config.get(); }
  const config::Config& operator*() const { return *current().config; }
  const ConfigGeneration& current() const { return *current_.load(std::memory_order_acquire); }
  const VerifierMap& verifiers() const { return current().verifiers; }
  const routing::RuleSet& rules() const { return *current().rules; }
  std::shared_ptr<const config::Config> snapshot() const { return current().config; }

  // Publishes a new generation (the control thread only). Verifiers of users whose password did
  // not change are carried over.
  const ConfigGeneration& publish(std::shared_ptr<const config::Config> next);

 private:
  std::mutex mutex_;  // publishers
  std::vector<std::unique_ptr<const ConfigGeneration>> generations_;
  std::atomic<const ConfigGeneration*> current_{nullptr};
};

}  // namespace pgsplit::session
