#include "pgsplit/admin/log_format.hpp"

#include <charconv>
#include <chrono>
#include <ctime>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "pgsplit/admin/views.hpp"

namespace pgsplit::admin {

std::pair<std::uint64_t, std::string_view> splitSessionPrefix(std::string_view message) {
  if (!message.starts_with("[c")) return {0, message};
  const auto close = message.find("] ");
  if (close == std::string_view::npos || close == 2 || close > 22) return {0, message};
  std::uint64_t id = 0;
  const char* first = message.data() + 2;
  const char* last = message.data() + close;
  const auto [ptr, ec] = std::from_chars(first, last, id);
  if (ec != std::errc{} || ptr != last) return {0, message};
  return {id, message.substr(close + 2)};
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto t = msg.time;
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char time[40];
  const std::size_t n = std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(time + n, sizeof time - n, ".%03dZ", static_cast<int>(millis));

  const std::string_view payload(msg.payload.data(), msg.payload.size());
  const auto [session, text] = splitSessionPrefix(payload);
  const auto level = spdlog::level::to_string_view(msg.level);

  std::string line = "{\"time\":\"";
  line += time;
  line += "\",\"level\":";
  line += jsonString(std::string_view(level.data(), level.size()));
  if (session != 0) {
    line += ",\"session\":";
    line += std::to_string(session);
  }
  line += ",\"msg\":";
  line += jsonString(text);
  line += "}\n";
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

void setupLogging(const config::LogConfig& log) {
  std::shared_ptr<spdlog::logger> logger;
  if (log.format == config::LogFormat::Json) {
    logger = spdlog::stderr_logger_mt("pgsplit");
    logger->set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    logger = spdlog::stderr_color_mt("pgsplit");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log.level));
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace pgsplit::admin
