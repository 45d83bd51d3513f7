#pragma once
// The bytes a client sent and pgsplit has not handled yet. Unlike std::string, making room for a
// read does not zero it: the hot path reads into spare capacity (prepare/commit) without touching
// memory it does not use. Idle, it can give a large allocation back (shrink).
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace pgsplit::session {

class ReadBuffer {
 public:
  std::string_view view(std::size_t from = 0) const { return {data_.get() + from, size_ - from}; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  void clear() { size_ = 0; }

  // Writable room for at least n more bytes after the data (the data is kept).
  char* prepare(std::size_t n) {
    if (capacity_ - size_ < n) reallocate(size_ + n);
    return data_.get() + size_;
  }
  // n bytes written at prepare()'s pointer are now data.
  void commit(std::size_t n) { size_ += n; }
  void append(const char* p, std::size_t n) {
    std::memcpy(prepare(n), p, n);
    commit(n);
  }
  // Drops the first n bytes.
  void consume(std::size_t n) {
    if (n >= size_) {
      size_ = 0;
      return;
    }
    std::memmove(data_.get(), data_.get() + n, size_ - n);
    size_ -= n;
  }
  void reserve(std::size_t n) {
    if (capacity_ < n) reallocate(n);
  }
  // With at most `keep` bytes of data: an allocation over `keep` capacity is replaced by one of
  // `keep` bytes (0 frees it).
  void shrink(std::size_t keep) {
    if (capacity_ <= keep || size_ > keep) return;
    std::unique_ptr<char[]> smaller;
    if (keep > 0) {
      smaller = std::make_unique_for_overwrite<char[]>(keep);
      if (size_ > 0) std::memcpy(smaller.get(), data_.get(), size_);
    }
    data_ = std::move(smaller);
    capacity_ = keep;
  }

 private:
  void reallocate(std::size_t atLeast) {
    std::size_t cap = capacity_ ? capacity_ : 1024;
    while (cap < atLeast)
      cap *= 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = cap;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace pgsplit::session
