// The router with the health monitor's view (issue #6), as tables: lag limits, nodes down, split
// brain, and the refusals clients get when no node can take the work.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "pgsplit/routing/router.hpp"

namespace pgsplit::routing {
namespace {

using sql::Classification;

struct N {
  Role role;
  bool up;
  std::uint64_t lagBytes = 0;
  std::uint64_t lagMs = 0;
  std::uint64_t lsn = 0;
  std::string lastError = {};
};

NodeSnapshot nodes(std::vector<N> list) {
  NodeSnapshot s;
  int i = 0;
  for (auto& n : list) {
    NodeState st;
    st.name = "pg" + std::to_string(i++);
    st.role = n.role;
    st.up = n.up;
    st.lagBytes = n.lagBytes;
    st.lagMs = n.lagMs;
    st.lsn = n.lsn;
    st.lastError = n.lastError;
    s.nodes.push_back(st);
  }
  return s;
}

Classification read() {
  Classification c;
  c.readOnly = true;
  c.statements = 1;
  c.reason = "read: SELECT";
  return c;
}
Classification write() {
  Classification c;
  c.statements = 1;
  c.reason = "write: INSERT";
  return c;
}
Classification primaryHint(Classification c) {
  c.hint = sql::Hint::Primary;
  return c;
}

SessionView rywPrimary() {
  SessionView v;
  v.readsOnPrimary = true;
  return v;
}
SessionView minLsn(std::uint64_t lsn) {
  SessionView v;
  v.minReplayLsn = lsn;
  return v;
}
SessionView inTransactionOn(int node) {
  SessionView v;
  v.inTransaction = true;
  v.transactionNode = node;
  return v;
}

constexpr LagLimits kNoLimits{};
constexpr LagLimits kLimits{1000, 5000};  // 1000 bytes, 5 s

struct Case {
  const char* name;
  Classification cls;
  SessionView session;
  NodeSnapshot snap;
  LagLimits limits;
  int expectedNode;
  // For a refusal (expectedNode -1): substrings the client's message must hold.
  std::vector<std::string> refusalSays = {};
};

class RouterHealthTable : public ::testing::TestWithParam<Case> {};

TEST_P(RouterHealthTable, Routes) {
  const Case& c = GetParam();
  RouterOptions options;
  options.lag = c.limits;
  Router router(options);
  ReplicaBalancer balancer;
  Decision d = router.route(c.cls, c.session, c.snap, balancer);
  EXPECT_EQ(d.node, c.expectedNode) << c.name << " (" << d.reason << ")";
  if (c.expectedNode >= 0) {
    EXPECT_TRUE(d.refusal.empty()) << c.name;
  } else {
    EXPECT_TRUE(d.refusal.starts_with("pgsplit: ")) << c.name << ": " << d.refusal;
    for (const auto& s : c.refusalSays)
      EXPECT_NE(d.refusal.find(s), std::string::npos)
          << c.name << ": '" << d.refusal << "' lacks '" << s << "'";
  }
}

const Classification kRead = read();
const Classification kWrite = write();

INSTANTIATE_TEST_SUITE_P(
    Health, RouterHealthTable,
    ::testing::Values(
        // --- lag limits ---
        Case{"replica over the byte limit gets no reads",
             kRead,
             {},
             nodes({{Role::Primary, true}, {Role::Replica, true, 5000}, {Role::Replica, true, 10}}),
             kLimits,
             2},
        Case{"replica over the time limit gets no reads",
             kRead,
             {},
             nodes({{Role::Primary, true}, {Role::Replica, true, 0, 9000}, {Role::Replica, true}}),
             kLimits,
             2},
        Case{"a lag exactly at the limit is within it",
             kRead,
             {},
             nodes({{Role::Primary, true}, {Role::Replica, true, 1000, 5000}}),
             kLimits,
             1},
        Case{"both replicas over a limit: reads go to the primary",
             kRead,
             {},
             nodes({{Role::Primary, true},
                    {Role::Replica, true, 5000},
                    {Role::Replica, true, 0, 6000}}),
             kLimits,
             0},
        Case{"0 means unlimited: any lag is served",
             kRead,
             {},
             nodes({{Role::Primary, true}, {Role::Replica, true, 1u << 30, 3600000}}),
             kNoLimits,
             1},
        Case{"both over a limit and the primary down: a lagging replica beats failing",
             kRead,
             {},
             nodes({{Role::Primary, false}, {Role::Replica, true, 5000}, {Role::Replica, false}}),
             kLimits,
             1},
        Case{
            "primary down: the replica within the limits is preferred",
            kRead,
            {},
            nodes({{Role::Primary, false}, {Role::Replica, true, 5000}, {Role::Replica, true, 10}}),
            kLimits,
            2},
        Case{"a read kept on the primary for its relations: primary up, primary",
             [] {
               Classification c = write();
               c.primaryRead = true;
               return c;
             }(),
             {},
             nodes({{Role::Primary, true}, {Role::Replica, true}}),
             kNoLimits,
             0},
        Case{"a read kept on the primary for its relations: primary down, a replica",
             [] {
               Classification c = write();
               c.primaryRead = true;
               return c;
             }(),
             {},
             nodes({{Role::Primary, false}, {Role::Replica, true}}),
             kNoLimits,
             1},
        Case{"a write with the primary down is refused, never sent to a replica",
             kWrite,
             {},
             nodes({{Role::Primary, false}, {Role::Replica, true}}),
             kNoLimits,
             -1,
             {"pg0"}},
        Case{"read-only transaction start honours the limits too",
             [] {
               Classification c;
               c.txnStart = sql::TxnStart::ReadOnly;
               c.statements = 1;
               return c;
             }(),
             {},
             nodes({{Role::Primary, true}, {Role::Replica, true, 5000}, {Role::Replica, true}}),
             kLimits,
             2},
        Case{"a replica that has replayed the session's write but lags is still skipped", kRead,
             minLsn(100),
             nodes({{Role::Primary, true},
                    {Role::Replica, true, 5000, 0, 200},
                    {Role::Replica, true, 0, 0, 50}}),
             kLimits, 0},
        // --- failing replicas ---
        Case{"a replica that is down gets no reads",
             kRead,
             {},
             nodes({{Role::Primary, true}, {Role::Replica, false}, {Role::Replica, true}}),
             kNoLimits,
             2},
        Case{"replicas down: reads go to the primary",
             kRead,
             {},
             nodes({{Role::Primary, true}, {Role::Replica, false}, {Role::Replica, false}}),
             kNoLimits,
             0},
        // --- primary down ---
        Case{"primary down: a write is refused, naming the node and why",
             kWrite,
             {},
             nodes({{Role::Primary, false, 0, 0, 0, "Connection refused"}, {Role::Replica, true}}),
             kNoLimits,
             -1,
             {"primary node pg0 is down", "Connection refused"}},
        Case{"primary down: reads keep going to replicas",
             kRead,
             {},
             nodes({{Role::Primary, false}, {Role::Replica, true}, {Role::Replica, true}}),
             kNoLimits,
             1},
        Case{"primary down: a read the session wants from the primary goes to a replica", kRead,
             rywPrimary(), nodes({{Role::Primary, false}, {Role::Replica, true}}), kNoLimits, 1},
        Case{"primary down: a read no replica has caught up for goes to a replica", kRead,
             minLsn(500), nodes({{Role::Primary, false}, {Role::Replica, true, 0, 0, 100}}),
             kNoLimits, 1},
        Case{"primary down: a primary hint is refused",
             primaryHint(kRead),
             {},
             nodes({{Role::Primary, false}, {Role::Replica, true}}),
             kNoLimits,
             -1,
             {"pg0 is down"}},
        Case{"primary down: an open transaction stays on its node (its backend reports)", kWrite,
             inTransactionOn(0), nodes({{Role::Primary, false}, {Role::Replica, true}}), kNoLimits,
             0},
        Case{"everything down: a read is refused and says why",
             kRead,
             {},
             nodes({{Role::Primary, false}, {Role::Replica, false}}),
             kNoLimits,
             -1,
             {"no node can serve this read", "pg0 is down"}},
        Case{"no node answers as primary: a write is refused",
             kWrite,
             {},
             nodes({{Role::Unknown, true}, {Role::Replica, true}}),
             kNoLimits,
             -1,
             {"no node answers as the primary"}},
        // --- roles follow what nodes answer (promotion) ---
        Case{"after a promotion, writes go to the new primary",
             kWrite,
             {},
             nodes({{Role::Primary, false}, {Role::Primary, true}, {Role::Replica, true}}),
             kNoLimits,
             1},
        Case{"after a promotion, reads use the remaining replica",
             kRead,
             {},
             nodes({{Role::Primary, false}, {Role::Primary, true}, {Role::Replica, true}}),
             kNoLimits,
             2},
        // --- split brain ---
        Case{"two primaries: writes are refused, naming both",
             kWrite,
             {},
             nodes({{Role::Primary, true}, {Role::Primary, true}, {Role::Replica, true}}),
             kNoLimits,
             -1,
             {"pg0 and pg1", "split brain", "writes are refused"}},
        Case{"two primaries: reads are still served by replicas",
             kRead,
             {},
             nodes({{Role::Primary, true}, {Role::Primary, true}, {Role::Replica, true}}),
             kNoLimits,
             2},
        Case{"two primaries: a read wanting the primary goes to a replica", kRead, rywPrimary(),
             nodes({{Role::Primary, true}, {Role::Replica, true}, {Role::Primary, true}}),
             kNoLimits, 1},
        Case{"two primaries and no replica: a read is refused",
             kRead,
             {},
             nodes({{Role::Primary, true}, {Role::Primary, true}, {Role::Replica, false}}),
             kNoLimits,
             -1,
             {"split brain"}},
        Case{"two primaries, one of them down: not split brain, the other takes writes",
             kWrite,
             {},
             nodes({{Role::Primary, false}, {Role::Primary, true}}),
             kNoLimits,
             1}));

TEST(RouterHealth, PrimaryOfIgnoresDownNodesAndRefusesTwo) {
  EXPECT_EQ(Router::primaryOf(nodes({{Role::Replica, true}, {Role::Primary, true}})), 1);
  EXPECT_EQ(Router::primaryOf(nodes({{Role::Primary, false}, {Role::Replica, true}})), -1);
  EXPECT_EQ(Router::primaryOf(nodes({{Role::Primary, true}, {Role::Primary, true}})), -1);
  EXPECT_EQ(Router::primaryClaims(nodes({{Role::Primary, true}, {Role::Primary, true}})), 2);
  EXPECT_EQ(Router::primaryClaims(nodes({{Role::Primary, false}, {Role::Primary, true}})), 1);
}

TEST(RouterHealth, RefusalSqlstateIsConnectionFailure) {
  EXPECT_STREQ(kRefusalSqlstate, "08006");
}

TEST(RouterHealth, LaggingReplicaRejoinsTheRotationWhenCaughtUp) {
  RouterOptions options;
  options.lag = kLimits;
  Router router(options);
  ReplicaBalancer balancer;
  auto snap = nodes({{Role::Primary, true}, {Role::Replica, true, 5000}, {Role::Replica, true}});
  std::map<int, int> hits;
  for (int i = 0; i < 10; ++i)
    ++hits[router.route(read(), {}, snap, balancer).node];
  EXPECT_EQ(hits, (std::map<int, int>{{2, 10}}));
  snap.nodes[1].lagBytes = 0;  // caught up
  hits.clear();
  for (int i = 0; i < 10; ++i)
    ++hits[router.route(read(), {}, snap, balancer).node];
  EXPECT_EQ(hits, (std::map<int, int>{{1, 5}, {2, 5}}));
}

TEST(RouterHealth, WithinLagLimits) {
  NodeState n;
  n.lagBytes = 10;
  n.lagMs = 10;
  EXPECT_TRUE(withinLagLimits(n, {}));
  EXPECT_TRUE(withinLagLimits(n, {10, 10}));
  EXPECT_FALSE(withinLagLimits(n, {9, 0}));
  EXPECT_FALSE(withinLagLimits(n, {0, 9}));
}

TEST(RouterHealth, OptionsComeFromTheConfig) {
  config::Config c;
  c.consistency.maxReplicaLagBytes = 123;
  c.consistency.maxReplicaLagMs = 456;
  c.consistency.readYourWrites = config::ReadYourWrites::Window;
  c.consistency.windowMs = 789;
  RouterOptions o = RouterOptions::from(c);
  EXPECT_EQ(o.lag.maxBytes, 123u);
  EXPECT_EQ(o.lag.maxMs, 456u);
  EXPECT_EQ(o.consistency.mode, config::ReadYourWrites::Window);
  EXPECT_EQ(o.consistency.window, std::chrono::milliseconds(789));
}

}  // namespace
}  // namespace pgsplit::routing
