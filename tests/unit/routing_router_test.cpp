// The routing contract as a table: (classification, session, nodes) -> node.
#include <gtest/gtest.h>

#include <map>

#include "pgsplit/routing/router.hpp"

namespace pgsplit::routing {
namespace {

using sql::Classification;
using sql::Hint;
using sql::TxnStart;

NodeSnapshot cluster(std::vector<std::tuple<Role, bool, std::uint32_t>> nodes) {
  NodeSnapshot s;
  int i = 0;
  for (auto [role, up, weight] : nodes)
    s.nodes.push_back({"n" + std::to_string(i++), role, up, weight});
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

struct Case {
  const char* name;
  Classification cls;
  SessionView session;
  NodeSnapshot nodes;
  int expectedNode;  // -1: no node can serve
};

class RouterTable : public ::testing::TestWithParam<Case> {};

TEST_P(RouterTable, Routes) {
  const Case& c = GetParam();
  Router router;
  ReplicaBalancer balancer;
  Decision d = router.route(c.cls, c.session, c.nodes, balancer);
  EXPECT_EQ(d.node, c.expectedNode) << c.name << " (" << d.reason << ")";
}

const auto kPrimaryTwoReplicas =
    cluster({{Role::Primary, true, 1}, {Role::Replica, true, 1}, {Role::Replica, true, 1}});
const auto kReplicasDown =
    cluster({{Role::Primary, true, 1}, {Role::Replica, false, 1}, {Role::Replica, false, 1}});
const auto kPrimaryDown =
    cluster({{Role::Primary, false, 1}, {Role::Replica, true, 1}, {Role::Replica, true, 1}});
const auto kPrimaryLast =
    cluster({{Role::Replica, true, 1}, {Role::Replica, true, 1}, {Role::Primary, true, 1}});
const auto kUnknownRoles = cluster({{Role::Unknown, true, 1}, {Role::Unknown, true, 1}});
const auto kZeroWeight =
    cluster({{Role::Primary, true, 1}, {Role::Replica, true, 0}, {Role::Replica, true, 1}});

Classification withHint(Classification c, Hint h) {
  c.hint = h;
  return c;
}
Classification txn(TxnStart t) {
  Classification c;
  c.txnStart = t;
  c.statements = 1;
  c.reason = "transaction control";
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    Contract, RouterTable,
    ::testing::Values(
        Case{"read goes to the first replica", read(), {}, kPrimaryTwoReplicas, 1},
        Case{"write goes to the primary", write(), {}, kPrimaryTwoReplicas, 0},
        Case{"write finds the primary wherever it is", write(), {}, kPrimaryLast, 2},
        Case{"read with replicas down falls back to the primary", read(), {}, kReplicasDown, 0},
        Case{"write with the primary down has no node", write(), {}, kPrimaryDown, -1},
        Case{"read with the primary down still reads", read(), {}, kPrimaryDown, 1},
        Case{"unknown roles: a write has no primary", write(), {}, kUnknownRoles, -1},
        Case{"unknown roles: a read has no replica nor primary", read(), {}, kUnknownRoles, -1},
        Case{"zero-weight replica is skipped", read(), {}, kZeroWeight, 2},
        Case{"primary hint keeps a read on the primary",
             withHint(read(), Hint::Primary),
             {},
             kPrimaryTwoReplicas,
             0},
        Case{"replica hint never moves a write",
             withHint(write(), Hint::Replica),
             {},
             kPrimaryTwoReplicas,
             0},
        Case{"replica hint on a read is a read",
             withHint(read(), Hint::Replica),
             {},
             kPrimaryTwoReplicas,
             1},
        Case{"BEGIN goes to the primary", txn(TxnStart::ReadWrite), {}, kPrimaryTwoReplicas, 0},
        Case{"BEGIN READ ONLY may use a replica",
             txn(TxnStart::ReadOnly),
             {},
             kPrimaryTwoReplicas,
             1},
        Case{"inside a transaction a read stays on its node",
             read(),
             {true, 0, false, -1},
             kPrimaryTwoReplicas,
             0},
        Case{"inside a read-only transaction on a replica, a write stays there (and fails there)",
             write(),
             {true, 2, false, -1},
             kPrimaryTwoReplicas,
             2},
        Case{"pinned session: reads stay on the pinned node",
             read(),
             {false, -1, true, 0},
             kPrimaryTwoReplicas,
             0}));

TEST(ReplicaBalancer, RoundRobinsEvenly) {
  ReplicaBalancer b;
  std::map<int, int> hits;
  for (int i = 0; i < 100; ++i)
    ++hits[b.pick(kPrimaryTwoReplicas)];
  EXPECT_EQ(hits[1], 50);
  EXPECT_EQ(hits[2], 50);
  EXPECT_EQ(hits.count(0), 0u);
}

TEST(ReplicaBalancer, HonoursWeightsSmoothly) {
  auto nodes =
      cluster({{Role::Primary, true, 1}, {Role::Replica, true, 3}, {Role::Replica, true, 1}});
  ReplicaBalancer b;
  std::vector<int> seq;
  for (int i = 0; i < 8; ++i)
    seq.push_back(b.pick(nodes));
  // 3:1, interleaved rather than bunched.
  EXPECT_EQ(seq, (std::vector<int>{1, 1, 2, 1, 1, 1, 2, 1}));
}

TEST(ReplicaBalancer, AdaptsWhenAReplicaGoesDown) {
  ReplicaBalancer b;
  auto nodes = kPrimaryTwoReplicas;
  b.pick(nodes);
  nodes.nodes[1].up = false;
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(b.pick(nodes), 2);
  nodes.nodes[2].up = false;
  EXPECT_EQ(b.pick(nodes), -1);
}

TEST(NodeStateBoard, ObserveBumpsVersionOnlyOnChange) {
  NodeStateBoard board(kPrimaryTwoReplicas);
  SnapshotCache cache(board);
  const auto v0 = board.version();
  board.observe(1, Role::Replica, true);
  EXPECT_EQ(board.version(), v0) << "no change, no new snapshot";
  board.observe(1, Role::Unknown, false);
  EXPECT_GT(board.version(), v0);
  EXPECT_FALSE(cache.get().nodes[1].up);
  EXPECT_EQ(cache.get().nodes[1].role, Role::Replica) << "Unknown does not erase a known role";
  board.observe(1, Role::Primary, true);
  EXPECT_EQ(cache.get().nodes[1].role, Role::Primary);
}

}  // namespace
}  // namespace pgsplit::routing

namespace pgsplit::routing {
namespace {

TEST(ReadYourWrites, ReplicasBehindTheSessionsWriteAreSkipped) {
  auto nodes = kPrimaryTwoReplicas;
  nodes.nodes[1].lsn = 100;
  nodes.nodes[2].lsn = 200;
  Router router;
  ReplicaBalancer b;
  SessionView v;
  v.minReplayLsn = 150;
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(router.route(read(), v, nodes, b).node, 2);
  v.minReplayLsn = 250;
  EXPECT_EQ(router.route(read(), v, nodes, b).node, 0) << "no replica has it: the primary";
  v.minReplayLsn = 0;
  v.readsOnPrimary = true;
  EXPECT_EQ(router.route(read(), v, nodes, b).node, 0) << "requirement unknown: the primary";
  EXPECT_EQ(router.route(write(), v, nodes, b).node, 0);
}

TEST(ReadYourWrites, ReplicaHintOnAReadAcceptsAReplicaBehind) {
  auto nodes = kPrimaryTwoReplicas;
  nodes.nodes[1].lsn = 100;
  nodes.nodes[2].lsn = 100;
  Router router;
  ReplicaBalancer b;
  SessionView v;
  v.minReplayLsn = 150;
  const Classification hinted = withHint(read(), Hint::Replica);
  EXPECT_GE(router.route(hinted, v, nodes, b).node, 1);
  v.minReplayLsn = 0;
  v.readsOnPrimary = true;
  EXPECT_GE(router.route(hinted, v, nodes, b).node, 1);
  EXPECT_EQ(router.route(read(), v, nodes, b).node, 0) << "without the hint: the primary";
  EXPECT_EQ(router.route(withHint(write(), Hint::Replica), v, nodes, b).node, 0);
  EXPECT_EQ(router.route(hinted, v, kReplicasDown, b).node, 0) << "no replica up";
  v.inTransaction = true;
  v.transactionNode = 0;
  EXPECT_EQ(router.route(hinted, v, nodes, b).node, 0) << "a transaction stays where it is";
}

TEST(ReadYourWrites, PrimaryDownStillReadsFromAReplica) {
  auto nodes = kPrimaryDown;
  Router router;
  ReplicaBalancer b;
  SessionView v;
  v.minReplayLsn = 1000;  // nobody has it, and there is no primary
  EXPECT_GE(router.route(read(), v, nodes, b).node, 1);
}

TEST(Lsn, ParsesPostgresNotation) {
  EXPECT_EQ(parseLsn("0/0"), 0u);
  EXPECT_EQ(parseLsn("16/B374D848"), 0x16B374D848u);
  EXPECT_EQ(parseLsn("FFFFFFFF/FFFFFFFF"), 0xFFFFFFFFFFFFFFFFu);
  EXPECT_EQ(parseLsn(""), 0u);
  EXPECT_EQ(parseLsn("/1"), 0u);
  EXPECT_EQ(parseLsn("1/"), 0u);
  EXPECT_EQ(parseLsn("x/1"), 0u);
  EXPECT_EQ(parseLsn("123456789/1"), 0u);
}

}  // namespace
}  // namespace pgsplit::routing
