#pragma once
// Row sets pgsplit answers itself (the admin console): RowDescription, DataRow, CommandComplete,
// EmptyQueryResponse. Pure encoders, appending to a caller-owned buffer; values in text format.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgsplit::protocol {

// Type OIDs used for the columns (text format either way; they tell clients how to align them).
inline constexpr std::uint32_t kOidBool = 16;
inline constexpr std::uint32_t kOidInt8 = 20;
inline constexpr std::uint32_t kOidText = 25;

struct ColumnSpec {
  std::string_view name;
  std::uint32_t typeOid = kOidText;
};

void writeRowDescription(std::string& out, const std::vector<ColumnSpec>& columns);
// A NULL is std::nullopt.
void writeDataRow(std::string& out, const std::vector<std::optional<std::string>>& values);
void writeCommandComplete(std::string& out, std::string_view tag);
void writeEmptyQueryResponse(std::string& out);

}  // namespace pgsplit::protocol
