// SPDX-License-Identifier: MIT
// The op-script language's lexical layer, shared by every dialect (counter, process-level,
// interleaving): lines, `#` comments, whitespace-separated tokens with their columns, numbers,
// and the error format "line L, column C: what".
//
// One number grammar for every dialect (docs/op-script.md): decimal or 0x hexadecimal, in
// 0 .. 2^32-1. ParseNumber is the only way a parser reads a number, so a value one dialect
// accepts every other accepts too, and an out-of-range number names the range.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

// The largest number a script may hold.
inline constexpr std::uint32_t kMaxScriptNumber = UINT32_MAX;

// Decimal or 0x-hexadecimal in 0 .. kMaxScriptNumber; nullopt otherwise.
std::optional<std::uint32_t> ParseU32(absl::string_view text);

// The number in `token`, or a SyntaxError at its column: "WHAT must be a number (decimal or 0x
// hex), got 'x'" or "WHAT TEXT is out of range LO..HI". `low`/`high` narrow the range further
// (an address, a thread id).
absl::StatusOr<std::uint32_t> ParseNumber(int line, const Token& token, absl::string_view what,
                                          std::uint32_t low = 0,
                                          std::uint32_t high = kMaxScriptNumber);

// `text` in single quotes for an error message, cut to its first 40 characters (with the
// length said) so a megabyte token does not flood the terminal.
std::string Quoted(absl::string_view text);

// InvalidArgument "line 1, column 1: ..." when `text` starts with a UTF-8 byte-order mark, which
// would otherwise glue itself to the first token ("unknown operation 'get'").
absl::Status CheckNoByteOrderMark(std::string_view text);

}  // namespace pinsplit
