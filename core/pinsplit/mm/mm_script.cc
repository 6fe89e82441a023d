// SPDX-License-Identifier: MIT
#include "pinsplit/mm/mm_script.h"

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "pinsplit/mm/mm_model.h"
#include "pinsplit/script_lexer.h"

namespace pinsplit::mm {
namespace {

const std::set<absl::string_view>& Keywords() {
  static const auto* keywords = new std::set<absl::string_view>{
      "spawn", "fork", "map",     "unmap", "read", "write",  "protect", "pin",
      "unpin", "ref",  "drop",    "exit",  "as",   "ro",     "rw",      "longterm",
      "fast",  "get",  "try_get", "put",   "set",  "expect", "thread",  "schedule"};
  return *keywords;
}

enum class NameKind { kProcess, kPin, kRef };

// Parses one script, checking names as it goes: each is defined once (spawn, fork, `as`) before
// it is used, and used as what it names.
class MmParser {
 public:
  absl::Status Line(int line, const std::vector<Token>& all) {
    line_ = line;
    tokens_ = all;
    all_ = all;
    op_ = MmOp{};
    op_.line = line;
    if (absl::Status s = SplitResult(); !s.ok()) return s;
    if (absl::Status s = Dispatch(); !s.ok()) return s;
    if (absl::Status s = CheckResult(); !s.ok()) return s;
    script_.ops.push_back(op_);
    return absl::OkStatus();
  }

  MmScript Take() { return std::move(script_); }

 private:
  absl::Status Err(std::size_t token, absl::string_view what) const {
    const int column = token < tokens_.size()
                           ? tokens_[token].column
                           : tokens_.back().column + static_cast<int>(tokens_.back().text.size());
    return SyntaxError(line_, column, what);
  }

  absl::Status SplitResult() {
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      if (tokens_[i].text != "=>") continue;
      if (i + 1 == tokens_.size()) return Err(i, "'=>' needs a result");
      if (i + 2 != tokens_.size()) return Err(i + 2, "'=>' takes exactly one result");
      op_.result = std::string(tokens_[i + 1].text);
      result_column_ = i + 1;
      tokens_.resize(i);
      break;
    }
    if (tokens_.empty()) return SyntaxError(line_, 1, "expected an operation before '=>'");
    return absl::OkStatus();
  }

  absl::Status Arity(std::size_t n) const {
    if (tokens_.size() > n) {
      return Err(n, absl::StrCat("unexpected ", Quoted(tokens_[n].text)));
    }
    if (tokens_.size() < n) return Err(tokens_.size(), "missing argument");
    return absl::OkStatus();
  }

  absl::Status Define(std::size_t token, NameKind kind, std::string& out) {
    if (token >= tokens_.size()) return Err(token, "missing name");
    const absl::string_view name = tokens_[token].text;
    bool valid = absl::ascii_isalpha(static_cast<unsigned char>(name[0]));
    for (char c : name)
      valid = valid && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!valid) {
      return Err(token, absl::StrCat(Quoted(name),
                                     " is not a name (letters, digits, '_'; a letter first)"));
    }
    if (Keywords().contains(name)) return Err(token, absl::StrCat(Quoted(name), " is a keyword"));
    if (names_.contains(std::string(name))) {
      return Err(token, absl::StrCat(Quoted(name), " is already defined"));
    }
    names_[std::string(name)] = kind;
    out = std::string(name);
    return absl::OkStatus();
  }

  absl::Status Use(std::size_t token, NameKind kind, std::string& out) const {
    if (token >= tokens_.size()) return Err(token, "missing name");
    const std::string name(tokens_[token].text);
    auto it = names_.find(name);
    if (it == names_.end()) return Err(token, absl::StrCat(Quoted(name), " is not defined"));
    if (it->second != kind) {
      static constexpr const char* kWhat[] = {"a process", "a pin", "a reference"};
      return Err(token, absl::StrCat(Quoted(name), " is not ", kWhat[static_cast<int>(kind)]));
    }
    out = name;
    return absl::OkStatus();
  }

  // An address: a number in the process's address space.
  absl::Status Address(std::size_t token, std::uint32_t& out) const {
    if (token >= tokens_.size()) return Err(token, "missing address");
    absl::StatusOr<std::uint32_t> v =
        ParseNumber(line_, tokens_[token], "address", 0, kAddressSpace - 1);
    if (!v.ok()) return v.status();
    out = *v;
    return absl::OkStatus();
  }

  // A value stored or read: any script number (0 .. 2^32-1).
  absl::Status Value(std::size_t token, std::uint64_t& out) const {
    if (token >= tokens_.size()) return Err(token, "missing value");
    absl::StatusOr<std::uint32_t> v = ParseNumber(line_, tokens_[token], "value");
    if (!v.ok()) return v.status();
    out = *v;
    return absl::OkStatus();
  }

  absl::Status Dispatch() {
    const absl::string_view verb = tokens_[0].text;
    if (verb == "spawn") {
      op_.kind = MmOpKind::kSpawn;
      if (absl::Status s = Arity(2); !s.ok()) return s;
      return Define(1, NameKind::kProcess, op_.process);
    }
    if (verb == "fork") {
      op_.kind = MmOpKind::kFork;
      if (absl::Status s = Arity(3); !s.ok()) return s;
      if (absl::Status s = Use(1, NameKind::kProcess, op_.process); !s.ok()) return s;
      return Define(2, NameKind::kProcess, op_.name);
    }
    if (verb == "unpin" || verb == "drop") {
      op_.kind = verb == "unpin" ? MmOpKind::kUnpin : MmOpKind::kDrop;
      if (absl::Status s = Arity(2); !s.ok()) return s;
      return Use(1, verb == "unpin" ? NameKind::kPin : NameKind::kRef, op_.name);
    }
    auto it = names_.find(std::string(verb));
    if (it == names_.end()) {
      return Err(0, absl::StrCat(Quoted(verb),
                                 " is neither an operation (spawn, fork, unpin, drop) nor a "
                                 "defined process or pin"));
    }
    if (it->second == NameKind::kPin) return PinAccess();
    if (it->second == NameKind::kRef) {
      return Err(0, absl::StrCat("a reference only supports 'drop ", Quoted(verb).substr(1)));
    }
    op_.process = std::string(verb);
    return ProcessOp();
  }

  absl::Status PinAccess() {
    op_.name = std::string(tokens_[0].text);
    if (tokens_.size() < 2) return Err(1, "expected 'read' or 'write' after a pin");
    if (tokens_[1].text == "read") {
      op_.kind = MmOpKind::kPinRead;
      return Arity(2);
    }
    if (tokens_[1].text == "write") {
      op_.kind = MmOpKind::kPinWrite;
      if (absl::Status s = Arity(3); !s.ok()) return s;
      return Value(2, op_.value);
    }
    return Err(1, absl::StrCat("a pin supports 'read' and 'write', not ", Quoted(tokens_[1].text)));
  }

  absl::Status ProcessOp() {
    if (tokens_.size() < 2) return Err(1, "missing operation after a process name");
    const absl::string_view verb = tokens_[1].text;
    if (verb == "map") {
      op_.kind = MmOpKind::kMap;
      if (absl::Status s = Arity(3); !s.ok()) return s;
      const Token& range = tokens_[2];
      const std::size_t dots = range.text.find("..");
      const Token first{range.text.substr(0, dots), range.column};
      const Token last =
          dots == absl::string_view::npos
              ? first
              : Token{range.text.substr(dots + 2), range.column + static_cast<int>(dots) + 2};
      absl::StatusOr<std::uint32_t> a = ParseNumber(line_, first, "address", 0, kAddressSpace - 1);
      if (!a.ok()) return a.status();
      absl::StatusOr<std::uint32_t> b = ParseNumber(line_, last, "address", 0, kAddressSpace - 1);
      if (!b.ok()) return b.status();
      if (*a > *b) return Err(2, absl::StrCat("empty range ", Quoted(range.text)));
      op_.addr = *a;
      op_.last = *b;
      return absl::OkStatus();
    }
    if (verb == "unmap" || verb == "read") {
      op_.kind = verb == "unmap" ? MmOpKind::kUnmap : MmOpKind::kRead;
      if (absl::Status s = Arity(3); !s.ok()) return s;
      return Address(2, op_.addr);
    }
    if (verb == "write") {
      op_.kind = MmOpKind::kWrite;
      if (absl::Status s = Arity(4); !s.ok()) return s;
      if (absl::Status s = Address(2, op_.addr); !s.ok()) return s;
      return Value(3, op_.value);
    }
    if (verb == "protect") {
      op_.kind = MmOpKind::kProtect;
      if (absl::Status s = Arity(4); !s.ok()) return s;
      if (absl::Status s = Address(2, op_.addr); !s.ok()) return s;
      if (tokens_[3].text != "ro" && tokens_[3].text != "rw") {
        return Err(3, absl::StrCat("expected 'ro' or 'rw', got ", Quoted(tokens_[3].text)));
      }
      op_.writable = tokens_[3].text == "rw";
      return absl::OkStatus();
    }
    if (verb == "exit") {
      op_.kind = MmOpKind::kExit;
      return Arity(2);
    }
    if (verb == "ref") {
      op_.kind = MmOpKind::kRef;
      if (absl::Status s = Arity(5); !s.ok()) return s;
      if (absl::Status s = Address(2, op_.addr); !s.ok()) return s;
      if (tokens_[3].text != "as") return Err(3, "expected 'as NAME'");
      return Define(4, NameKind::kRef, op_.name);
    }
    if (verb == "pin") return PinOp();
    return Err(1, absl::StrCat("unknown process operation ", Quoted(verb),
                               "; expected map, unmap, read, write, protect, pin, ref or exit"));
  }

  absl::Status PinOp() {
    op_.kind = MmOpKind::kPin;
    std::size_t at = 2;
    if (at >= tokens_.size() || (tokens_[at].text != "read" && tokens_[at].text != "write")) {
      return Err(at, "expected 'read' or 'write'");
    }
    op_.pin = tokens_[at].text == "read" ? PinKind::kRead : PinKind::kWrite;
    ++at;
    for (; at < tokens_.size(); ++at) {
      if (tokens_[at].text == "longterm" && !op_.longterm) {
        op_.longterm = true;
      } else if (tokens_[at].text == "fast" && !op_.fast) {
        op_.fast = true;
      } else {
        break;
      }
    }
    if (absl::Status s = Address(at, op_.addr); !s.ok()) return s;
    if (at + 1 >= tokens_.size() || tokens_[at + 1].text != "as") {
      return Err(at + 1, "expected 'as NAME'");
    }
    if (absl::Status s = Define(at + 2, NameKind::kPin, op_.name); !s.ok()) return s;
    return Arity(at + 3);
  }

  absl::Status CheckResult() {
    if (!op_.result) return absl::OkStatus();
    const std::string& r = *op_.result;
    switch (op_.kind) {
      case MmOpKind::kRead:
      case MmOpKind::kPinRead: {
        // Stored in decimal, the form the replay prints, so `=> 0x10` matches a 16 read.
        absl::StatusOr<std::uint32_t> v =
            ParseNumber(line_, Token{r, all_[result_column_].column}, "a read's result");
        if (!v.ok()) return v.status();
        op_.result = absl::StrCat(*v);
        return absl::OkStatus();
      }
      case MmOpKind::kPin:
        if (r == "pinned" || r == "full") return absl::OkStatus();
        return Err(result_column_, absl::StrCat("pin results are pinned, full; got ", Quoted(r)));
      default:
        return Err(result_column_, "this operation has no result to assert");
    }
  }

  int line_ = 0;
  std::vector<Token> tokens_;
  std::vector<Token> all_;  // the line's tokens, `=> RESULT` included
  std::size_t result_column_ = 0;
  MmOp op_;
  MmScript script_;
  std::map<std::string, NameKind> names_;
};

}  // namespace

bool IsMmScript(std::string_view text) {
  bool first_is_spawn = false;
  ForEachScriptLine(text, [&](int, const std::vector<Token>& tokens) {
    first_is_spawn = tokens[0].text == "spawn";
    return absl::CancelledError();  // stop at the first operation
  }).IgnoreError();
  return first_is_spawn;
}

absl::StatusOr<MmScript> ParseMmScript(std::string_view text) {
  MmParser parser;
  absl::Status status = ForEachScriptLine(
      text, [&](int line, const std::vector<Token>& tokens) { return parser.Line(line, tokens); });
  if (!status.ok()) return status;
  return parser.Take();
}

std::string Format(const MmOp& op) {
  std::string out;
  switch (op.kind) {
    case MmOpKind::kSpawn:
      out = absl::StrCat("spawn ", op.process);
      break;
    case MmOpKind::kMap:
      out = op.addr == op.last ? absl::StrCat(op.process, " map ", op.addr)
                               : absl::StrCat(op.process, " map ", op.addr, "..", op.last);
      break;
    case MmOpKind::kUnmap:
      out = absl::StrCat(op.process, " unmap ", op.addr);
      break;
    case MmOpKind::kRead:
      out = absl::StrCat(op.process, " read ", op.addr);
      break;
    case MmOpKind::kWrite:
      out = absl::StrCat(op.process, " write ", op.addr, " ", op.value);
      break;
    case MmOpKind::kFork:
      out = absl::StrCat("fork ", op.process, " ", op.name);
      break;
    case MmOpKind::kProtect:
      out = absl::StrCat(op.process, " protect ", op.addr, op.writable ? " rw" : " ro");
      break;
    case MmOpKind::kPin:
      out = absl::StrCat(op.process, " pin ", op.pin == PinKind::kRead ? "read" : "write",
                         op.longterm ? " longterm" : "", op.fast ? " fast" : "", " ", op.addr,
                         " as ", op.name);
      break;
    case MmOpKind::kPinRead:
      out = absl::StrCat(op.name, " read");
      break;
    case MmOpKind::kPinWrite:
      out = absl::StrCat(op.name, " write ", op.value);
      break;
    case MmOpKind::kUnpin:
      out = absl::StrCat("unpin ", op.name);
      break;
    case MmOpKind::kRef:
      out = absl::StrCat(op.process, " ref ", op.addr, " as ", op.name);
      break;
    case MmOpKind::kDrop:
      out = absl::StrCat("drop ", op.name);
      break;
    case MmOpKind::kExit:
      out = absl::StrCat(op.process, " exit");
      break;
  }
  if (op.result) absl::StrAppend(&out, " => ", *op.result);
  return out;
}

}  // namespace pinsplit::mm
