#pragma once
// /metrics: the Prometheus text exposition format (version 0.0.4), written by hand from the
// Overview. (Not prometheus-cpp: its counters are shared atomics every worker would contend on,
// and its label lookup takes a mutex; pgsplit keeps plain per-worker counters and sums them here,
// at scrape time.)
#include <string>
#include <string_view>
#include <vector>

#include "pgsplit/admin/overview.hpp"

namespace pgsplit::admin {

std::string renderMetrics(const Overview& o);

// Every metric family renderMetrics writes (its # TYPE lines are always present).
std::vector<std::string_view> metricNames();

// A label value escaped for the text format (backslash, double quote, line feed).
std::string escapeLabelValue(std::string_view v);

}  // namespace pgsplit::admin
