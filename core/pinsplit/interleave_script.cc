// SPDX-License-Identifier: MIT
#include "pinsplit/interleave_script.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pinsplit/script_lexer.h"

namespace pinsplit {
namespace {

// A thread id: a script number in 1..kMaxInterleaveThreads.
absl::StatusOr<int> ParseThreadId(int line, const Token& token) {
  absl::StatusOr<std::uint32_t> id =
      ParseNumber(line, token, "thread id", 1, kMaxInterleaveThreads);
  if (!id.ok()) return id.status();
  return static_cast<int>(*id);
}

// Parses one line of the counter language (the text after `thread N`, or a set/expect line),
// keeping the line's own columns and reporting the real line number.
absl::StatusOr<CounterOp> ParseCounterLine(absl::string_view padded_line, int line) {
  absl::StatusOr<CounterScript> one = ParseCounterScript(std::string(padded_line));
  if (!one.ok()) {
    std::string message(one.status().message());
    if (absl::StartsWith(message, "line 1, ")) message = message.substr(8);
    return absl::InvalidArgumentError(absl::StrCat("line ", line, ", ", message));
  }
  CounterOp op = one->ops.at(0);
  op.line = line;
  return op;
}

}  // namespace

int InterleaveScript::misuse_thread() const {
  for (std::size_t t = 0; t < misuse.size(); ++t) {
    for (bool m : misuse[t]) {
      if (m) return static_cast<int>(t);
    }
  }
  return -1;
}

bool LooksLikeInterleaveScript(std::string_view text) {
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    const std::vector<Token> tokens = TokenizeLine(line);
    if (!tokens.empty() && (tokens[0].text == "thread" || tokens[0].text == "schedule")) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<InterleaveScript> ParseInterleaveScript(std::string_view text) {
  if (absl::Status bom = CheckNoByteOrderMark(text); !bom.ok()) return bom;
  InterleaveScript script;
  struct ScheduleEntry {
    int id, line, column;
  };
  std::vector<ScheduleEntry> schedule;
  int highest_thread = 0;
  int highest_thread_line = 0;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_number;
    absl::string_view line = raw;
    if (const std::size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    const std::vector<Token> tokens = TokenizeLine(line);
    if (tokens.empty()) continue;
    const Token& verb = tokens[0];
    if (verb.text == "schedule") {
      if (tokens.size() == 1) {
        return SyntaxError(line_number, verb.column + 8, "'schedule' needs thread ids (1..4)");
      }
      for (std::size_t i = 1; i < tokens.size(); ++i) {
        const absl::StatusOr<int> id = ParseThreadId(line_number, tokens[i]);
        if (!id.ok()) return id.status();
        schedule.push_back({*id, line_number, tokens[i].column});
      }
      continue;
    }
    if (verb.text == "thread") {
      if (tokens.size() < 2) {
        return SyntaxError(line_number, verb.column + 6,
                           "'thread' needs an id (1..4) and an operation");
      }
      const absl::StatusOr<int> id = ParseThreadId(line_number, tokens[1]);
      if (!id.ok()) return id.status();
      if (tokens.size() < 3) {
        return SyntaxError(line_number, tokens[1].column + static_cast<int>(tokens[1].text.size()),
                           "expected an operation after the thread id");
      }
      // `misuse` before the operation marks a deliberate contract breach.
      const bool misuse = tokens[2].text == "misuse";
      if (misuse && tokens.size() < 4) {
        return SyntaxError(line_number, tokens[2].column + 6,
                           "expected an operation after 'misuse' (get, put or unpin K)");
      }
      const Token& op_token = tokens[misuse ? 3 : 2];
      // Blank out "thread N [misuse]" so the counter parser sees the operation at its own
      // columns.
      std::string padded(line);
      for (int c = 0; c < op_token.column - 1; ++c) padded[c] = ' ';
      absl::StatusOr<CounterOp> op = ParseCounterLine(padded, line_number);
      if (!op.ok()) return op.status();
      if (op->kind == CounterOpKind::kSet || op->kind == CounterOpKind::kExpect) {
        return SyntaxError(line_number, op_token.column,
                           absl::StrCat(Quoted(op_token.text),
                                        " cannot run in a thread; write it on its own line"));
      }
      if (misuse && op->kind != CounterOpKind::kGet && op->kind != CounterOpKind::kPut &&
          op->kind != CounterOpKind::kUnpin) {
        return SyntaxError(line_number, op_token.column,
                           absl::StrCat(Quoted(op_token.text),
                                        " is never misuse: 'misuse' marks get, put or unpin K"));
      }
      if (static_cast<int>(script.threads.size()) < *id) script.threads.resize(*id);
      script.threads[*id - 1].push_back(*std::move(op));
      if (misuse) {
        const int owner = script.misuse_thread();
        if (owner >= 0 && owner != *id - 1) {
          return SyntaxError(line_number, tokens[1].column,
                             absl::StrCat("misuse operations run in one thread (thread ", owner + 1,
                                          " has some): two racing misuses are outside what "
                                          "split_refcount.h promises"));
        }
        if (static_cast<int>(script.misuse.size()) < *id) script.misuse.resize(*id);
        script.misuse[*id - 1].resize(script.threads[*id - 1].size());
        script.misuse[*id - 1].back() = true;
      }
      if (*id > highest_thread) {
        highest_thread = *id;
        highest_thread_line = line_number;
      }
      continue;
    }
    absl::StatusOr<CounterOp> op = ParseCounterLine(line, line_number);
    if (!op.ok()) return op.status();
    if (op->kind == CounterOpKind::kExpect) {
      script.expects.push_back(*std::move(op));
    } else if (op->kind == CounterOpKind::kSet) {
      if (script.initial) return SyntaxError(line_number, verb.column, "only one 'set' is allowed");
      if (!script.threads.empty()) {
        return SyntaxError(line_number, verb.column,
                           "'set' must come before the first thread line");
      }
      script.initial = *std::move(op);
    } else {
      return SyntaxError(line_number, verb.column,
                         absl::StrCat(Quoted(verb.text), " outside a thread; write 'thread N ",
                                      Quoted(verb.text).substr(1)));
    }
  }
  if (script.threads.empty()) {
    return SyntaxError(line_number, 1,
                       "an interleave script needs at least one 'thread N OP' line");
  }
  for (std::size_t i = 0; i < script.threads.size(); ++i) {
    if (script.threads[i].empty()) {
      return SyntaxError(highest_thread_line, 1,
                         absl::StrCat("threads are numbered 1..N without gaps, but thread ", i + 1,
                                      " has no operations"));
    }
  }
  // One shape for a script with misuse: a flag per operation (so that equal scripts compare
  // equal whichever way they were built).
  if (!script.misuse.empty()) {
    script.misuse.resize(script.threads.size());
    for (std::size_t t = 0; t < script.threads.size(); ++t) {
      script.misuse[t].resize(script.threads[t].size());
    }
  }
  for (const ScheduleEntry& e : schedule) {
    if (e.id > highest_thread) {
      return SyntaxError(e.line, e.column,
                         absl::StrCat("schedule names thread ", e.id, ", but only threads 1..",
                                      highest_thread, " exist"));
    }
    script.schedule.push_back(e.id);
  }
  return script;
}

std::string FormatInterleaveScript(const InterleaveScript& script) {
  std::string out;
  if (script.initial) absl::StrAppend(&out, Format(*script.initial), "\n");
  for (std::size_t t = 0; t < script.threads.size(); ++t) {
    for (std::size_t i = 0; i < script.threads[t].size(); ++i) {
      absl::StrAppend(&out, "thread ", t + 1, script.is_misuse(t, i) ? " misuse " : " ",
                      Format(script.threads[t][i]), "\n");
    }
  }
  for (std::size_t i = 0; i < script.schedule.size(); i += 32) {
    out += "schedule";
    for (std::size_t j = i; j < script.schedule.size() && j < i + 32; ++j) {
      absl::StrAppend(&out, " ", script.schedule[j]);
    }
    out += "\n";
  }
  for (const CounterOp& op : script.expects) absl::StrAppend(&out, Format(op), "\n");
  return out;
}

}  // namespace pinsplit
