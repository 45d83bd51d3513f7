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
    {"char", Word::Char},
    {"character", Word::Character},
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
    {"deallocate", Word::Deallocate},
    {"declare", Word::Declare},
    {"deferrable", Word::Deferrable},
    {"delete", Word::Delete},
    {"discard", Word::Discard},
    {"do", Word::Do},
    {"drop", Word::Drop},
    {"end", Word::End},
    {"execute", Word::Execute},
    {"explain", Word::Explain},
    {"fetch", Word::Fetch},
    {"first", Word::First},
    {"for", Word::For},
    {"from", Word::From},
    {"function", Word::Function},
    {"global", Word::Global},
    {"grant", Word::Grant},
    {"group", Word::Group},
    {"grouping", Word::Grouping},
    {"hold", Word::Hold},
    {"import", Word::Import},
    {"insert", Word::Insert},
    {"into", Word::Into},
    {"isolation", Word::Isolation},
    {"join", Word::Join},
    {"key", Word::Key},
    {"level", Word::Level},
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
    {"only", Word::Only},
    {"or", Word::Or},
    {"order", Word::Order},
    {"partition", Word::Partition},
    {"prepare", Word::Prepare},
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
    {"revoke", Word::Revoke},
    {"rollback", Word::Rollback},
    {"savepoint", Word::Savepoint},
    {"security", Word::Security},
    {"select", Word::Select},
    {"sequence", Word::Sequence},
    {"serializable", Word::Serializable},
    {"session", Word::Session},
    {"set", Word::Set},
    {"sets", Word::Sets},
    {"share", Word::Share},
    {"show", Word::Show},
    {"start", Word::Start},
    {"stdout", Word::Stdout},
    {"table", Word::Table},
    {"tablesample", Word::Tablesample},
    {"temp", Word::Temp},
    {"temporary", Word::Temporary},
    {"time", Word::Time},
    {"to", Word::To},
    {"transaction", Word::Transaction},
    {"truncate", Word::Truncate},
    {"uncommitted", Word::Uncommitted},
    {"unlisten", Word::Unlisten},
    {"update", Word::Update},
    {"vacuum", Word::Vacuum},
    {"values", Word::Values},
    {"varying", Word::Varying},
    {"verbose", Word::Verbose},
    {"view", Word::View},
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

constexpr std::size_t kLongestWord = 12;

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
