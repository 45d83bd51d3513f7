#pragma once
// Log output: spdlog with either the text pattern or one JSON object per line. A client
// session's lines start with "[cN] " in text; in JSON that prefix becomes the "session" field.
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>

#include "pgsplit/config/config.hpp"

namespace pgsplit::admin {

// {"time":"2026-11-21T14:25:43.123Z","level":"info","session":12,"msg":"..."} + '\n'; every line
// parses as JSON whatever the message holds (control characters, invalid UTF-8).
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Splits "[c12] text" into (12, "text"); (0, message) when there is no session prefix.
std::pair<std::uint64_t, std::string_view> splitSessionPrefix(std::string_view message);

// Sets up the default logger on stderr ("pgsplit") in the configured format and level.
void setupLogging(const config::LogConfig& log);

}  // namespace pgsplit::admin
