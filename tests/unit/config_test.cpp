#include "pgsplit/config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config_test_support.hpp"

namespace pgsplit::config {
namespace {

using test_support::joined;

namespace fs = std::filesystem;

const std::string kFixtures = std::string(PGSPLIT_FIXTURES_DIR) + "/config";

std::vector<std::string> tomlFilesIn(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string testName(const testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

LoadResult loadFixture(const std::string& relative) {
  return loadFile(kFixtures + "/" + relative);
}

// ---- valid/ -------------------------------------------------------------------------------------

class ValidFixture : public testing::TestWithParam<std::string> {};

TEST_P(ValidFixture, LoadsWithoutErrors) {
  const LoadResult r = loadFile(GetParam());
  EXPECT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_NE(r.config, nullptr);
  EXPECT_EQ(r.config->path, GetParam());
  EXPECT_FALSE(r.config->nodes.empty());
  EXPECT_FALSE(r.config->users.empty());
}

INSTANTIATE_TEST_SUITE_P(Config, ValidFixture, testing::ValuesIn(tomlFilesIn(kFixtures + "/valid")),
                         testName);

TEST(ConfigFixtures, DirectoriesArePopulated) {
  EXPECT_GE(tomlFilesIn(kFixtures + "/valid").size(), 2u);
  EXPECT_GE(tomlFilesIn(kFixtures + "/invalid").size(), 15u);
}

TEST(ConfigValid, MinimalTakesDefaults) {
  const LoadResult r = loadFixture("valid/minimal.toml");
  ASSERT_NE(r.config, nullptr) << joined(r.errors);
  const Config& c = *r.config;
  EXPECT_EQ(c.server.listenHost, "127.0.0.1");
  EXPECT_EQ(c.server.listenPort, 6432);
  EXPECT_EQ(c.server.workers, 0u);
  EXPECT_EQ(c.server.authMethod, AuthMethod::ScramSha256);
  EXPECT_EQ(c.server.maxMessageSize, 67108864u);
  EXPECT_EQ(c.server.startupTimeoutMs, 10000u);
  EXPECT_EQ(c.server.maxClientConnections, 5000u);
  EXPECT_EQ(c.pool.mode, PoolMode::Transaction);
  EXPECT_EQ(c.pool.maxServerConnections, 20u);
  EXPECT_EQ(c.pool.connectTimeoutMs, 5000u);
  EXPECT_EQ(c.pool.checkoutTimeoutMs, 5000u);
  EXPECT_EQ(c.pool.minIdle, 0u);
  EXPECT_EQ(c.pool.idleTimeoutMs, 600000u);
  EXPECT_EQ(c.pool.serverLifetimeMs, 3600000u);
  EXPECT_EQ(c.pool.idleInTransactionTimeoutMs, 0u);
  EXPECT_EQ(c.poolModeFor("app"), PoolMode::Transaction);
  EXPECT_EQ(c.maxServerConnectionsFor("app"), 20u);
  EXPECT_EQ(c.minIdleFor(0), 0u);
  ASSERT_EQ(c.nodes.size(), 1u);
  EXPECT_EQ(c.nodes[0].name, "pg0");
  EXPECT_EQ(c.nodes[0].host, "127.0.0.1");
  EXPECT_EQ(c.nodes[0].port, 5432);
  EXPECT_EQ(c.nodes[0].role, NodeRole::Auto);
  EXPECT_EQ(c.nodes[0].weight, 1u);
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users[0].name, "app");
  EXPECT_EQ(c.users[0].password, "app");
  EXPECT_EQ(c.log.level, "info");
}

TEST(ConfigValid, FullSetsEveryKey) {
  const LoadResult r = loadFixture("valid/full.toml");
  ASSERT_NE(r.config, nullptr) << joined(r.errors);
  const Config& c = *r.config;
  EXPECT_EQ(c.server.listenHost, "0.0.0.0");
  EXPECT_EQ(c.server.listenPort, 7432);
  EXPECT_EQ(c.server.workers, 4u);
  EXPECT_EQ(c.server.authMethod, AuthMethod::Md5);
  EXPECT_EQ(c.server.maxMessageSize, 1048576u);
  EXPECT_EQ(c.server.startupTimeoutMs, 2500u);
  EXPECT_EQ(c.server.maxClientConnections, 300u);
  EXPECT_EQ(c.pool.mode, PoolMode::Session);
  EXPECT_EQ(c.pool.maxServerConnections, 8u);
  EXPECT_EQ(c.pool.connectTimeoutMs, 1500u);
  EXPECT_EQ(c.pool.checkoutTimeoutMs, 750u);
  EXPECT_EQ(c.pool.minIdle, 2u);
  EXPECT_EQ(c.pool.idleTimeoutMs, 30000u);
  EXPECT_EQ(c.pool.serverLifetimeMs, 0u);
  EXPECT_EQ(c.pool.idleInTransactionTimeoutMs, 15000u);
  // Per-node and per-user overrides; unset ones fall back to [pool].
  EXPECT_EQ(c.minIdleFor(0), 2u);
  EXPECT_EQ(c.minIdleFor(1), 0u);
  EXPECT_EQ(c.poolModeFor("app"), PoolMode::Session);
  EXPECT_EQ(c.poolModeFor("reporting"), PoolMode::Transaction);
  EXPECT_EQ(c.poolModeFor("nobody"), PoolMode::Session);
  EXPECT_EQ(c.maxServerConnectionsFor("app"), 8u);
  EXPECT_EQ(c.maxServerConnectionsFor("reporting"), 3u);
  EXPECT_EQ(c.idleInTransactionTimeoutMsFor("app"), 15000u);
  EXPECT_EQ(c.idleInTransactionTimeoutMsFor("reporting"), 0u);
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_EQ(c.nodes[0].name, "primary");
  EXPECT_EQ(c.nodes[0].host, "10.0.0.1");
  EXPECT_EQ(c.nodes[0].port, 5433);
  EXPECT_EQ(c.nodes[0].role, NodeRole::Primary);
  EXPECT_EQ(c.nodes[0].weight, 0u);
  EXPECT_EQ(c.nodes[1].name, "replica1");
  EXPECT_EQ(c.nodes[1].host, "db-replica-1.internal");
  EXPECT_EQ(c.nodes[1].port, 5434);
  EXPECT_EQ(c.nodes[1].role, NodeRole::Replica);
  EXPECT_EQ(c.nodes[1].weight, 3u);
  ASSERT_EQ(c.users.size(), 2u);
  EXPECT_EQ(c.users[0].name, "app");
  EXPECT_EQ(c.users[0].password, "app-secret");
  EXPECT_EQ(c.users[1].name, "reporting");
  EXPECT_EQ(c.users[1].password, "");
  EXPECT_EQ(c.routing.writeFunctions, (std::vector<FunctionName>{{"app", "audit_log"}}));
  EXPECT_EQ(c.routing.readOnlyFunctions, (std::vector<FunctionName>{{"", "lookup_rate"}}));
  EXPECT_EQ(c.routing.classificationCacheEntries, 100u);
  EXPECT_FALSE(c.routing.catalogLookups);
  EXPECT_EQ(c.routing.catalogTimeoutMs, 500u);
  EXPECT_EQ(c.routing.catalogRefreshIntervalMs, 30000u);
  EXPECT_EQ(c.log.level, "debug");
}

TEST(ConfigValid, RoutingFunctionNamesAreReadAsPostgresReadsThem) {
  const LoadResult r = loadFixture("valid/routing.toml");
  ASSERT_NE(r.config, nullptr) << joined(r.errors);
  const RoutingConfig& routing = r.config->routing;
  EXPECT_EQ(routing.writeFunctions,
            (std::vector<FunctionName>{
                {"", "audit_log"}, {"app", "log_event"}, {"", "MixedCase"}, {"My Schema", "f"}}));
  EXPECT_EQ(routing.readOnlyFunctions,
            (std::vector<FunctionName>{{"reporting", "total"}, {"", "cheap_lookup"}}));
  EXPECT_EQ(routing.classificationCacheEntries, 0u);
  EXPECT_FALSE(routing.catalogLookups);
  EXPECT_EQ(routing.catalogTimeoutMs, 60000u);
  EXPECT_EQ(routing.catalogRefreshIntervalMs, 0u);
}

TEST(ConfigValid, Ipv6ListenDropsBrackets) {
  const LoadResult r = loadFixture("valid/ipv6_listen.toml");
  ASSERT_NE(r.config, nullptr) << joined(r.errors);
  EXPECT_EQ(r.config->server.listenHost, "::1");
  EXPECT_EQ(r.config->server.listenPort, 16432);
  EXPECT_EQ(r.config->server.authMethod, AuthMethod::Trust);
  EXPECT_EQ(r.config->nodes[0].host, "::1");
}

TEST(ConfigValid, InlineTablesKeepFileOrder) {
  const LoadResult r = loadFixture("valid/inline_tables.toml");
  ASSERT_NE(r.config, nullptr) << joined(r.errors);
  const Config& c = *r.config;
  EXPECT_EQ(c.server.listenHost, "localhost");
  EXPECT_EQ(c.pool.maxServerConnections, 2u);
  EXPECT_EQ(c.log.level, "off");
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_EQ(c.nodes[0].name, "a");
  EXPECT_EQ(c.nodes[1].name, "b");
  EXPECT_EQ(c.nodes[1].port, 5433);
  EXPECT_EQ(c.nodes[1].role, NodeRole::Replica);
}

TEST(ConfigValid, ExampleFileIsValidAndDocumentsTheDefaults) {
  const std::string path = PGSPLIT_FIXTURES_DIR "/../../config/pgsplit.example.toml";
  const LoadResult r = loadFile(path);
  ASSERT_NE(r.config, nullptr) << joined(r.errors);
  const Config& c = *r.config;
  const ServerConfig server;
  EXPECT_EQ(c.server.listenHost, server.listenHost);
  EXPECT_EQ(c.server.listenPort, server.listenPort);
  EXPECT_EQ(c.server.workers, server.workers);
  EXPECT_EQ(c.server.authMethod, server.authMethod);
  EXPECT_EQ(c.server.maxMessageSize, server.maxMessageSize);
  EXPECT_EQ(c.server.startupTimeoutMs, server.startupTimeoutMs);
  EXPECT_EQ(c.server.maxClientConnections, server.maxClientConnections);
  EXPECT_EQ(c.server.httpListenHost, server.httpListenHost);
  EXPECT_EQ(c.server.httpListenPort, server.httpListenPort);
  EXPECT_EQ(c.server.shutdownTimeoutMs, server.shutdownTimeoutMs);
  const PoolConfig pool;
  EXPECT_EQ(c.pool.mode, pool.mode);
  EXPECT_EQ(c.pool.maxServerConnections, pool.maxServerConnections);
  EXPECT_EQ(c.pool.connectTimeoutMs, pool.connectTimeoutMs);
  EXPECT_EQ(c.pool.checkoutTimeoutMs, pool.checkoutTimeoutMs);
  EXPECT_EQ(c.pool.maxPreparedStatements, pool.maxPreparedStatements);
  EXPECT_EQ(c.pool.minIdle, pool.minIdle);
  EXPECT_EQ(c.pool.idleTimeoutMs, pool.idleTimeoutMs);
  EXPECT_EQ(c.pool.serverLifetimeMs, pool.serverLifetimeMs);
  EXPECT_EQ(c.pool.idleInTransactionTimeoutMs, pool.idleInTransactionTimeoutMs);
  const NodeConfig node;
  ASSERT_EQ(c.nodes.size(), 1u);
  EXPECT_EQ(c.nodes[0].port, node.port);
  EXPECT_EQ(c.nodes[0].role, node.role);
  EXPECT_EQ(c.nodes[0].weight, node.weight);
  const RoutingConfig routing;
  EXPECT_EQ(c.routing.writeFunctions, routing.writeFunctions);
  EXPECT_EQ(c.routing.readOnlyFunctions, routing.readOnlyFunctions);
  EXPECT_EQ(c.routing.classificationCacheEntries, routing.classificationCacheEntries);
  EXPECT_EQ(c.routing.catalogLookups, routing.catalogLookups);
  EXPECT_EQ(c.routing.catalogTimeoutMs, routing.catalogTimeoutMs);
  EXPECT_EQ(c.routing.catalogRefreshIntervalMs, routing.catalogRefreshIntervalMs);
  EXPECT_EQ(c.log.level, LogConfig{}.level);
  EXPECT_EQ(c.log.format, LogConfig{}.format);
  EXPECT_TRUE(c.admin.users.empty());
}

// ---- invalid/ -----------------------------------------------------------------------------------

struct Expectation {
  std::string line;
  std::string column;
  std::string message;
};

// First line of every invalid fixture: "# expect: <line>:<column>: <message substring>".
std::optional<Expectation> expectationOf(const std::string& path) {
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  constexpr std::string_view kPrefix = "# expect: ";
  if (!first.starts_with(kPrefix)) return std::nullopt;
  const std::string rest = first.substr(kPrefix.size());
  const auto isDigits = [](const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  const auto colon1 = rest.find(':');
  if (colon1 == std::string::npos) return std::nullopt;
  const auto colon2 = rest.find(':', colon1 + 1);
  if (colon2 == std::string::npos || rest.compare(colon2, 2, ": ") != 0) return std::nullopt;
  Expectation e{rest.substr(0, colon1), rest.substr(colon1 + 1, colon2 - colon1 - 1),
                rest.substr(colon2 + 2)};
  if (!isDigits(e.line) || !isDigits(e.column) || e.message.empty()) return std::nullopt;
  return e;
}

class InvalidFixture : public testing::TestWithParam<std::string> {};

TEST_P(InvalidFixture, FirstErrorMatchesExpectation) {
  const std::string& path = GetParam();
  const std::optional<Expectation> expect = expectationOf(path);
  ASSERT_TRUE(expect.has_value()) << path << ": first line must be '# expect: L:C: message'";

  const LoadResult r = loadFile(path);
  EXPECT_EQ(r.config, nullptr);
  ASSERT_FALSE(r.errors.empty());
  const std::string prefix = path + ":" + expect->line + ":" + expect->column + ": ";
  EXPECT_TRUE(r.errors[0].starts_with(prefix)) << "want prefix: " << prefix << "\n"
                                               << "errors:\n"
                                               << joined(r.errors);
  EXPECT_NE(r.errors[0].find(expect->message), std::string::npos)
      << "want substring: " << expect->message << "\nerrors:\n"
      << joined(r.errors);
}

INSTANTIATE_TEST_SUITE_P(Config, InvalidFixture,
                         testing::ValuesIn(tomlFilesIn(kFixtures + "/invalid")), testName);

// ---- several problems in one file ---------------------------------------------------------------

TEST(ConfigErrors, AllProblemsReportedInFileOrder) {
  const std::string text = R"([server]
workers = "four"
bogus = 1

[pool]
mode = "statement"

[[nodes]]
name = "pg0"
port = 0

[[nodes]]
name = "pg0"
host = "h"
weight = -5

[[users]]
password = 7
)";
  const LoadResult r = loadString(text, "multi.toml");
  EXPECT_EQ(r.config, nullptr);
  const std::vector<std::string> want = {
      "multi.toml:2:11: 'workers' must be an integer",
      "multi.toml:3:1: unknown key 'bogus' in [server]",
      "multi.toml:6:8: 'mode' must be one of: transaction, session",
      "multi.toml:8:1: missing required key 'host' in [[nodes]]",
      "multi.toml:10:8: 'port' must be between 1 and 65535",
      "multi.toml:13:8: duplicate node name 'pg0' (first defined at line 9)",
      "multi.toml:15:10: 'weight' must be between 0 and 10000",
      "multi.toml:17:1: missing required key 'name' in [[users]]",
      "multi.toml:18:12: 'password' must be a string",
  };
  EXPECT_EQ(r.errors, want) << joined(r.errors);
}

TEST(ConfigErrors, EmptyTextReportsBothMissingArraysAtStart) {
  const LoadResult r = loadString("", "empty.toml");
  const std::vector<std::string> want = {
      "empty.toml:1:1: at least one [[nodes]] entry is required",
      "empty.toml:1:1: at least one [[users]] entry is required",
  };
  EXPECT_EQ(r.errors, want);
}

TEST(ConfigErrors, MissingFileIsAnErrorNotAnException) {
  const std::string path = kFixtures + "/does-not-exist.toml";
  const LoadResult r = loadFile(path);
  EXPECT_EQ(r.config, nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(r.errors[0].starts_with(path + ":1:1: cannot open: ")) << r.errors[0];
}

TEST(ConfigErrors, DirectoryIsAnErrorNotAnException) {
  const LoadResult r = loadFile(kFixtures);
  EXPECT_EQ(r.config, nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(r.errors[0].starts_with(kFixtures + ":1:1: ")) << r.errors[0];
}

TEST(ConfigErrors, BinaryGarbageIsAnErrorNotAnException) {
  std::string junk;
  for (int i = 0; i < 4096; ++i)
    junk.push_back(static_cast<char>((i * 131 + 7) % 256));
  const LoadResult r = loadString(junk, "junk");
  EXPECT_EQ(r.config, nullptr);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_TRUE(r.errors[0].starts_with("junk:")) << r.errors[0];
}

// ---- passwords never appear in messages ---------------------------------------------------------

TEST(ConfigErrors, PasswordsNeverAppearInMessages) {
  const std::string secret = "hunter2-S3cr3t-DoNotLeak";
  for (const char* fixture :
       {"invalid/password_not_string.toml", "invalid/secret_in_unknown_key.toml"}) {
    const std::string path = kFixtures + "/" + fixture;
    ASSERT_NE(readText(path).find(secret), std::string::npos) << path << " must contain the secret";
    const LoadResult r = loadFile(path);
    ASSERT_FALSE(r.errors.empty()) << path;
    for (const std::string& e : r.errors)
      EXPECT_EQ(e.find(secret), std::string::npos) << e;
  }

  const std::string node = "[[nodes]]\nname = \"pg0\"\nhost = \"h\"\n";
  const std::vector<std::string> users = {
      "[[users]]\nname = \"app\"\npassword = { value = \"" + secret + "\" }\n",
      "[[users]]\nname = \"app\"\npassword = [\"" + secret + "\"]\n",
      "[[users]]\nname = \"app\"\npassword = \"" + secret + "\"\nextra = \"" + secret + "\"\n",
      "[[users]]\nname = \"app\"\npassword = \"" + secret + "\"\n[[users]]\nname = \"app\"\n" +
          "password = \"" + secret + "\"\n",
      "[[users]]\nname = \"app\"\npassword = \"" + secret + "\" trailing\n",
      "[[users]]\nname = \"app\"\npassword = " + secret + "\n",
      "[[users]]\nname = \"app\"\npassword = \"" + secret + "\n",
      "[[users]]\nname = \"app\"\npassword = '''" + secret + "\n",
      "[[users]]\npassword = \"" + secret + "\"\n",
  };
  for (const std::string& u : users) {
    const LoadResult r = loadString(node + u, "secret.toml");
    ASSERT_FALSE(r.errors.empty()) << u;
    for (const std::string& e : r.errors)
      EXPECT_EQ(e.find(secret), std::string::npos) << e;
  }
}

// ---- listen ------------------------------------------------------------------------------------

struct ListenCase {
  std::string listen;
  std::string host;  // empty: must be rejected
  std::uint16_t port;
};

TEST(ConfigListen, ParsesHostAndPort) {
  const std::vector<ListenCase> cases = {
      {"127.0.0.1:6432", "127.0.0.1", 6432},
      {"0.0.0.0:1", "0.0.0.0", 1},
      {"localhost:65535", "localhost", 65535},
      {"[::1]:6432", "::1", 6432},
      {"[::]:7000", "::", 7000},
      {"[fe80::1%eth0]:5", "fe80::1%eth0", 5},
      {"nope", "", 0},
      {"127.0.0.1", "", 0},
      {"127.0.0.1:", "", 0},
      {":6432", "", 0},
      {"127.0.0.1:0", "", 0},
      {"127.0.0.1:65536", "", 0},
      {"127.0.0.1:99999999999999999999", "", 0},
      {"127.0.0.1:-1", "", 0},
      {"127.0.0.1:+1", "", 0},
      {"127.0.0.1:64x", "", 0},
      {"127.0.0.1: 6432", "", 0},
      {"127.0.0.1 :6432", "", 0},
      {"::1:6432", "", 0},
      {"[::1]", "", 0},
      {"[::1]6432", "", 0},
      {"[::1:6432", "", 0},
      {"[]:6432", "", 0},
      {"", "", 0},
  };
  const std::string rest =
      "[[nodes]]\nname = \"n\"\nhost = \"h\"\n[[users]]\nname = \"u\"\n"
      "password = \"p\"\n";
  for (const ListenCase& c : cases) {
    const LoadResult r = loadString("[server]\nlisten = \"" + c.listen + "\"\n" + rest, "l.toml");
    if (c.host.empty()) {
      ASSERT_EQ(r.errors.size(), 1u) << c.listen << "\n" << joined(r.errors);
      EXPECT_TRUE(r.errors[0].starts_with("l.toml:2:10: 'listen' must be \"host:port\""))
          << r.errors[0];
    } else {
      ASSERT_NE(r.config, nullptr) << c.listen << "\n" << joined(r.errors);
      EXPECT_EQ(r.config->server.listenHost, c.host) << c.listen;
      EXPECT_EQ(r.config->server.listenPort, c.port) << c.listen;
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------------

TEST(ConfigHelpers, FindUser) {
  const LoadResult r = loadFixture("valid/full.toml");
  ASSERT_NE(r.config, nullptr) << joined(r.errors);
  const UserConfig* app = r.config->findUser("app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->password, "app-secret");
  ASSERT_NE(r.config->findUser("reporting"), nullptr);
  EXPECT_EQ(r.config->findUser("App"), nullptr);
  EXPECT_EQ(r.config->findUser(""), nullptr);
  EXPECT_EQ(r.config->findUser("nobody"), nullptr);
}

TEST(ConfigHelpers, ToStringMatchesFileSpelling) {
  EXPECT_STREQ(toString(PoolMode::Transaction), "transaction");
  EXPECT_STREQ(toString(PoolMode::Session), "session");
  EXPECT_STREQ(toString(NodeRole::Auto), "auto");
  EXPECT_STREQ(toString(NodeRole::Primary), "primary");
  EXPECT_STREQ(toString(NodeRole::Replica), "replica");
  EXPECT_STREQ(toString(AuthMethod::ScramSha256), "scram-sha-256");
  EXPECT_STREQ(toString(AuthMethod::Md5), "md5");
  EXPECT_STREQ(toString(AuthMethod::Trust), "trust");
}

TEST(ConfigHelpers, ToStringRoundTripsThroughTheLoader) {
  const std::string rest = "[[users]]\nname = \"u\"\npassword = \"p\"\n";
  for (AuthMethod a : {AuthMethod::ScramSha256, AuthMethod::Md5, AuthMethod::Trust}) {
    for (PoolMode m : {PoolMode::Transaction, PoolMode::Session}) {
      for (NodeRole role : {NodeRole::Auto, NodeRole::Primary, NodeRole::Replica}) {
        const std::string text = std::string("[server]\nauth_method = \"") + toString(a) +
                                 "\"\n[pool]\nmode = \"" + toString(m) +
                                 "\"\n[[nodes]]\nname = \"n\"\nhost = \"h\"\nrole = \"" +
                                 toString(role) + "\"\n" + rest;
        const LoadResult r = loadString(text);
        ASSERT_NE(r.config, nullptr) << joined(r.errors);
        EXPECT_EQ(r.config->server.authMethod, a);
        EXPECT_EQ(r.config->pool.mode, m);
        EXPECT_EQ(r.config->nodes[0].role, role);
        EXPECT_EQ(r.config->path, "<string>");
      }
    }
  }
}

}  // namespace
}  // namespace pgsplit::config
