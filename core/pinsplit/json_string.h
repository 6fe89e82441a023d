// SPDX-License-Identifier: MIT
// JsonString: text as a JSON string literal, for the result files every tool writes
// (docs/results-format.md) without a JSON library.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace pinsplit {

// `text` quoted, with quotes, backslashes and control characters escaped.
inline std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace pinsplit
