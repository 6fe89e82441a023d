// SPDX-License-Identifier: MIT
#include "mm_interleave_input.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace pinsplit {
namespace {

constexpr const char* kPolicies[] = {"split", "anon-exclusive"};
constexpr int kOpKinds = 7;  // the first format's kinds: OP % 42 < 42 codes them as before
constexpr int kNewOpKinds = kMmThreadOpKinds - kOpKinds;
constexpr int kOldCodes = kOpKinds * 3 * 2;                 // 42
constexpr int kAllCodes = kOldCodes + kNewOpKinds * 3 * 2;  // 102
constexpr int kProcesses = 3;
constexpr int kAddresses = 2;

struct OpName {
  MmThreadOpKind kind;
  const char* name;
  bool process;
  bool addr;
};
constexpr OpName kOpNames[] = {
    {MmThreadOpKind::kPinRead, "pin-read", true, true},
    {MmThreadOpKind::kPinWrite, "pin-write", true, true},
    {MmThreadOpKind::kFork, "fork", true, false},
    {MmThreadOpKind::kUnmap, "unmap", true, true},
    {MmThreadOpKind::kWrite, "write", true, true},
    {MmThreadOpKind::kUnpin, "unpin", false, false},
    {MmThreadOpKind::kExit, "exit", true, false},
    {MmThreadOpKind::kProtectRo, "protect-ro", true, true},
    {MmThreadOpKind::kProtectRw, "protect-rw", true, true},
    {MmThreadOpKind::kRef, "ref", true, true},
    {MmThreadOpKind::kDrop, "drop", false, false},
    {MmThreadOpKind::kPinSlowRead, "pin-slow-read", true, true},
    {MmThreadOpKind::kPinSlowWrite, "pin-slow-write", true, true},
    {MmThreadOpKind::kPinShortRead, "pin-short-read", true, true},
    {MmThreadOpKind::kPinShortWrite, "pin-short-write", true, true},
    {MmThreadOpKind::kRead, "read", true, true},
    {MmThreadOpKind::kReadPin, "read-pin", false, false},
};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == kMmThreadOpKinds);

const OpName& NameOf(MmThreadOpKind kind) { return kOpNames[static_cast<int>(kind)]; }

std::string OpText(const MmThreadOp& op) {
  const OpName& n = NameOf(op.kind);
  std::string s = n.name;
  if (n.process) absl::StrAppend(&s, " p", op.process);
  if (n.addr) absl::StrAppend(&s, " ", op.addr);
  return s;
}

class Bytes {
 public:
  explicit Bytes(std::string_view b) : b_(b) {}
  int Next() { return pos_ < b_.size() ? static_cast<unsigned char>(b_[pos_++]) : 0; }
  bool done() const { return pos_ >= b_.size(); }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

absl::Status ErrorAt(int line, int column, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ", column ", column, ": ", what));
}

// Cached runners: one model per policy and variant, reset for every input.
absl::StatusOr<MmInterleaveRunner*> RunnerFor(const std::string& policy, MmModelVariant variant) {
  static auto* runners =
      new std::map<std::pair<std::string, int>, std::unique_ptr<MmInterleaveRunner>>();
  auto key = std::make_pair(policy, static_cast<int>(variant));
  auto it = runners->find(key);
  if (it == runners->end()) {
    absl::StatusOr<std::unique_ptr<MmInterleaveRunner>> r =
        MmInterleaveRunner::Create(policy, variant);
    if (!r.ok()) return r.status();
    it = runners->emplace(key, *std::move(r)).first;
  }
  return it->second.get();
}

}  // namespace

MmInterleaveInput DecodeMmInterleave(std::string_view bytes) {
  Bytes in(bytes);
  MmInterleaveInput input;
  input.program.policy = kPolicies[in.Next() % 2];
  const int flags = in.Next();
  input.program.prefork = (flags & 1) != 0;
  const int threads = 2 + (flags >> 1) % 2;
  for (int t = 0; t < threads; ++t) {
    const int count = 1 + in.Next() % 3;
    std::vector<MmThreadOp> ops;
    for (int i = 0; i < count; ++i) {
      const int code = in.Next() % kAllCodes;
      const bool old = code < kOldCodes;
      const int c = old ? code : code - kOldCodes;
      const int kinds = old ? kOpKinds : kNewOpKinds;
      ops.push_back({static_cast<MmThreadOpKind>((old ? 0 : kOpKinds) + c % kinds),
                     c / kinds % kProcesses,
                     static_cast<mm::Addr>(c / (kinds * kProcesses) % kAddresses)});
    }
    input.program.threads.push_back(std::move(ops));
  }
  while (!in.done() && input.schedule.size() < kMaxMmSchedule) {
    input.schedule.push_back(in.Next() % threads + 1);
  }
  return input;
}

std::string EncodeMmInterleave(const MmInterleaveInput& input) {
  std::string out;
  out.push_back(input.program.policy == "anon-exclusive" ? 1 : 0);
  const int threads = static_cast<int>(input.program.threads.size());
  out.push_back(static_cast<char>((input.program.prefork ? 1 : 0) | ((threads - 2) << 1)));
  for (const auto& ops : input.program.threads) {
    out.push_back(static_cast<char>(ops.size() - 1));
    for (const MmThreadOp& op : ops) {
      const int kind = static_cast<int>(op.kind);
      const bool old = kind < kOpKinds;
      const int kinds = old ? kOpKinds : kNewOpKinds;
      out.push_back(static_cast<char>((old ? 0 : kOldCodes) + (old ? kind : kind - kOpKinds) +
                                      kinds * op.process +
                                      kinds * kProcesses * static_cast<int>(op.addr)));
    }
  }
  for (int choice : input.schedule) out.push_back(static_cast<char>(choice - 1));
  return out;
}

bool LooksLikeMmInterleaveScript(std::string_view std_text) {
  const absl::string_view text(std_text.data(), std_text.size());
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    return absl::StartsWith(line, "mm-interleave");
  }
  return false;
}

absl::StatusOr<MmInterleaveInput> ParseMmInterleaveScript(std::string_view std_text) {
  const absl::string_view text(std_text.data(), std_text.size());
  MmInterleaveInput input;
  bool header = false;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    const absl::string_view line = absl::StripAsciiWhitespace(raw);
    const int indent = static_cast<int>(raw.find_first_not_of(" \t")) + 1;
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (!header) {
      if (words[0] != "mm-interleave" || words.size() != 3) {
        return ErrorAt(line_no, indent, "expected 'mm-interleave POLICY VARIANT'");
      }
      if (words[1] != "split" && words[1] != "anon-exclusive") {
        return ErrorAt(line_no, indent, "policy must be split or anon-exclusive");
      }
      input.program.policy = std::string(words[1]);
      absl::StatusOr<MmModelVariant> v = ParseVariant(std::string(words[2]));
      if (!v.ok()) return ErrorAt(line_no, indent, std::string(v.status().message()));
      input.variant = *v;
      header = true;
    } else if (words[0] == "prefork" && words.size() == 1) {
      input.program.prefork = true;
    } else if (words[0] == "thread") {
      const std::size_t colon = line.find(':');
      int id = 0;
      if (colon == absl::string_view::npos ||
          !absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(6, colon - 6)), &id) ||
          id != static_cast<int>(input.program.threads.size()) + 1 || id > 3) {
        return ErrorAt(line_no, indent, "expected 'thread N:' with N the next of 1..3");
      }
      std::vector<MmThreadOp> ops;
      for (absl::string_view op_text : absl::StrSplit(line.substr(colon + 1), ',')) {
        const int column = indent + static_cast<int>(op_text.data() - line.data());
        std::vector<absl::string_view> t = absl::StrSplit(op_text, ' ', absl::SkipEmpty());
        if (t.empty()) return ErrorAt(line_no, column, "empty operation");
        const OpName* name = nullptr;
        for (const OpName& n : kOpNames) {
          if (t[0] == n.name) name = &n;
        }
        if (name == nullptr) {
          return ErrorAt(line_no, column,
                         absl::StrCat("unknown operation '", std::string(t[0]), "'"));
        }
        const std::size_t want = 1 + name->process + name->addr;
        if (t.size() != want) {
          return ErrorAt(line_no, column,
                         absl::StrCat(name->name, " takes ", want - 1, " argument(s)"));
        }
        MmThreadOp op{name->kind, 0, 0};
        if (name->process) {
          int p = -1;
          if (t[1].size() < 2 || t[1][0] != 'p' || !absl::SimpleAtoi(t[1].substr(1), &p) || p < 0 ||
              p >= kProcesses) {
            return ErrorAt(line_no, column, "process must be p0, p1 or p2");
          }
          op.process = p;
        }
        if (name->addr) {
          int a = -1;
          if (!absl::SimpleAtoi(t[2], &a) || a < 0 || a >= kAddresses) {
            return ErrorAt(line_no, column, "address must be 0 or 1");
          }
          op.addr = static_cast<mm::Addr>(a);
        }
        ops.push_back(op);
      }
      if (ops.size() > 3) return ErrorAt(line_no, indent, "at most 3 operations per thread");
      input.program.threads.push_back(std::move(ops));
    } else if (words[0] == "schedule") {
      for (std::size_t i = 1; i < words.size(); ++i) {
        int c = 0;
        if (!absl::SimpleAtoi(words[i], &c) || c < 1 || c > 3) {
          return ErrorAt(line_no, indent + static_cast<int>(words[i].data() - line.data()),
                         "a schedule entry is a thread number 1..3");
        }
        input.schedule.push_back(c);
      }
    } else {
      return ErrorAt(line_no, indent, absl::StrCat("unexpected '", std::string(words[0]), "'"));
    }
  }
  if (!header) return ErrorAt(line_no, 1, "no 'mm-interleave POLICY VARIANT' line");
  if (input.schedule.size() > kMaxMmSchedule) {
    return ErrorAt(line_no, 1,
                   absl::StrCat("the schedule holds at most ", kMaxMmSchedule,
                                " entries (the fuzz format's limit)"));
  }
  if (input.program.threads.size() < 2) return ErrorAt(line_no, 1, "needs 2 or 3 threads");
  for (int c : input.schedule) {
    if (c > static_cast<int>(input.program.threads.size())) {
      return ErrorAt(
          line_no, 1,
          absl::StrCat("schedule names thread ", c, " of ", input.program.threads.size()));
    }
  }
  return input;
}

std::string FormatMmInterleaveScript(const MmInterleaveInput& input) {
  std::string out = absl::StrCat("mm-interleave ", input.program.policy, " ",
                                 std::string(VariantName(input.variant)), "\n");
  if (input.program.prefork) out += "prefork\n";
  for (std::size_t t = 0; t < input.program.threads.size(); ++t) {
    std::vector<std::string> ops;
    for (const MmThreadOp& op : input.program.threads[t]) ops.push_back(OpText(op));
    absl::StrAppend(&out, "thread ", t + 1, ": ", absl::StrJoin(ops, ", "), "\n");
  }
  absl::StrAppend(&out, "schedule ", absl::StrJoin(input.schedule, " "), "\n");
  return out;
}

absl::StatusOr<MmRunVerdict> RunMmInterleave(const MmInterleaveInput& input) {
  absl::StatusOr<MmInterleaveRunner*> runner = RunnerFor(input.program.policy, input.variant);
  if (!runner.ok()) return runner.status();
  PreferenceChooser chooser(input.schedule);
  return (*runner)->Run(input.program, chooser);
}

absl::StatusOr<std::string> DecodeMmInterleaveText(std::string_view bytes,
                                                   const std::string& variant,
                                                   const std::string& policy) {
  MmInterleaveInput input = DecodeMmInterleave(bytes);
  if (!variant.empty()) {
    absl::StatusOr<MmModelVariant> v = ParseVariant(variant);
    if (!v.ok()) return v.status();
    input.variant = *v;
  }
  if (!policy.empty()) {
    if (policy != "split" && policy != "anon-exclusive") {
      return absl::InvalidArgumentError("mm_interleave runs split or anon-exclusive");
    }
    input.program.policy = policy;
  }
  absl::StatusOr<MmRunVerdict> verdict = RunMmInterleave(input);
  if (!verdict.ok()) return verdict.status();
  input.schedule = verdict->choices;
  std::string out =
      "# mm_interleave input: threads race on the mm model under the deterministic scheduler\n"
      "# replay: pinsplit replay FILE\n";
  out += FormatMmInterleaveScript(input);
  absl::StrAppend(&out, "# ", verdict->steps, " steps, ", verdict->fast_pins, " GUP-fast pin(s)\n");
  if (verdict->violations.empty()) out += "# verdict: no violation\n";
  for (const std::string& v : verdict->violations) absl::StrAppend(&out, "# violation: ", v, "\n");
  return out;
}

absl::StatusOr<std::string> EncodeMmInterleaveText(std::string_view text) {
  absl::StatusOr<MmInterleaveInput> input = ParseMmInterleaveScript(text);
  if (!input.ok()) return input.status();
  return EncodeMmInterleave(*input);
}

absl::StatusOr<std::optional<std::string>> MmInterleaveVerdict(std::string_view bytes,
                                                               const std::string& variant) {
  MmInterleaveInput input = DecodeMmInterleave(bytes);
  if (!variant.empty()) {
    absl::StatusOr<MmModelVariant> v = ParseVariant(variant);
    if (!v.ok()) return v.status();
    input.variant = *v;
  }
  absl::StatusOr<MmRunVerdict> verdict = RunMmInterleave(input);
  if (!verdict.ok()) return verdict.status();
  if (verdict->violations.empty()) return std::optional<std::string>();
  input.schedule = verdict->choices;
  std::string out = "mm_interleave: a violation; the input decodes to:\n";
  out += FormatMmInterleaveScript(input);
  for (const std::string& v : verdict->violations) absl::StrAppend(&out, "# violation: ", v, "\n");
  return std::optional<std::string>(std::move(out));
}

absl::StatusOr<bool> ReplayMmInterleaveScript(std::string_view text, std::ostream* out) {
  absl::StatusOr<MmInterleaveInput> input = ParseMmInterleaveScript(text);
  if (!input.ok()) return input.status();
  absl::StatusOr<MmInterleaveRunner*> runner = RunnerFor(input->program.policy, input->variant);
  if (!runner.ok()) return runner.status();
  std::vector<std::string> events;
  (*runner)->set_event_log(out != nullptr ? &events : nullptr);
  PreferenceChooser chooser(input->schedule);
  absl::StatusOr<MmRunVerdict> verdict = (*runner)->Run(input->program, chooser);
  (*runner)->set_event_log(nullptr);
  if (out != nullptr) {
    for (const std::string& e : events) *out << "  model: " << e << "\n";
    *out << "mm-interleave " << input->program.policy << " " << VariantName(input->variant) << ": "
         << verdict->steps << " steps, " << verdict->choices.size() << " decisions, "
         << verdict->fast_pins << " GUP-fast pin(s)\n";
    for (const std::string& v : verdict->violations) *out << "violation: " << v << "\n";
    *out << (verdict->violations.empty() ? "PASS" : "FAIL") << "\n";
  }
  return verdict->violations.empty();
}

}  // namespace pinsplit
