#include "pgsplit/session/config_store.hpp"

namespace pgsplit::session {

ConfigStore::ConfigStore(std::shared_ptr<const config::Config> initial) {
  publish(std::move(initial));
}

const ConfigGeneration& ConfigStore::publish(std::shared_ptr<const config::Config> next) {
  std::lock_guard lock(mutex_);
  auto gen = std::make_unique<ConfigGeneration>();
  const ConfigGeneration* previous = generations_.empty() ? nullptr : generations_.back().get();
  gen->number = previous ? previous->number + 1 : 1;
  for (const auto& u : next->users) {
    const config::UserConfig* old = previous ? previous->config->findUser(u.name) : nullptr;
    auto it = previous ? previous->verifiers.find(u.name) : VerifierMap::const_iterator{};
    if (old && old->password == u.password && it != previous->verifiers.end())
      gen->verifiers.emplace(u.name, it->second);
    else
      gen->verifiers.emplace(u.name, protocol::makeScramVerifier(u.password));
  }
  gen->rules = routing::RuleSet::compile(*next);
  gen->config = std::move(next);
  const ConfigGeneration* published = gen.get();
  generations_.push_back(std::move(gen));
  current_.store(published, std::memory_order_release);
  return *published;
}

}  // namespace pgsplit::session
