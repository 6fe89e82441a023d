// The op-script language's lexical layer, shared by every dialect (counter, process-level,
// interleaving): lines, `#` comments, whitespace-separated tokens with their columns, numbers,
// and the error format "line L, column C: what".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace pinsplit {

struct Token {
  absl::string_view text;
  int column;  // 1-based
};

// The tokens of one line, its comment removed.
std::vector<Token> TokenizeLine(absl::string_view line);

// Calls `fn(line_number, tokens)` for every line that holds a token, stopping at the first error.
absl::Status ForEachScriptLine(
    std::string_view text, const std::function<absl::Status(int, const std::vector<Token>&)>& fn);

absl::Status SyntaxError(int line, int column, absl::string_view what);

// Decimal or 0x-hexadecimal; nullopt when the text is not a number of that width.
std::optional<std::uint32_t> ParseU32(absl::string_view text);
std::optional<std::uint64_t> ParseU64(absl::string_view text);

}  // namespace pinsplit
