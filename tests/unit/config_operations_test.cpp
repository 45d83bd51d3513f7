// The operations keys of the configuration (issue #8): HTTP endpoint, drain, admin users, log
// format, passwords from the environment or a file, and what a reload changes.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "pgsplit/config/config.hpp"
#include "pgsplit/config/reload.hpp"
#include "pgsplit/config/secrets.hpp"

#include "config_test_support.hpp"

namespace pgsplit::config {
namespace {

using test_support::joined;
using test_support::kUser;
using test_support::load;

const std::string kFixtures = std::string(PGSPLIT_FIXTURES_DIR) + "/config";
const std::string kNode = "[[nodes]]\nname = \"pg0\"\nhost = \"127.0.0.1\"\n";

TEST(ConfigOperations, Defaults) {
  auto c = load(kNode + kUser);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->server.httpListenHost, "127.0.0.1");
  EXPECT_EQ(c->server.httpListenPort, 9930);
  EXPECT_TRUE(c->server.httpEnabled());
  EXPECT_EQ(c->server.shutdownTimeoutMs, 20000u);
  EXPECT_TRUE(c->admin.users.empty());
  EXPECT_EQ(c->log.format, LogFormat::Text);
  EXPECT_EQ(c->log.slowStatementMs, 0u) << "the slow-statement log is off by default";
  EXPECT_EQ(c->admin.pauseTimeoutMs, 10000u);
  EXPECT_EQ(c->users[0].passwordSource, SecretSource::Inline);
  EXPECT_FALSE(c->nodes[0].retired);
}

TEST(ConfigOperations, OperationsFixture) {
  LoadResult r = loadFile(kFixtures + "/valid/operations.toml");
  ASSERT_NE(r.config, nullptr) << joined(r.errors);
  const Config& c = *r.config;
  EXPECT_EQ(c.server.httpListenHost, "::1");
  EXPECT_EQ(c.server.httpListenPort, 9931);
  EXPECT_EQ(c.server.shutdownTimeoutMs, 0u);
  EXPECT_EQ(c.log.format, LogFormat::Json);
  EXPECT_EQ(c.log.slowStatementMs, 250u);
  EXPECT_EQ(c.admin.pauseTimeoutMs, 2500u);
  ASSERT_EQ(c.admin.users, std::vector<std::string>{"admin"});
  EXPECT_TRUE(c.isAdmin("admin"));
  EXPECT_FALSE(c.isAdmin("app"));
  // password_file relative to the configuration file's directory, line break dropped.
  EXPECT_EQ(c.users[0].password, "file-secret");
  EXPECT_EQ(c.users[0].passwordSource, SecretSource::File);
  EXPECT_EQ(c.users[0].passwordOrigin, kFixtures + "/valid/secrets/app.password");
}

TEST(ConfigOperations, EmptyHttpListenDisablesIt) {
  auto c = load("[server]\nhttp_listen = \"\"\n" + kNode + kUser);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->server.httpEnabled());
}

TEST(ConfigSecrets, PasswordFromTheEnvironment) {
  ::setenv("PGSPLIT_UNIT_PW", "from-env", 1);
  auto c = load(kNode + "[[users]]\nname = \"app\"\npassword = \"${PGSPLIT_UNIT_PW}\"\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->users[0].password, "from-env");
  EXPECT_EQ(c->users[0].passwordSource, SecretSource::Environment);
  EXPECT_EQ(c->users[0].passwordOrigin, "PGSPLIT_UNIT_PW");
  // Set but empty is a value (trust setups use empty passwords).
  ::setenv("PGSPLIT_UNIT_PW", "", 1);
  c = load(kNode + "[[users]]\nname = \"app\"\npassword = \"${PGSPLIT_UNIT_PW}\"\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->users[0].password, "");
  ::unsetenv("PGSPLIT_UNIT_PW");
}

TEST(ConfigSecrets, ReferencesMustBeExact) {
  EXPECT_TRUE(resolvePassword("plain").ok);
  EXPECT_TRUE(resolvePassword("has$dollar").ok);
  EXPECT_TRUE(resolvePassword("x${NOT_A_REF}").ok);  // only a leading "${" is a reference
  for (const char* bad : {"${", "${}", "${A", "${A}x", "${1A}", "${A-B}", "${ A}"}) {
    const Secret s = resolvePassword(bad);
    EXPECT_FALSE(s.ok) << bad;
    EXPECT_NE(s.error.find("must be exactly"), std::string::npos) << s.error;
  }
}

TEST(ConfigSecrets, PasswordFileRules) {
  char dir[] = "/tmp/pgsplit-unit-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string d = dir;
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(d + "/" + name, std::ios::binary) << content;
  };
  write("crlf", "s3cret\r\n");
  write("bare", "s3cret");
  write("two", "one\ntwo\n");
  write("big", std::string(5000, 'x'));
  write("empty", "");
  EXPECT_EQ(readPasswordFile("crlf", d).value, "s3cret");
  EXPECT_EQ(readPasswordFile(d + "/bare", "/elsewhere").value, "s3cret");  // absolute path
  EXPECT_TRUE(readPasswordFile("empty", d).ok);
  const Secret two = readPasswordFile("two", d);
  EXPECT_FALSE(two.ok);
  EXPECT_NE(two.error.find("one line"), std::string::npos) << two.error;
  EXPECT_EQ(two.error.find("one\n"), std::string::npos) << "the content must not leak";
  const Secret big = readPasswordFile("big", d);
  EXPECT_FALSE(big.ok);
  EXPECT_NE(big.error.find("4096"), std::string::npos) << big.error;
  EXPECT_FALSE(readPasswordFile("", d).ok);
  for (const char* f : {"crlf", "bare", "two", "big", "empty"})
    std::remove((d + "/" + f).c_str());
  ::rmdir(dir);
}

TEST(ConfigSecrets, SecretsNeverAppearInErrors) {
  const std::string secret = "hunter2-S3cr3t-DoNotLeak";
  ::setenv("PGSPLIT_UNIT_SECRET", secret.c_str(), 1);
  // Errors elsewhere in a file whose password comes from the environment.
  LoadResult r = loadString("[server]\nworkers = -1\n" + kNode +
                                "[[users]]\nname = \"app\"\npassword = \"${PGSPLIT_UNIT_SECRET}\"\n"
                                "password_file = \"x\"\n",
                            "s.toml");
  ASSERT_FALSE(r.errors.empty());
  for (const auto& e : r.errors)
    EXPECT_EQ(e.find(secret), std::string::npos) << e;
  ::unsetenv("PGSPLIT_UNIT_SECRET");
}

// ---- reload plan ----

std::string nodes(const std::string& spec) {
  // "a:5432:1 b:5433:2" -> [[nodes]] entries (name:port:weight)
  std::string out;
  std::size_t i = 0;
  while (i < spec.size()) {
    auto end = spec.find(' ', i);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(i, end - i);
    const auto c1 = item.find(':');
    const auto c2 = item.find(':', c1 + 1);
    out += "[[nodes]]\nname = \"" + item.substr(0, c1) +
           "\"\nhost = \"h\"\nport = " + item.substr(c1 + 1, c2 - c1 - 1) +
           "\nweight = " + item.substr(c2 + 1) + "\n";
    i = end + 1;
  }
  return out;
}

TEST(ConfigReload, NodeSlotsStayStable) {
  auto a = load(nodes("pg0:5432:1 pg1:5433:1 pg2:5434:1") + kUser);
  // pg1 removed, pg2 re-weighted, pg3 added, and the file order shuffled.
  auto b = load(nodes("pg3:5435:1 pg2:5434:5 pg0:5432:1") + kUser);
  ReloadPlan p = planReload(*a, *b);
  ASSERT_TRUE(p.error.empty()) << p.error;
  const auto& n = p.config->nodes;
  ASSERT_EQ(n.size(), 4u);
  EXPECT_EQ(n[0].name, "pg0");
  EXPECT_FALSE(n[0].retired);
  EXPECT_EQ(n[1].name, "pg1");
  EXPECT_TRUE(n[1].retired);
  EXPECT_EQ(n[2].name, "pg2");
  EXPECT_EQ(n[2].weight, 5u);
  EXPECT_EQ(n[3].name, "pg3");
  EXPECT_FALSE(n[3].retired);
  const std::string changes = joined(p.changes);
  EXPECT_NE(changes.find("node pg1 removed"), std::string::npos) << changes;
  EXPECT_NE(changes.find("node pg2 weight: 1 -> 5"), std::string::npos) << changes;
  EXPECT_NE(changes.find("node pg3 added"), std::string::npos) << changes;

  // pg1 back: its old slot; pg0 moved to another port: a new slot, the old one retired.
  auto c = load(nodes("pg0:6000:1 pg1:5433:1 pg2:5434:5 pg3:5435:1") + kUser);
  ReloadPlan q = planReload(*p.config, *c);
  ASSERT_TRUE(q.error.empty());
  const auto& m = q.config->nodes;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_TRUE(m[0].retired);
  EXPECT_EQ(m[0].port, 5432);
  EXPECT_FALSE(m[1].retired);
  EXPECT_EQ(m[4].name, "pg0");
  EXPECT_EQ(m[4].port, 6000);
  EXPECT_NE(joined(q.changes).find("node pg1 added back"), std::string::npos);
}

TEST(ConfigReload, WhatNeedsARestartKeepsTheRunningValue) {
  auto a = load("[server]\nlisten = \"127.0.0.1:6432\"\nworkers = 2\n" + kNode + kUser);
  auto b = load(
      "[server]\nlisten = \"0.0.0.0:7000\"\nworkers = 4\nhttp_listen = \"\"\n"
      "max_client_connections = 10\n[log]\nformat = \"json\"\nlevel = \"debug\"\n" +
      kNode + kUser);
  ReloadPlan p = planReload(*a, *b);
  ASSERT_NE(p.config, nullptr);
  EXPECT_EQ(p.config->server.listenHost, "127.0.0.1");
  EXPECT_EQ(p.config->server.listenPort, 6432);
  EXPECT_EQ(p.config->server.workers, 2u);
  EXPECT_TRUE(p.config->server.httpEnabled());
  EXPECT_EQ(p.config->log.format, LogFormat::Text);
  // ...while limits and the level apply.
  EXPECT_EQ(p.config->server.maxClientConnections, 10u);
  EXPECT_EQ(p.config->log.level, "debug");
  EXPECT_EQ(p.needRestart.size(), 4u) << joined(p.needRestart);
  EXPECT_NE(joined(p.changes).find("max_client_connections: 5000 -> 10"), std::string::npos);
}

TEST(ConfigReload, UsersChangesNameNoSecret) {
  auto a = load(kNode + "[[users]]\nname = \"app\"\npassword = \"old-secret\"\n" +
                "[[users]]\nname = \"gone\"\npassword = \"x\"\n");
  auto b = load(kNode + "[[users]]\nname = \"app\"\npassword = \"new-secret\"\n" +
                "[[users]]\nname = \"fresh\"\npassword = \"y\"\n");
  ReloadPlan p = planReload(*a, *b);
  const std::string changes = joined(p.changes);
  EXPECT_NE(changes.find("user app: password changed"), std::string::npos) << changes;
  EXPECT_NE(changes.find("user fresh added"), std::string::npos);
  EXPECT_NE(changes.find("user gone removed"), std::string::npos);
  EXPECT_EQ(changes.find("secret"), std::string::npos) << changes;
}

TEST(ConfigReload, SlotsAreBounded) {
  auto current = load(nodes("n0:1:1") + kUser);
  ReloadPlan p;
  std::shared_ptr<const Config> cfg = current;
  // Each reload moves the node to a new port: a new slot each time.
  for (int i = 1; i < 300 && (p.error.empty()); ++i) {
    auto next = load(nodes("n0:" + std::to_string(i + 1) + ":1") + kUser);
    p = planReload(*cfg, *next);
    if (p.config) cfg = p.config;
  }
  EXPECT_NE(p.error.find("restart"), std::string::npos) << p.error;
  EXPECT_EQ(cfg->nodes.size(), kMaxNodeSlots);
}

}  // namespace
TEST(ConfigReload, RoutingHealthAndConsistencyApplyExceptTheCacheSize) {
  auto a = load(kNode + kUser);
  auto b = load(kNode + kUser +
                "[routing]\nwrite_functions = [\"audit\"]\nclassification_cache_entries = 10\n"
                "catalog_lookups = false\n"
                "[health]\ninterval_ms = 100\n"
                "[consistency]\nread_your_writes = \"session\"\nmax_replica_lag_ms = 500\n");
  ReloadPlan p = planReload(*a, *b);
  ASSERT_NE(p.config, nullptr);
  const std::string changes = joined(p.changes);
  EXPECT_NE(changes.find("[routing] write_functions changed"), std::string::npos) << changes;
  EXPECT_NE(changes.find("[health] interval_ms: 500 -> 100"), std::string::npos) << changes;
  EXPECT_NE(changes.find("[consistency] read_your_writes: lsn -> session"), std::string::npos)
      << changes;
  EXPECT_NE(changes.find("[consistency] max_replica_lag_ms: 0 -> 500"), std::string::npos)
      << changes;
  EXPECT_EQ(p.config->routing.writeFunctions.size(), 1u);
  EXPECT_EQ(p.config->consistency.readYourWrites, ReadYourWrites::Session);
  // The per-worker caches and the catalog board were built at start.
  EXPECT_EQ(p.config->routing.classificationCacheEntries, 4096u);
  EXPECT_TRUE(p.config->routing.catalogLookups);
  EXPECT_EQ(p.needRestart.size(), 2u) << joined(p.needRestart);
}

}  // namespace pgsplit::config
