// SPDX-License-Identifier: MIT
#include "pinsplit/budget/workload.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pinsplit/script_lexer.h"

namespace pinsplit::budget {
namespace {

bool IsName(absl::string_view text) {
  if (text.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(text[0]))) return false;
  for (char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

// A decimal number as written (digits, '.', exponent), sign included so that "-3" can be told
// apart from a word and reported as negative.
std::optional<double> ParseNumber(absl::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

class WorkloadParser {
 public:
  explicit WorkloadParser(Workload& out) : out_(out) {}

  absl::Status Line(int line, const std::vector<Token>& tokens) {
    line_ = line;
    tokens_ = &tokens;
    const absl::string_view head = tokens[0].text;
    if (head == "title") return Title();
    if (head == "pin" || head == "ordinary") return ClassHeader(head == "pin");
    if (head == "count" || head == "rate" || head == "hold_mean" || head == "multiplicity" ||
        head == "sources") {
      return NumberLine();
    }
    return Err(0, absl::StrCat("unknown key ", Quoted(head),
                               " (expected title, pin, ordinary, count, rate, hold_mean, "
                               "multiplicity or sources)"));
  }

  // Checks the last class once the file has ended.
  absl::Status Finish(int last_line) {
    if (absl::Status s = CloseClass(); !s.ok()) return s;
    if (out_.classes.empty()) {
      return SyntaxError(last_line, 1, "a workload needs at least one pin or ordinary class");
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Err(std::size_t token, absl::string_view what) const {
    const std::vector<Token>& t = *tokens_;
    const int column = token < t.size() ? t[token].column
                                        : t.back().column + static_cast<int>(t.back().text.size());
    return SyntaxError(line_, column, what);
  }

  absl::Status Title() {
    if (!out_.title.empty()) return Err(0, "a workload has one title");
    if (tokens_->size() < 2) return Err(1, "title needs text");
    std::vector<std::string> words;
    for (std::size_t i = 1; i < tokens_->size(); ++i) words.emplace_back((*tokens_)[i].text);
    out_.title = absl::StrJoin(words, " ");
    return absl::OkStatus();
  }

  absl::Status ClassHeader(bool pin) {
    if (absl::Status s = CloseClass(); !s.ok()) return s;
    const std::vector<Token>& t = *tokens_;
    if (t.size() < 2) return Err(1, "missing class name");
    if (!IsName(t[1].text)) {
      return Err(1, absl::StrCat(Quoted(t[1].text), " is not a name (letters, digits, '_', '-')"));
    }
    if (!names_.insert(std::string(t[1].text)).second) {
      return Err(1, absl::StrCat("class '", t[1].text, "' is defined twice"));
    }
    HolderClass c;
    c.name = std::string(t[1].text);
    c.line = line_;
    c.kind = ClassKind::kOrdinary;
    bool have_kind = false, have_term = false, have_hold = false;
    for (std::size_t i = 2; i < t.size(); ++i) {
      const absl::string_view token = t[i].text;
      const std::size_t eq = token.find('=');
      const absl::string_view key = token.substr(0, eq);
      const absl::string_view value = eq == absl::string_view::npos ? "" : token.substr(eq + 1);
      const int value_column = t[i].column + static_cast<int>(key.size()) + 1;
      auto bad_value = [&](absl::string_view expected) {
        return SyntaxError(
            line_, value_column,
            absl::StrCat("bad value '", value, "' for ", key, " (expected ", expected, ")"));
      };
      if (eq == absl::string_view::npos) {
        return Err(i, absl::StrCat("expected key=value, got '", token, "'"));
      }
      if (key == "kind" && pin && !have_kind) {
        have_kind = true;
        if (value == "read") {
          c.kind = ClassKind::kReadPin;
        } else if (value == "write") {
          c.kind = ClassKind::kWritePin;
        } else {
          return bad_value("read or write");
        }
      } else if (key == "term" && pin && !have_term) {
        have_term = true;
        if (value == "short") {
          c.term = Term::kShort;
        } else if (value == "long") {
          c.term = Term::kLong;
        } else {
          return bad_value("short or long");
        }
      } else if (key == "hold" && !have_hold) {
        have_hold = true;
        if (value == "exponential") {
          c.hold_distribution = HoldDistribution::kExponential;
        } else if (value == "deterministic") {
          c.hold_distribution = HoldDistribution::kDeterministic;
        } else if (value == "uniform") {
          c.hold_distribution = HoldDistribution::kUniform;
        } else {
          return bad_value("exponential, deterministic or uniform");
        }
      } else if (key == "kind" || key == "term" || key == "hold") {
        return Err(i, pin || key == "hold"
                          ? absl::StrCat(Quoted(key), " is given twice")
                          : absl::StrCat("an ordinary class takes no '", key, "'"));
      } else {
        return Err(i, absl::StrCat("unknown key ", Quoted(key), " (expected ",
                                   pin ? "kind, term or hold" : "hold", ")"));
      }
    }
    if (pin && !have_kind) return Err(t.size(), "a pin class needs kind=read or kind=write");
    if (pin && !have_term) return Err(t.size(), "a pin class needs term=short or term=long");
    current_ = c;
    open_ = true;
    return absl::OkStatus();
  }

  absl::Status NumberLine() {
    const std::vector<Token>& t = *tokens_;
    if (!open_) return Err(0, "a number belongs to a class: write `pin` or `ordinary` first");
    const absl::string_view key = t[0].text;
    if (key == "sources" && current_.kind == ClassKind::kOrdinary) {
      return Err(0, "sources belongs to pin classes (ordinary references are Poisson)");
    }
    SourcedNumber* slot = key == "count"       ? &current_.count
                          : key == "rate"      ? &current_.rate
                          : key == "hold_mean" ? &current_.hold_mean
                          : key == "sources"   ? &current_.sources
                                               : &current_.multiplicity;
    if (slot->present) {
      return Err(0, absl::StrCat("'", key, "' is given twice in class '", current_.name, "'"));
    }
    if (t.size() < 2) return Err(1, absl::StrCat("'", key, "' needs a number"));
    const std::optional<double> value = ParseNumber(t[1].text);
    if (!value.has_value()) return Err(1, absl::StrCat(Quoted(t[1].text), " is not a number"));
    if (*value < 0) return Err(1, absl::StrCat("negative ", key, " ", t[1].text));
    const bool integral = key == "count" || key == "multiplicity" || key == "sources";
    if (integral && std::floor(*value) != *value) {
      return Err(1, absl::StrCat(key, " must be a whole number, not ", t[1].text));
    }
    if (key == "hold_mean" && *value == 0) return Err(1, "hold_mean must be above 0 seconds");
    if ((key == "multiplicity" || key == "sources") && *value == 0) {
      return Err(1, absl::StrCat(key, " must be at least 1"));
    }
    if (integral && *value > kMaxFixedHolders) {
      return Err(1, absl::StrCat(key, " ", t[1].text,
                                 " is out of range: no 32-bit field holds more than 2147483647"));
    }
    if (t.size() < 3) {
      return Err(
          2, absl::StrCat("missing source tag after ", key, ": write source=CITATION or estimate"));
    }
    const absl::string_view tag = t[2].text;
    Provenance provenance;
    provenance.line = line_;
    if (tag == "estimate") {
      provenance.estimated = true;
    } else if (absl::StartsWith(tag, "source=") && tag.size() > 7) {
      provenance.source = std::string(tag.substr(7));
    } else {
      return Err(2,
                 absl::StrCat("bad source tag '", tag, "' (expected source=CITATION or estimate)"));
    }
    if (t.size() > 3)
      return Err(3, absl::StrCat("unexpected '", t[3].text, "' after the source tag"));
    slot->value = *value;
    slot->provenance = std::move(provenance);
    slot->present = true;
    if (current_.finite() && current_.Sources() > kMaxSources) {
      return Err(1, absl::StrCat("sources x multiplicity of class '", current_.name,
                                 "' is out of range: at most 65536"));
    }
    if (key == "count" || key == "multiplicity") {
      const double fixed = current_.count.present ? current_.count.value : 0.0;
      if (fixed * current_.Multiplicity() > kMaxFixedHolders) {
        return Err(1,
                   absl::StrCat("count x multiplicity of class '", current_.name,
                                "' is out of range: no 32-bit field holds more than 2147483647"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status CloseClass() {
    if (!open_) return absl::OkStatus();
    open_ = false;
    const HolderClass& c = current_;
    auto err = [&](absl::string_view what) {
      return SyntaxError(c.line, 1, absl::StrCat("class '", c.name, "': ", what));
    };
    if (c.count.present && (c.rate.present || c.hold_mean.present || c.sources.present)) {
      return err("give either count, or rate and hold_mean, not both");
    }
    if (!c.count.present && !(c.rate.present && c.hold_mean.present)) {
      return err(c.rate.present || c.hold_mean.present ? "an arrival process needs both rate and "
                                                         "hold_mean"
                                                       : "needs count, or rate and hold_mean");
    }
    out_.classes.push_back(c);
    return absl::OkStatus();
  }

  Workload& out_;
  int line_ = 0;
  const std::vector<Token>* tokens_ = nullptr;
  HolderClass current_;
  bool open_ = false;
  std::set<std::string> names_;
};

}  // namespace

bool Workload::Estimated() const {
  for (const SourcedNumber* n : Numbers()) {
    if (n->provenance.estimated) return true;
  }
  return false;
}

std::vector<const SourcedNumber*> Workload::Numbers() const {
  std::vector<const SourcedNumber*> out;
  for (const HolderClass& c : classes) {
    for (const SourcedNumber* n : {&c.count, &c.rate, &c.hold_mean, &c.multiplicity, &c.sources}) {
      if (n->present) out.push_back(n);
    }
  }
  return out;
}

absl::StatusOr<Workload> ParseWorkload(absl::string_view text, std::string name, std::string file) {
  Workload workload;
  workload.name = std::move(name);
  workload.file = std::move(file);
  WorkloadParser parser(workload);
  if (absl::Status s = ForEachScriptLine(
          std::string_view(text.data(), text.size()),
          [&](int line, const std::vector<Token>& tokens) { return parser.Line(line, tokens); });
      !s.ok()) {
    return s;
  }
  const int last_line = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  if (absl::Status s = parser.Finish(last_line); !s.ok()) return s;
  return workload;
}

}  // namespace pinsplit::budget
