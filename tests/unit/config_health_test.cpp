// [health] and [consistency] (issue #6): defaults, every key, the health login's fallbacks, and
// the example file documenting the defaults. Invalid values are covered by the fixtures under
// tests/fixtures/config/invalid (health_*, *lag*, *read_your_writes*, zero_window).
#include <gtest/gtest.h>

#include <string>

#include "pgsplit/config/config.hpp"

namespace pgsplit::config {
namespace {

const std::string kFixtures = std::string(PGSPLIT_FIXTURES_DIR) + "/config";
constexpr const char* kNodesAndUsers = R"(
[[nodes]]
name = "pg0"
host = "127.0.0.1"

[[users]]
name = "app"
password = "app-pw"

[[users]]
name = "monitor"
password = "monitor-pw"
)";

std::shared_ptr<const Config> load(const std::string& text) {
  LoadResult r = loadString(text + kNodesAndUsers, "test.toml");
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0]);
  return r.config;
}

TEST(ConfigHealth, Defaults) {
  auto c = load("");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->health.intervalMs, 500u);
  EXPECT_EQ(c->health.timeoutMs, 2000u);
  EXPECT_EQ(c->health.database, "postgres");
  EXPECT_EQ(c->consistency.readYourWrites, ReadYourWrites::Lsn);
  EXPECT_EQ(c->consistency.windowMs, 1000u);
  EXPECT_EQ(c->consistency.maxReplicaLagBytes, 0u);
  EXPECT_EQ(c->consistency.maxReplicaLagMs, 0u);
  // The monitor logs in as the first user unless told otherwise.
  EXPECT_EQ(c->healthUser(), "app");
  EXPECT_EQ(c->healthPassword(), "app-pw");
}

TEST(ConfigHealth, FixtureSetsEveryKey) {
  LoadResult r = loadFile(kFixtures + "/valid/health_and_consistency.toml");
  ASSERT_NE(r.config, nullptr) << (r.errors.empty() ? "" : r.errors[0]);
  const Config& c = *r.config;
  EXPECT_EQ(c.health.intervalMs, 100u);
  EXPECT_EQ(c.health.timeoutMs, 750u);
  EXPECT_EQ(c.healthUser(), "monitor");
  EXPECT_EQ(c.healthPassword(), "monitor-secret");
  EXPECT_EQ(c.health.database, "ops");
  EXPECT_EQ(c.consistency.readYourWrites, ReadYourWrites::Window);
  EXPECT_EQ(c.consistency.windowMs, 2500u);
  EXPECT_EQ(c.consistency.maxReplicaLagBytes, 16777216u);
  EXPECT_EQ(c.consistency.maxReplicaLagMs, 5000u);
}

TEST(ConfigHealth, UserWithoutPasswordTakesItFromUsers) {
  auto c = load("[health]\nuser = \"monitor\"\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->healthUser(), "monitor");
  EXPECT_EQ(c->healthPassword(), "monitor-pw");
}

TEST(ConfigHealth, UnlistedUserWithoutPasswordHasNone) {
  auto c = load("[health]\nuser = \"nagios\"\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->healthUser(), "nagios");
  EXPECT_EQ(c->healthPassword(), "");
}

TEST(ConfigHealth, AnExplicitEmptyPasswordIsKept) {
  auto c = load("[health]\nuser = \"monitor\"\npassword = \"\"\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->healthPassword(), "");
}

TEST(ConfigHealth, EveryReadYourWritesModeLoadsAndPrintsAsSpelled) {
  for (const char* mode : {"off", "session", "window", "lsn"}) {
    auto c = load(std::string("[consistency]\nread_your_writes = \"") + mode + "\"\n");
    ASSERT_NE(c, nullptr) << mode;
    EXPECT_STREQ(toString(c->consistency.readYourWrites), mode);
  }
}

TEST(ConfigHealth, BoundariesAreAccepted) {
  auto c = load(
      "[health]\ninterval_ms = 10\ntimeout_ms = 1\n"
      "[consistency]\nwindow_ms = 1\nmax_replica_lag_bytes = 4611686018427387904\n"
      "max_replica_lag_ms = 86400000\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->health.intervalMs, 10u);
  EXPECT_EQ(c->consistency.maxReplicaLagBytes, 4611686018427387904u);
  EXPECT_EQ(c->consistency.maxReplicaLagMs, 86400000u);
}

TEST(ConfigHealth, PasswordNeverAppearsInMessages) {
  LoadResult r = loadString(
      std::string("[health]\npassword = \"hunter2-health\"\ninterval_ms = 1\n") + kNodesAndUsers,
      "test.toml");
  ASSERT_EQ(r.errors.size(), 2u);
  for (const auto& e : r.errors)
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(ConfigHealth, ExampleFileDocumentsTheDefaults) {
  LoadResult r = loadFile(std::string(PGSPLIT_FIXTURES_DIR) + "/../../config/pgsplit.example.toml");
  ASSERT_NE(r.config, nullptr) << (r.errors.empty() ? "" : r.errors[0]);
  const Config& c = *r.config;
  const HealthConfig health;
  EXPECT_EQ(c.health.intervalMs, health.intervalMs);
  EXPECT_EQ(c.health.timeoutMs, health.timeoutMs);
  EXPECT_EQ(c.health.user, health.user);
  EXPECT_EQ(c.health.passwordSet, health.passwordSet);
  EXPECT_EQ(c.health.database, health.database);
  const ConsistencyConfig consistency;
  EXPECT_EQ(c.consistency.readYourWrites, consistency.readYourWrites);
  EXPECT_EQ(c.consistency.windowMs, consistency.windowMs);
  EXPECT_EQ(c.consistency.maxReplicaLagBytes, consistency.maxReplicaLagBytes);
  EXPECT_EQ(c.consistency.maxReplicaLagMs, consistency.maxReplicaLagMs);
  // And it says so: the sections are written out, not left to the defaults.
  std::FILE* f = std::fopen(c.path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string text(1 << 16, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  for (const char* key :
       {"[health]", "interval_ms = 500", "timeout_ms = 2000", "database = \"postgres\"",
        "[consistency]", "read_your_writes = \"lsn\"", "window_ms = 1000",
        "max_replica_lag_bytes = 0", "max_replica_lag_ms = 0"})
    EXPECT_NE(text.find(key), std::string::npos) << key;
}

}  // namespace
}  // namespace pgsplit::config
