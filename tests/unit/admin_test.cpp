// Admin console and HTTP renderings: command parsing, row-set bytes, the Prometheus text, the
// JSON of /nodes and of log lines, all from fabricated inputs (no sockets).
#include <gtest/gtest.h>

#include <spdlog/details/log_msg.h>

#include "pgsplit/admin/command.hpp"
#include "pgsplit/admin/log_format.hpp"
#include "pgsplit/admin/metrics.hpp"
#include "pgsplit/admin/views.hpp"
#include "pgsplit/protocol/frame.hpp"
#include "pgsplit/protocol/result_set.hpp"
#include "pgsplit/session/worker_stats.hpp"

namespace pgsplit::admin {
namespace {

// ---- commands ----

TEST(AdminCommand, ParsesCaseSpacesCommentsAndSemicolons) {
  struct Case {
    const char* text;
    std::vector<CommandKind> kinds;
  };
  const Case cases[] = {
      {"SHOW NODES", {CommandKind::ShowNodes}},
      {"show nodes;", {CommandKind::ShowNodes}},
      {"  Show\t\n  Pools ;; ", {CommandKind::ShowPools}},
      {"SHOW CLIENTS; SHOW SERVERS", {CommandKind::ShowClients, CommandKind::ShowServers}},
      {"-- a comment\nSHOW STATS", {CommandKind::ShowStats}},
      {"SHOW /* inline */ CONFIG", {CommandKind::ShowConfig}},
      {"show version", {CommandKind::ShowVersion}},
      {"show help", {CommandKind::ShowHelp}},
      {"reload", {CommandKind::Reload}},
      {"SHUTDOWN;", {CommandKind::Shutdown}},
      {"PAUSE", {CommandKind::Pause}},
      {"resume", {CommandKind::Resume}},
      {"pause app; resume \"App\"", {CommandKind::Pause, CommandKind::Resume}},
      {"PAUSE a b", {CommandKind::Unknown}},
      {"PAUSE \"\"", {CommandKind::Unknown}},
      {"PAUSE \"unterminated", {CommandKind::Unknown}},
      {"SHOW QUERIES", {CommandKind::ShowQueries}},
      {"SHOW RULES", {CommandKind::ShowRules}},
      {"show clusters;", {CommandKind::ShowClusters}},
      {"", {CommandKind::Empty}},
      {" ; ;", {CommandKind::Empty}},
      {"SELECT 1", {CommandKind::Unknown}},
      {"SHOW NODES EXTRA", {CommandKind::Unknown}},
      {"SHOWNODES", {CommandKind::Unknown}},
      {"SHOW NODES; bogus; SHOW POOLS",
       {CommandKind::ShowNodes, CommandKind::Unknown, CommandKind::ShowPools}},
  };
  for (const Case& c : cases) {
    const auto got = parseCommands(c.text);
    std::vector<CommandKind> kinds;
    for (const auto& g : got)
      kinds.push_back(g.kind);
    EXPECT_EQ(kinds, c.kinds) << c.text;
  }
  EXPECT_EQ(parseCommands("show   nodes")[0].text, "SHOW NODES");
  // PAUSE/RESUME take a database, read as PostgreSQL reads an identifier.
  EXPECT_EQ(parseCommands("PAUSE")[0].argument, "");
  EXPECT_EQ(parseCommands("pause App")[0].argument, "app");
  EXPECT_EQ(parseCommands("RESUME \"My \"\"Db\"")[0].argument, "My \"Db");
  EXPECT_EQ(parseCommands("pause  /* c */ App")[0].text, "PAUSE App");
}

// ---- row-set bytes ----

TEST(AdminResultSet, RowDescriptionDataRowCommandComplete) {
  Table t;
  t.columns = {{"name"}, {"n", protocol::kOidInt8}};
  t.rows.push_back({std::string("pg0"), std::string("7")});
  t.rows.push_back({std::string("pg1"), std::nullopt});
  std::string out;
  writeTable(out, t);

  std::string_view rest = out;
  auto next = [&rest]() {
    auto r = protocol::readFrame(rest, 1 << 20);
    EXPECT_EQ(r.status, protocol::FrameStatus::Ok);
    std::pair<char, std::string> m{r.frame.type, std::string(r.frame.body)};
    rest.remove_prefix(r.frame.size);
    return m;
  };
  auto [t1, rd] = next();
  EXPECT_EQ(t1, 'T');
  // 2 fields; "name\0", table oid 0, attnum 0, type 25, size -1, typmod -1, format 0.
  const std::string want = std::string("\0\2", 2) + "name" + std::string(1, '\0') +
                           std::string("\0\0\0\0\0\0\0\0\0\x19\xff\xff\xff\xff\xff\xff\0\0", 18) +
                           "n" + std::string(1, '\0') +
                           std::string("\0\0\0\0\0\0\0\0\0\x14\0\x08\xff\xff\xff\xff\0\0", 18);
  EXPECT_EQ(rd, want);
  auto [t2, r1] = next();
  EXPECT_EQ(t2, 'D');
  EXPECT_EQ(r1, std::string("\0\2\0\0\0\3pg0\0\0\0\0017", 14));
  auto [t3, r2] = next();
  EXPECT_EQ(t3, 'D');
  EXPECT_EQ(r2, std::string("\0\2\0\0\0\3pg1\xff\xff\xff\xff", 13));
  auto [t4, cc] = next();
  EXPECT_EQ(t4, 'C');
  EXPECT_EQ(cc, std::string("SHOW 2\0", 7));
  EXPECT_TRUE(rest.empty());
}

// ---- an overview to render ----

Overview sampleOverview() {
  auto cfg = std::make_shared<config::Config>();
  cfg->path = "/etc/pgsplit/pgsplit.toml";
  for (const char* name : {"pg0", "pg1", "old"}) {
    config::NodeConfig n;
    n.name = name;
    n.host = "10.0.0.1";
    cfg->nodes.push_back(n);
  }
  cfg->nodes[2].retired = true;
  config::UserConfig u;
  u.name = "app";
  u.password = "do-not-show-me";
  u.passwordSource = config::SecretSource::Environment;
  u.passwordOrigin = "APP_DB_PASSWORD";
  cfg->users.push_back(u);
  auto snap = std::make_shared<routing::NodeSnapshot>();
  snap->nodes.resize(3);
  snap->nodes[0] = {"pg0", routing::Role::Primary, true, 1, 0x100000100, {}};
  snap->nodes[1] = {"pg1", routing::Role::Replica, true, 1, 0x100000000, {}, 256, 1500};
  snap->nodes[2] = {"old", routing::Role::Unknown, false, 1, 0, {}};
  Overview o;
  o.config = cfg;
  o.nodes = snap;
  o.generation = 3;
  o.workerCount = 1;
  o.nodeTotals.resize(3);
  o.nodeTotals[0].unitsAsPrimary = 5;
  o.nodeTotals[1].unitsAsReplica = 9;
  o.nodeTotals[1].serverConnections = 2;
  o.nodeTotals[1].idleServerConnections = 1;
  o.nodeTotals[2].unitsAsReplica = 100;  // before it was removed
  {
    session::LatencyHistogram h;
    for (int i = 0; i < 9; ++i)
      h.observe(1'100'000);  // 1.1 ms: bucket (1 ms, 1.25 ms]
    o.nodeTotals[1].latencyAsReplica.add(h);
    session::LatencyHistogram w;
    w.observe(3000);  // 3 µs
    o.nodeTotals[1].poolWait.add(w);
  }
  o.pause.databases = {"app"};
  o.pausedClients = 1;
  o.classifier.hits = 70;
  o.classifier.shapeHits = 25;
  o.classifier.misses = 5;
  o.classifier.shapeEvictions = 2;
  o.serverErrorsByClass[static_cast<std::size_t>(session::sqlstateClassIndex("22"))] = 4;
  o.proxyErrorsByClass[static_cast<std::size_t>(session::sqlstateClassIndex("57"))] = 1;
  session::WorkerReport w;
  session::ClientInfo c;
  c.id = 12;
  c.user = "app";
  c.database = "app";
  c.application = "a\"b";
  c.state = "ready";
  c.txnStatus = 'T';
  c.backends.push_back({1, 4242, 'T', true});
  w.clients.push_back(c);
  o.workers.push_back(w);
  o.control.reloads = 2;
  o.control.reloadFailures = 1;
  return o;
}

TEST(AdminViews, NodesHideRetiredSlotsAndComputeLag) {
  const Overview o = sampleOverview();
  const Table t = showNodes(o);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(*t.rows[0][0], "pg0");
  EXPECT_EQ(*t.rows[0][3], "primary");
  EXPECT_FALSE(t.rows[0][8].has_value());  // no lag for a primary
  EXPECT_EQ(*t.rows[1][7], "1/0");         // wal_lsn
  EXPECT_EQ(*t.rows[1][8], "256");         // lag_bytes
  EXPECT_EQ(*t.rows[1][9], "1500");        // lag_ms
  EXPECT_EQ(*t.rows[1][12], "9");          // queries_as_replica
  const Table stats = showStats(o);
  ASSERT_EQ(stats.rows.size(), 3u);  // pg0, pg1, (total)
  EXPECT_EQ(*stats.rows[2][3], "109") << "the total keeps what retired nodes served";
}

TEST(AdminViews, StatsShowLatencyPerRouteFromTheHistograms) {
  const Table t = showStats(sampleOverview());
  ASSERT_EQ(t.columns.size(), 17u);
  EXPECT_EQ(std::string(t.columns[12].name), "avg_ms_as_primary");
  EXPECT_EQ(std::string(t.columns[15].name), "p99_ms_as_replica");
  const auto& pg1 = t.rows[1];
  EXPECT_FALSE(pg1[12].has_value()) << "no primary units: no average";
  EXPECT_EQ(*pg1[14], "1.100");  // the mean is exact (sum / count)
  // p99: estimated, 99% of the way through the bucket (1, 1.25] ms.
  EXPECT_GT(std::stod(*pg1[15]), 1.24);
  EXPECT_LE(std::stod(*pg1[15]), 1.25);
  EXPECT_EQ(*pg1[16], "0.010");  // pool wait p99: in the first bucket, (0, 10 µs]
  EXPECT_EQ(*t.rows[2][14], "1.100") << "(total) adds the nodes' histograms";
}

TEST(AdminViews, QueriesMergeWorkersByFingerprintMostTimeFirst) {
  std::vector<std::vector<session::QueryStatsRow>> perWorker(2);
  perWorker[0].push_back({1, "SELECT $1", 3, 3'000'000, 0, 3});
  perWorker[0].push_back({2, "UPDATE t SET x = $1", 1, 50'000'000, 1, 0});
  perWorker[1].push_back({1, "select $1", 2, 1'000'000, 1, 1});
  const Table t = showQueries(perWorker);
  ASSERT_EQ(t.columns.size(), 6u);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(*t.rows[0][0], "UPDATE t SET x = $1");
  EXPECT_EQ(*t.rows[1][0], "SELECT $1");  // the first worker's text
  EXPECT_EQ(*t.rows[1][1], "5");          // calls
  EXPECT_EQ(*t.rows[1][2], "4.000");      // total_ms
  EXPECT_EQ(*t.rows[1][3], "0.800");      // mean_ms
  EXPECT_EQ(*t.rows[1][4], "1");          // primary
  EXPECT_EQ(*t.rows[1][5], "4");          // replica
}

TEST(AdminViews, ConfigShowsWherePasswordsComeFromNeverThemselves) {
  const Overview o = sampleOverview();
  const Table t = showConfig(o);
  bool found = false;
  for (const auto& row : t.rows) {
    for (const auto& v : row) {
      if (v) {
        EXPECT_EQ(v->find("do-not-show-me"), std::string::npos);
      }
    }
    if (*row[0] == "users.app") {
      found = true;
      EXPECT_EQ(*row[1], "password from environment variable APP_DB_PASSWORD");
    }
  }
  EXPECT_TRUE(found);
}

TEST(AdminViews, ClientsShowTheirBackend) {
  const Table t = showClients(sampleOverview());
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(*t.rows[0][0], "12");
  EXPECT_EQ(*t.rows[0][7], "in transaction");
  EXPECT_EQ(*t.rows[0][11], "pg1");
  EXPECT_EQ(*t.rows[0][12], "4242");
  EXPECT_EQ(*t.rows[0][14], "f");  // paused
}

TEST(AdminViews, NodesJsonIsWellFormed) {
  const std::string j = nodesJson(sampleOverview());
  EXPECT_NE(j.find("\"name\":\"pg1\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"lag_bytes\":256"), std::string::npos) << j;
  EXPECT_NE(j.find("\"lag_bytes\":null"), std::string::npos) << j;
  EXPECT_NE(j.find("\"lag_ms\":1500"), std::string::npos) << j;
  EXPECT_EQ(j.find("\"old\""), std::string::npos) << j;
  EXPECT_EQ(j.front(), '[');
}

// ---- Prometheus text ----

TEST(AdminMetrics, EveryFamilyHasHelpAndTypeAndSamplesParse) {
  const std::string text = renderMetrics(sampleOverview());
  for (std::string_view name : metricNames()) {
    EXPECT_NE(text.find("# TYPE " + std::string(name) + " "), std::string::npos) << name;
    EXPECT_NE(text.find("# HELP " + std::string(name) + " "), std::string::npos) << name;
  }
  EXPECT_NE(text.find("pgsplit_queries_total{node=\"pg1\",route=\"replica\"} 9\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_errors_total{source=\"server\",class=\"22\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_errors_total{source=\"proxy\",class=\"57\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_reloads_total{result=\"failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("pgsplit_client_connections{state=\"active\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("pgsplit_server_connections{node=\"pg1\",state=\"in_use\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_replica_lag_bytes{node=\"pg1\"} 256\n"), std::string::npos);
  EXPECT_EQ(text.find("node=\"old\""), std::string::npos) << "retired nodes are not exported";
  // Histograms: cumulative buckets at the exported bounds, +Inf, _sum, _count.
  EXPECT_NE(text.find("# TYPE pgsplit_query_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(
      text.find(
          "pgsplit_query_duration_seconds_bucket{node=\"pg1\",route=\"replica\",le=\"0.001\"} 0\n"),
      std::string::npos);
  EXPECT_NE(text.find("pgsplit_query_duration_seconds_bucket{node=\"pg1\",route=\"replica\",le="
                      "\"0.0025\"} 9\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_query_duration_seconds_bucket{node=\"pg1\",route=\"replica\",le="
                      "\"+Inf\"} 9\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_query_duration_seconds_count{node=\"pg1\",route=\"replica\"} 9\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_query_duration_seconds_sum{node=\"pg1\",route=\"replica\"} "
                      "0.009900\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_query_duration_seconds_count{node=\"pg0\",route=\"primary\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_pool_wait_duration_seconds_bucket{node=\"pg1\",le=\"0.00001\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_paused 1\n"), std::string::npos);
  EXPECT_NE(text.find("pgsplit_classifier_cache_hits_total 70\n"), std::string::npos);
  EXPECT_NE(text.find("pgsplit_classifier_cache_shape_hits_total 25\n"), std::string::npos);
  EXPECT_NE(text.find("pgsplit_classifier_cache_misses_total 5\n"), std::string::npos);
  EXPECT_NE(text.find("pgsplit_classifier_cache_evictions_total{cache=\"shape\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgsplit_paused_clients 1\n"), std::string::npos);
  // Every sample line: name{labels} value, the value a number.
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "the text ends with a line feed";
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.starts_with("#")) continue;
    const auto space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    std::size_t used = 0;
    (void)std::stod(line.substr(space + 1), &used);
    EXPECT_EQ(used, line.size() - space - 1) << line;
    EXPECT_TRUE(line.starts_with("pgsplit_")) << line;
  }
}

TEST(AdminMetrics, LabelValuesAreEscaped) {
  EXPECT_EQ(escapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

// ---- JSON and log lines ----

TEST(AdminJson, StringsAlwaysParse) {
  EXPECT_EQ(jsonString("plain"), "\"plain\"");
  EXPECT_EQ(jsonString("q\"b\\"), "\"q\\\"b\\\\\"");
  EXPECT_EQ(jsonString(std::string("\n\t\x01", 3)), "\"\\n\\t\\u0001\"");
  EXPECT_EQ(jsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // UTF-8 kept
  EXPECT_EQ(jsonString("bad\xff"
                       "byte"),
            "\"bad\\ufffdbyte\"");                                     // not UTF-8: replaced
  EXPECT_EQ(jsonString("\xe2\x82"), "\"\\ufffd\\ufffd\"");             // truncated sequence
  EXPECT_EQ(jsonString("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
}

TEST(AdminLog, SessionPrefix) {
  EXPECT_EQ(splitSessionPrefix("[c12] client connected"),
            (std::pair<std::uint64_t, std::string_view>{12, "client connected"}));
  EXPECT_EQ(splitSessionPrefix("node pg1 down").first, 0u);
  EXPECT_EQ(splitSessionPrefix("[c] x").first, 0u);
  EXPECT_EQ(splitSessionPrefix("[cx1] x").first, 0u);
  EXPECT_EQ(splitSessionPrefix("[c12]x").first, 0u);
}

TEST(AdminLog, JsonLineShape) {
  JsonLogFormatter f;
  spdlog::memory_buf_t buf;
  spdlog::details::log_msg msg("pgsplit", spdlog::level::info, "[c7] said \"hi\"\n\x01");
  f.format(msg, buf);
  const std::string line(buf.data(), buf.size());
  EXPECT_TRUE(line.starts_with("{\"time\":\"")) << line;
  EXPECT_NE(line.find("\"level\":\"info\",\"session\":7,\"msg\":\"said \\\"hi\\\"\\n\\u0001\"}"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per message";
}

TEST(WorkerStats, SqlstateClasses) {
  EXPECT_EQ(session::sqlstateClassIndex("00000"), 0);
  EXPECT_EQ(session::sqlstateClassIndex("22012"), 2 * 36 + 2);
  EXPECT_EQ(session::sqlstateClassIndex("XX000"), 33 * 36 + 33);
  EXPECT_EQ(session::sqlstateClassIndex("x1"), -1);
  EXPECT_EQ(session::sqlstateClassIndex("2"), -1);
  const auto name =
      session::sqlstateClassName(static_cast<std::size_t>(session::sqlstateClassIndex("57P01")));
  EXPECT_EQ(std::string(name.data(), 2), "57");
  session::WorkerStats st;
  std::string body = std::string("SERROR\0C22012\0Mdivision by zero\0\0", 34);
  st.countServerError(1, false, body);
  st.countServerError(1, true, body);
  EXPECT_EQ(st.nodes[1].errorsAsPrimary.get(), 1u);
  EXPECT_EQ(st.nodes[1].errorsAsReplica.get(), 1u);
  EXPECT_EQ(st.serverErrorsByClass[2 * 36 + 2].get(), 2u);
  st.countUnit(1, true);
  st.countUnit(1, false);
  st.countUnit(config::kMaxNodeSlots + 5, true);  // ignored, no crash
  EXPECT_EQ(st.nodes[1].unitsAsReplica.get(), 1u);
  EXPECT_EQ(st.nodes[1].unitsAsPrimary.get(), 1u);
  // Histograms: allocated on first use, visible to scrapes from then on.
  EXPECT_EQ(st.latencyIfAny(1), nullptr);
  st.latency(1)->asReplica.observe(2'000'000);
  ASSERT_NE(st.latencyIfAny(1), nullptr);
  EXPECT_EQ(st.latencyIfAny(1)->asReplica.sumNanos(), 2'000'000u);
  EXPECT_EQ(st.latency(config::kMaxNodeSlots), nullptr);
}

}  // namespace
}  // namespace pgsplit::admin
