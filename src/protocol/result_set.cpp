#include "pgsplit/protocol/result_set.hpp"

#include "pgsplit/protocol/writer.hpp"

namespace pgsplit::protocol {

void writeRowDescription(std::string& out, const std::vector<ColumnSpec>& columns) {
  MessageWriter w(out);
  w.begin(server::RowDescription).i16(static_cast<std::int16_t>(columns.size()));
  for (const ColumnSpec& c : columns) {
    const std::int16_t size = c.typeOid == kOidInt8 ? 8 : c.typeOid == kOidBool ? 1 : -1;
    w.cstr(c.name).u32(0).i16(0).u32(c.typeOid).i16(size).i32(-1).i16(0);
  }
  w.end();
}

void writeDataRow(std::string& out, const std::vector<std::optional<std::string>>& values) {
  MessageWriter w(out);
  w.begin(server::DataRow).i16(static_cast<std::int16_t>(values.size()));
  for (const auto& v : values) {
    if (!v) {
      w.i32(-1);
      continue;
    }
    w.i32(static_cast<std::int32_t>(v->size())).raw(*v);
  }
  w.end();
}

void writeCommandComplete(std::string& out, std::string_view tag) {
  MessageWriter(out).begin(server::CommandComplete).cstr(tag).end();
}

void writeEmptyQueryResponse(std::string& out) {
  MessageWriter(out).begin(server::EmptyQueryResponse).end();
}

}  // namespace pgsplit::protocol
