// Client authentication and login failures, through pgsplit.
#include "harness.hpp"
#include "pgsplit/protocol/writer.hpp"

namespace pgsplit::test {
namespace {

TEST(Auth, ScramLoginSucceeds) {
  Pgsplit proxy;
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value("SELECT current_user"), "app");
  // What the client sees of "the server".
  EXPECT_STREQ(PQparameterStatus(c.get(), "in_hot_standby"), "off");
  EXPECT_NE(PQparameterStatus(c.get(), "server_version"), nullptr);
  EXPECT_GT(PQbackendPID(c.get()), 0);
}

TEST(Auth, WrongPasswordIs28P01) {
  Pgsplit proxy;
  Conn c(proxy.conninfo("app", "wrong"));
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.error().find("password authentication failed for user \"app\""), std::string::npos)
      << c.error();
  RawClient raw(proxy.port());
  EXPECT_EQ(raw.login("app", "wrong", "app"), "28P01");
  // Unknown users fail the same way (no user enumeration).
  RawClient raw2(proxy.port());
  EXPECT_EQ(raw2.login("nobody", "x", "app"), "28P01");
  // The password never reaches the log, not even at debug level.
  EXPECT_EQ(proxy.log().find("wrong"), std::string::npos);
}

TEST(Auth, UnknownDatabaseGetsTheServersError) {
  Pgsplit proxy;
  Conn c(proxy.conninfo("app", "app", "no_such_db"));
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.error().find("database \"no_such_db\" does not exist"), std::string::npos)
      << c.error();
  RawClient raw(proxy.port());
  EXPECT_EQ(raw.login("app", "app", "no_such_db"), "3D000");
}

TEST(Auth, Md5AndTrustMethods) {
  {
    PgsplitOptions o;
    o.authMethod = "md5";
    Pgsplit proxy(o);
    Conn good(proxy.conninfo());
    ASSERT_TRUE(good.ok()) << good.error();
    EXPECT_EQ(good.value("SELECT 1"), "1");
    RawClient raw(proxy.port());
    EXPECT_EQ(raw.login("app", "bad", "app"), "28P01");
  }
  {
    PgsplitOptions o;
    o.authMethod = "trust";
    Pgsplit proxy(o);
    Conn c(proxy.conninfo("app", "anything"));
    ASSERT_TRUE(c.ok()) << c.error();
    RawClient raw(proxy.port());
    EXPECT_EQ(raw.login("nobody", "x", "app"), "28P01") << "trust still needs a configured user";
  }
}

TEST(Auth, BackendMd5Login) {
  // pgsplit logs in to the nodes as md5user, whose password the cluster stores as md5.
  Pgsplit proxy;
  Conn c(proxy.conninfo("md5user", "md5pw", "app"));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value("SELECT current_user"), "md5user");
}

TEST(Auth, SslRequestIsAnsweredNo) {
  Pgsplit proxy;
  Conn c(proxy.conninfo() + " sslmode=prefer");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(PQsslInUse(c.get()), 0);
  Conn required(proxy.conninfo() + " sslmode=require");
  EXPECT_FALSE(required.ok());
}

TEST(Auth, MalformedStartupIsRefusedCleanly) {
  Pgsplit proxy;
  {
    RawClient raw(proxy.port());
    raw.send(std::string("\x00\x00\x00\x03", 4));  // length below the minimum
    auto [type, body] = raw.read();
    EXPECT_EQ(type, 'E');
    EXPECT_EQ(sqlstateOf(body), "08P01");
    EXPECT_TRUE(raw.closedByPeer());
  }
  {
    RawClient raw(proxy.port());
    raw.send(std::string("\x00\x00\x00\x08\x00\x02\x00\x00", 8));  // protocol 2.0
    auto [type, body] = raw.read();
    EXPECT_EQ(type, 'E');
    EXPECT_EQ(sqlstateOf(body), "0A000");
  }
  {
    // A huge declared length must not make pgsplit wait for (or allocate) it.
    RawClient raw(proxy.port());
    raw.send(std::string("\x7f\xff\xff\xff\x00\x03\x00\x00", 8));
    auto [type, body] = raw.read();
    EXPECT_EQ(type, 'E');
    EXPECT_EQ(sqlstateOf(body), "08P01");
  }
  // Still serving.
  Conn c(proxy.conninfo());
  EXPECT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(proxy.running());
}

TEST(Auth, ProtocolViolationAfterLoginGets08P01) {
  Pgsplit proxy;
  RawClient raw(proxy.port());
  ASSERT_EQ(raw.login("app", "app", "app"), "");
  raw.send(std::string("Q\x00\x00\x00\x02", 5));  // length < 4
  auto [type, body] = raw.read();
  while (type == 'S' || type == 'K' || type == 'Z')
    std::tie(type, body) = raw.read();
  EXPECT_EQ(type, 'E');
  EXPECT_EQ(sqlstateOf(body), "08P01");
  EXPECT_TRUE(raw.closedByPeer());
  EXPECT_TRUE(proxy.running());
}

TEST(Auth, SilentClientIsDroppedAfterStartupTimeout) {
  PgsplitOptions o;
  o.startupTimeoutMs = 500;
  Pgsplit proxy(o);
  RawClient silent(proxy.port());
  RawClient halfway(proxy.port());
  halfway.send(std::string("\x00\x00\x00\x30\x00\x03", 6));  // a startup packet cut short
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.closedByPeer(std::chrono::seconds(5)));
  EXPECT_TRUE(halfway.closedByPeer(std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  Conn c(proxy.conninfo());
  EXPECT_TRUE(c.ok()) << c.error();
}

}  // namespace
}  // namespace pgsplit::test
