#include "pgsplit/config/secrets.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace pgsplit::config {
namespace {

constexpr std::size_t kMaxPasswordFile = 4096;

bool validVariableName(std::string_view name) {
  if (name.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

}  // namespace

Secret resolvePassword(std::string_view value) {
  Secret s;
  if (!value.starts_with("${")) {
    s.ok = true;
    s.value = std::string(value);
    return s;
  }
  std::string_view name = value.substr(2);
  if (!name.ends_with('}') || !validVariableName(name.substr(0, name.size() - 1))) {
    s.error =
        "'password' starting with '${' must be exactly \"${NAME}\", NAME an environment "
        "variable (letters, digits, '_')";
    return s;
  }
  name.remove_suffix(1);
  s.source = SecretSource::Environment;
  s.origin = std::string(name);
  const char* v = std::getenv(s.origin.c_str());
  if (v == nullptr) {
    s.error = "environment variable '" + s.origin + "' (named by 'password') is not set";
    return s;
  }
  s.ok = true;
  s.value = v;
  return s;
}

Secret readPasswordFile(std::string_view path, std::string_view configDir) {
  Secret s;
  s.source = SecretSource::File;
  if (path.empty()) {
    s.error = "'password_file' must not be empty";
    return s;
  }
  std::string full(path);
  if (!path.starts_with('/') && !configDir.empty()) full = std::string(configDir) + "/" + full;
  s.origin = full;
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(full.c_str(), "rb"),
                                                          &std::fclose);
  if (!f) {
    s.error = "cannot read 'password_file' " + full + ": " + std::strerror(errno);
    return s;
  }
  char buf[kMaxPasswordFile + 2];
  const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
  if (std::ferror(f.get()) != 0) {
    s.error = "cannot read 'password_file' " + full + ": " + std::strerror(errno);
    return s;
  }
  std::string_view text(buf, n);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  if (n == sizeof buf || text.size() > kMaxPasswordFile) {
    s.error = "'password_file' " + full + " is larger than 4096 bytes";
    return s;
  }
  if (text.find_first_of("\r\n") != std::string_view::npos) {
    s.error = "'password_file' " + full + " must hold one line (the password)";
    return s;
  }
  s.ok = true;
  s.value = std::string(text);
  return s;
}

}  // namespace pgsplit::config
