#pragma once
// Passwords that do not sit in the TOML file: "${NAME}" names an environment variable, and
// password_file names a file holding the password (a mounted Kubernetes Secret). Errors name the
// variable or the file, never a value.
#include <string>
#include <string_view>

#include "pgsplit/config/config.hpp"

namespace pgsplit::config {

struct Secret {
  bool ok = false;
  std::string value;  // never logged
  SecretSource source = SecretSource::Inline;
  std::string origin;  // variable name or file path
  std::string error;   // what is wrong, when !ok (no secret in it)
};

// A `password` value: "${NAME}" is read from the environment; anything else is the password.
// A value that starts with "${" but is not exactly one "${NAME}" is an error (a typo would
// otherwise become the password).
Secret resolvePassword(std::string_view value);

// A `password_file`: a relative path is taken from `configDir`. The file's content, without its
// trailing line break, is the password; it must be one line of at most 4096 bytes.
Secret readPasswordFile(std::string_view path, std::string_view configDir);

}  // namespace pgsplit::config
