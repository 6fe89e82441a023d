// SPDX-License-Identifier: MIT
#include "pinsplit/script_lexer.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pinsplit {
namespace {

template <class T>
std::optional<T> ParseUnsigned(absl::string_view text) {
  T value = 0;
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::vector<Token> TokenizeLine(absl::string_view line) {
  if (const std::size_t hash = line.find('#'); hash != absl::string_view::npos) {
    line = line.substr(0, hash);
  }
  std::vector<Token> tokens;
  std::size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && absl::ascii_isspace(static_cast<unsigned char>(line[at]))) ++at;
    const std::size_t start = at;
    while (at < line.size() && !absl::ascii_isspace(static_cast<unsigned char>(line[at]))) ++at;
    if (at > start) tokens.push_back({line.substr(start, at - start), static_cast<int>(start) + 1});
  }
  return tokens;
}

absl::Status ForEachScriptLine(
    std::string_view text, const std::function<absl::Status(int, const std::vector<Token>&)>& fn) {
  if (absl::Status bom = CheckNoByteOrderMark(text); !bom.ok()) return bom;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++number;
    const std::vector<Token> tokens = TokenizeLine(line);
    if (tokens.empty()) continue;
    if (absl::Status status = fn(number, tokens); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status SyntaxError(int line, int column, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ", column ", column, ": ", what));
}

std::optional<std::uint32_t> ParseU32(absl::string_view text) {
  return ParseUnsigned<std::uint32_t>(text);
}

absl::StatusOr<std::uint32_t> ParseNumber(int line, const Token& token, absl::string_view what,
                                          std::uint32_t low, std::uint32_t high) {
  absl::string_view digits = token.text;
  const bool hex = digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
  if (hex) digits.remove_prefix(2);
  bool all_digits = !digits.empty();
  for (char c : digits) {
    all_digits = all_digits && (hex ? absl::ascii_isxdigit(static_cast<unsigned char>(c))
                                    : absl::ascii_isdigit(static_cast<unsigned char>(c)));
  }
  if (!all_digits) {
    return SyntaxError(
        line, token.column,
        absl::StrCat(what, " must be a number (decimal or 0x hex), got ", Quoted(token.text)));
  }
  const std::optional<std::uint64_t> wide = ParseUnsigned<std::uint64_t>(token.text);
  if (!wide || *wide < low || *wide > high) {
    return SyntaxError(line, token.column,
                       absl::StrCat(what, " ", Quoted(token.text), " is out of range ", low, "..",
                                    high, high == kMaxScriptNumber ? " (2^32-1)" : ""));
  }
  return static_cast<std::uint32_t>(*wide);
}

std::string Quoted(absl::string_view text) {
  constexpr std::size_t kShown = 40;
  if (text.size() <= kShown) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", text.substr(0, kShown), "...' (", text.size(), " characters)");
}

absl::Status CheckNoByteOrderMark(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    return SyntaxError(1, 1,
                       "the file starts with a UTF-8 byte-order mark (EF BB BF); save it "
                       "without one");
  }
  return absl::OkStatus();
}

}  // namespace pinsplit
