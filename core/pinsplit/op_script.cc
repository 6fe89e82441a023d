// SPDX-License-Identifier: MIT
#include "pinsplit/op_script.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pinsplit/script_lexer.h"

namespace pinsplit {
namespace {

std::optional<bool> ParseYesNo(absl::string_view text) {
  if (text == "yes") return true;
  if (text == "no") return false;
  return std::nullopt;
}

// Parses "key=value" tokens into a StateSpec; `allow_dead` is false for `set`.
absl::Status ParseSpec(const std::vector<Token>& tokens, std::size_t first, int line,
                       bool allow_dead, StateSpec& spec) {
  if (first == tokens.size()) {
    return SyntaxError(line, tokens.back().column,
                       "expected key=value pairs (refs, read, write, ...)");
  }
  for (std::size_t i = first; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    const std::size_t eq = t.text.find('=');
    if (eq == absl::string_view::npos) {
      return SyntaxError(line, t.column, absl::StrCat("expected key=value, got ", Quoted(t.text)));
    }
    const absl::string_view key = t.text.substr(0, eq);
    const absl::string_view value = t.text.substr(eq + 1);
    const int value_column = t.column + static_cast<int>(eq) + 1;
    auto number = [&](std::optional<std::uint32_t>& slot) -> absl::Status {
      if (slot) return SyntaxError(line, t.column, absl::StrCat(Quoted(key), " given twice"));
      absl::StatusOr<std::uint32_t> n = ParseNumber(line, Token{value, value_column}, key);
      if (!n.ok()) return n.status();
      slot = *n;
      return absl::OkStatus();
    };
    auto flag = [&](std::optional<bool>& slot) -> absl::Status {
      if (slot) return SyntaxError(line, t.column, absl::StrCat(Quoted(key), " given twice"));
      slot = ParseYesNo(value);
      if (!slot) {
        return SyntaxError(line, value_column,
                           absl::StrCat(Quoted(key), " needs yes or no, got ", Quoted(value)));
      }
      return absl::OkStatus();
    };
    absl::Status status;
    if (key == "refs") {
      status = number(spec.refs);
    } else if (key == "read") {
      status = number(spec.read);
    } else if (key == "write") {
      status = number(spec.write);
    } else if (key == "saturated") {
      status = flag(spec.saturated);
    } else if (key == "dead" && allow_dead) {
      status = flag(spec.dead);
    } else {
      status = SyntaxError(
          line, t.column,
          absl::StrCat("unknown key ", Quoted(key), "; expected refs, read, write, saturated",
                       allow_dead ? ", dead" : ""));
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

std::vector<absl::string_view> ResultsOf(CounterOpKind kind) {
  switch (kind) {
    case CounterOpKind::kGet:
    case CounterOpKind::kTryGet:
      return {"ok", "dead", "full"};
    case CounterOpKind::kPut:
    case CounterOpKind::kUnpin:
      return {"live", "last"};
    case CounterOpKind::kPin:
      return {"pinned", "full", "dead"};
    case CounterOpKind::kSet:
    case CounterOpKind::kExpect:
      break;
  }
  return {};
}

absl::StatusOr<CounterOp> ParseLine(const std::vector<Token>& tokens, int line) {
  CounterOp op;
  op.line = line;
  std::size_t end = tokens.size();
  // "=> RESULT" at the end.
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].text != "=>") continue;
    if (i + 1 == tokens.size()) return SyntaxError(line, tokens[i].column, "'=>' needs a result");
    if (i + 2 != tokens.size()) {
      return SyntaxError(line, tokens[i + 2].column, "'=>' takes exactly one result");
    }
    op.result = std::string(tokens[i + 1].text);
    end = i;
    break;
  }
  if (end == 0) return SyntaxError(line, tokens[0].column, "expected an operation before '=>'");
  const std::vector<Token> body(tokens.begin(), tokens.begin() + static_cast<long>(end));
  const Token& verb = body[0];

  auto arity = [&](std::size_t n) -> absl::Status {
    if (body.size() == n) return absl::OkStatus();
    if (body.size() > n) {
      return SyntaxError(line, body[n].column, absl::StrCat("unexpected ", Quoted(body[n].text)));
    }
    return SyntaxError(line, verb.column + static_cast<int>(verb.text.size()),
                       absl::StrCat(Quoted(verb.text), " needs ", n - 1, " argument(s)"));
  };
  absl::Status status;
  if (verb.text == "get" || verb.text == "try_get" || verb.text == "put") {
    op.kind = verb.text == "get"       ? CounterOpKind::kGet
              : verb.text == "try_get" ? CounterOpKind::kTryGet
                                       : CounterOpKind::kPut;
    status = arity(1);
  } else if (verb.text == "pin" || verb.text == "unpin") {
    op.kind = verb.text == "pin" ? CounterOpKind::kPin : CounterOpKind::kUnpin;
    status = arity(2);
    if (status.ok()) {
      if (body[1].text == "read") {
        op.pin = PinKind::kRead;
      } else if (body[1].text == "write") {
        op.pin = PinKind::kWrite;
      } else {
        status =
            SyntaxError(line, body[1].column,
                        absl::StrCat("expected 'read' or 'write', got ", Quoted(body[1].text)));
      }
    }
  } else if (verb.text == "set" || verb.text == "expect") {
    op.kind = verb.text == "set" ? CounterOpKind::kSet : CounterOpKind::kExpect;
    if (op.result)
      return SyntaxError(line, verb.column, absl::StrCat(Quoted(verb.text), " has no result"));
    status = ParseSpec(body, 1, line, op.kind == CounterOpKind::kExpect, op.spec);
  } else {
    return SyntaxError(line, verb.column,
                       absl::StrCat("unknown operation ", Quoted(verb.text),
                                    "; expected get, try_get, put, pin, unpin, set or expect"));
  }
  if (!status.ok()) return status;
  if (op.result) {
    const auto allowed = ResultsOf(op.kind);
    bool known = false;
    for (absl::string_view r : allowed) known = known || r == *op.result;
    if (!known) {
      return SyntaxError(line, tokens[end + 1].column,
                         absl::StrCat(Quoted(verb.text), " results are ",
                                      absl::StrJoin(allowed, ", "), "; got ", Quoted(*op.result)));
    }
  }
  return op;
}

}  // namespace

absl::StatusOr<CounterScript> ParseCounterScript(std::string_view text) {
  CounterScript script;
  absl::Status status =
      ForEachScriptLine(text, [&](int line, const std::vector<Token>& tokens) -> absl::Status {
        absl::StatusOr<CounterOp> op = ParseLine(tokens, line);
        if (!op.ok()) return op.status();
        script.ops.push_back(*std::move(op));
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return script;
}

std::string Format(const StateSpec& spec) {
  std::vector<std::string> parts;
  if (spec.refs) parts.push_back(absl::StrCat("refs=", *spec.refs));
  if (spec.read) parts.push_back(absl::StrCat("read=", *spec.read));
  if (spec.write) parts.push_back(absl::StrCat("write=", *spec.write));
  if (spec.saturated) parts.push_back(absl::StrCat("saturated=", *spec.saturated ? "yes" : "no"));
  if (spec.dead) parts.push_back(absl::StrCat("dead=", *spec.dead ? "yes" : "no"));
  return absl::StrJoin(parts, " ");
}

std::string Format(const CounterOp& op) {
  std::string out;
  switch (op.kind) {
    case CounterOpKind::kGet:
      out = "get";
      break;
    case CounterOpKind::kTryGet:
      out = "try_get";
      break;
    case CounterOpKind::kPut:
      out = "put";
      break;
    case CounterOpKind::kPin:
      out = absl::StrCat("pin ", std::string(to_string(op.pin)));
      break;
    case CounterOpKind::kUnpin:
      out = absl::StrCat("unpin ", std::string(to_string(op.pin)));
      break;
    case CounterOpKind::kSet:
      out = absl::StrCat("set ", Format(op.spec));
      break;
    case CounterOpKind::kExpect:
      out = absl::StrCat("expect ", Format(op.spec));
      break;
  }
  if (op.result) absl::StrAppend(&out, " => ", *op.result);
  return out;
}

}  // namespace pinsplit
