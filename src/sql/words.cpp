#include "words.hpp"

#include <array>
#include <cstdint>

#include "name_table.hpp"

namespace pgsplit::sql::detail {

namespace {

struct WordEntry {
  std::string_view text;
  Word word;
};

// Sorted by text.
constexpr WordEntry kWords[] = {
    {"abort", Word::Abort},
    {"aggregate", Word::Aggregate},
    {"alter", Word::Alter},
    {"analyse", Word::Analyse},
    {"analyze", Word::Analyze},
    {"as", Word::As},
    {"begin", Word::Begin},
    {"binary", Word::Binary},
    {"bit", Word::Bit},
    {"by", Word::By},
    {"call", Word::Call},
    {"case", Word::Case},
    {"cast", Word::Cast},
    {"char", Word::Char},
    {"character", Word::Character},
    {"characteristics", Word::Characteristics},
    {"checkpoint", Word::Checkpoint},
    {"close", Word::Close},
    {"cluster", Word::Cluster},
    {"columns", Word::Columns},
    {"comment", Word::Comment},
    {"commit", Word::Commit},
    {"committed", Word::Committed},
    {"constraints", Word::Constraints},
    {"copy", Word::Copy},
    {"create", Word::Create},
    {"database", Word::Database},
    {"deallocate", Word::Deallocate},
    {"declare", Word::Declare},
    {"deferrable", Word::Deferrable},
    {"delete", Word::Delete},
    {"discard", Word::Discard},
    {"distinct", Word::Distinct},
    {"do", Word::Do},
    {"drop", Word::Drop},
    {"end", Word::End},
    {"except", Word::Except},
    {"execute", Word::Execute},
    {"explain", Word::Explain},
    {"extension", Word::Extension},
    {"fetch", Word::Fetch},
    {"first", Word::First},
    {"for", Word::For},
    {"foreign", Word::Foreign},
    {"from", Word::From},
    {"function", Word::Function},
    {"global", Word::Global},
    {"grant", Word::Grant},
    {"group", Word::Group},
    {"grouping", Word::Grouping},
    {"having", Word::Having},
    {"hold", Word::Hold},
    {"import", Word::Import},
    {"insert", Word::Insert},
    {"intersect", Word::Intersect},
    {"into", Word::Into},
    {"isolation", Word::Isolation},
    {"join", Word::Join},
    {"key", Word::Key},
    {"language", Word::Language},
    {"lateral", Word::Lateral},
    {"level", Word::Level},
    {"limit", Word::Limit},
    {"listen", Word::Listen},
    {"load", Word::Load},
    {"local", Word::Local},
    {"lock", Word::Lock},
    {"materialized", Word::Materialized},
    {"merge", Word::Merge},
    {"move", Word::Move},
    {"nchar", Word::Nchar},
    {"next", Word::Next},
    {"no", Word::No},
    {"not", Word::Not},
    {"notify", Word::Notify},
    {"offset", Word::Offset},
    {"only", Word::Only},
    {"operator", Word::Operator},
    {"or", Word::Or},
    {"order", Word::Order},
    {"owned", Word::Owned},
    {"partition", Word::Partition},
    {"policy", Word::Policy},
    {"prepare", Word::Prepare},
    {"procedural", Word::Procedural},
    {"procedure", Word::Procedure},
    {"read", Word::Read},
    {"reassign", Word::Reassign},
    {"recursive", Word::Recursive},
    {"refresh", Word::Refresh},
    {"reindex", Word::Reindex},
    {"release", Word::Release},
    {"repeatable", Word::Repeatable},
    {"replace", Word::Replace},
    {"reset", Word::Reset},
    {"returning", Word::Returning},
    {"revoke", Word::Revoke},
    {"role", Word::Role},
    {"rollback", Word::Rollback},
    {"routine", Word::Routine},
    {"rows", Word::Rows},
    {"rule", Word::Rule},
    {"savepoint", Word::Savepoint},
    {"schema", Word::Schema},
    {"security", Word::Security},
    {"select", Word::Select},
    {"sequence", Word::Sequence},
    {"serializable", Word::Serializable},
    {"session", Word::Session},
    {"set", Word::Set},
    {"sets", Word::Sets},
    {"share", Word::Share},
    {"show", Word::Show},
    {"snapshot", Word::Snapshot},
    {"start", Word::Start},
    {"stdout", Word::Stdout},
    {"table", Word::Table},
    {"tablesample", Word::Tablesample},
    {"temp", Word::Temp},
    {"temporary", Word::Temporary},
    {"time", Word::Time},
    {"to", Word::To},
    {"transaction", Word::Transaction},
    {"transform", Word::Transform},
    {"truncate", Word::Truncate},
    {"trusted", Word::Trusted},
    {"uncommitted", Word::Uncommitted},
    {"union", Word::Union},
    {"unlisten", Word::Unlisten},
    {"unlogged", Word::Unlogged},
    {"update", Word::Update},
    {"user", Word::User},
    {"using", Word::Using},
    {"vacuum", Word::Vacuum},
    {"values", Word::Values},
    {"varying", Word::Varying},
    {"verbose", Word::Verbose},
    {"view", Word::View},
    {"where", Word::Where},
    {"window", Word::Window},
    {"with", Word::With},
    {"work", Word::Work},
    {"write", Word::Write},
    {"zone", Word::Zone},
};

constexpr bool wordsSorted() {
  for (std::size_t i = 1; i < std::size(kWords); ++i) {
    if (compareName(kWords[i - 1].text, kWords[i].text, false) >= 0) return false;
  }
  return true;
}
static_assert(wordsSorted());

constexpr std::size_t kLongestWord = 15;

// Open addressing over a hash of the folded text: one probe and one comparison for most
// identifiers, which are table and column names.
constexpr std::size_t kSlots = 512;

constexpr std::uint32_t hashFolded(std::string_view s) {
  std::uint32_t h = static_cast<std::uint32_t>(s.size());
  for (const char c : s)
    h = h * 31U + foldAscii(static_cast<unsigned char>(c));
  return h;
}

constexpr auto kSlotTable = [] {
  std::array<std::uint8_t, kSlots> slots{};  // index into kWords + 1; 0 is empty
  for (std::size_t i = 0; i < std::size(kWords); ++i) {
    std::size_t slot = hashFolded(kWords[i].text) % kSlots;
    while (slots[slot] != 0)
      slot = (slot + 1) % kSlots;
    slots[slot] = static_cast<std::uint8_t>(i + 1);
  }
  return slots;
}();
static_assert(std::size(kWords) < 255 && std::size(kWords) * 3 < kSlots);

// Bit (c - 'a') of kFirstLetters[n] is set when some word of length n starts with c: most
// other identifiers are turned away before hashing.
constexpr auto kFirstLetters = [] {
  std::array<std::uint32_t, kLongestWord + 1> masks{};
  for (const WordEntry& e : kWords)
    masks[e.text.size()] |= 1U << (e.text[0] - 'a');
  return masks;
}();

}  // namespace

Word wordOf(std::string_view identifier) {
  if (identifier.size() < 2 || identifier.size() > kLongestWord) return Word::None;
  const unsigned first = foldAscii(static_cast<unsigned char>(identifier[0])) - 'a';
  if (first >= 26 || (kFirstLetters[identifier.size()] & (1U << first)) == 0) return Word::None;
  std::size_t slot = hashFolded(identifier) % kSlots;
  while (kSlotTable[slot] != 0) {
    const WordEntry& e = kWords[kSlotTable[slot] - 1];
    if (compareName(identifier, e.text, true) == 0) return e.word;
    slot = (slot + 1) % kSlots;
  }
  return Word::None;
}

}  // namespace pgsplit::sql::detail
