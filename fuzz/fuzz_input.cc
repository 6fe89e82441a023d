// SPDX-License-Identifier: MIT
#include "fuzz_input.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "deterministic_refcounts.h"
#include "interleave_replay.h"
#include "linearizability.h"
#include "misuse_recorder.h"
#include "mm_interleave_input.h"
#include "mm_ops_input.h"
#include "pinsplit/any_refcount.h"
#include "refcount_model.h"

namespace pinsplit {
namespace {

constexpr std::uint8_t kRawValue = 0xFF;
// Marks a `set` the annotated counter cannot hold: a comment to replay, an op to the encoder.
constexpr char kSkipMark[] = "#skip ";
constexpr std::uint8_t kSetCode = 7;

// Reads bytes front to back; past the end every byte is 0.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return at_ >= bytes_.size(); }
  std::uint8_t Next() { return done() ? 0 : static_cast<std::uint8_t>(bytes_[at_++]); }
  std::uint32_t Value() {
    const std::uint8_t v = Next();
    if (v != kRawValue) return BoundaryValues()[v % BoundaryValues().size()];
    std::uint32_t out = 0;
    for (int i = 0; i < 4; ++i) out |= std::uint32_t{Next()} << (8 * i);
    return out;
  }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
};

void PutValue(std::string& out, std::uint32_t value) {
  const auto& table = BoundaryValues();
  const auto it = std::find(table.begin(), table.end(), value);
  if (it != table.end()) {
    out.push_back(static_cast<char>(it - table.begin()));
    return;
  }
  out.push_back(static_cast<char>(kRawValue));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

CounterOp OpFromCode(std::uint8_t code) {
  CounterOp op;
  switch (code) {
    case 0:
      op.kind = CounterOpKind::kGet;
      break;
    case 1:
      op.kind = CounterOpKind::kTryGet;
      break;
    case 2:
      op.kind = CounterOpKind::kPut;
      break;
    case 3:
      op.kind = CounterOpKind::kPin;
      op.pin = PinKind::kRead;
      break;
    case 4:
      op.kind = CounterOpKind::kPin;
      op.pin = PinKind::kWrite;
      break;
    case 5:
      op.kind = CounterOpKind::kUnpin;
      op.pin = PinKind::kRead;
      break;
    case 6:
      op.kind = CounterOpKind::kUnpin;
      op.pin = PinKind::kWrite;
      break;
    default:
      op.kind = CounterOpKind::kSet;
      break;
  }
  return op;
}

std::uint8_t CodeOf(const CounterOp& op) {
  switch (op.kind) {
    case CounterOpKind::kGet:
      return 0;
    case CounterOpKind::kTryGet:
      return 1;
    case CounterOpKind::kPut:
      return 2;
    case CounterOpKind::kPin:
      return op.pin == PinKind::kRead ? 3 : 4;
    case CounterOpKind::kUnpin:
      return op.pin == PinKind::kRead ? 5 : 6;
    default:
      return kSetCode;
  }
}

StateSpec ReadSetArgs(ByteReader& in) {
  StateSpec spec;
  spec.refs = in.Value();
  spec.read = in.Value();
  spec.write = in.Value();
  if (in.Next() & 1) spec.saturated = true;
  return spec;
}

void PutSetArgs(std::string& out, const StateSpec& spec) {
  PutValue(out, spec.refs.value_or(0));
  PutValue(out, spec.read.value_or(0));
  PutValue(out, spec.write.value_or(0));
  out.push_back(spec.saturated.value_or(false) ? 1 : 0);
}

// The canonical `set` a decoded input shows: every field, saturated only when yes.
StateSpec CanonicalSet(const StateSpec& spec) {
  StateSpec s;
  s.refs = spec.refs.value_or(0);
  s.read = spec.read.value_or(0);
  s.write = spec.write.value_or(0);
  if (spec.saturated.value_or(false)) s.saturated = true;
  return s;
}

// The `expect` line that pins the model's state, through the scheme's eyes (see
// refcount_replay.h: bias checks read+write against its pin estimate, plain checks the sum).
StateSpec ExpectFor(const RefcountState& s, Scheme scheme) {
  StateSpec spec;
  spec.refs = s.refs;
  spec.read = scheme == Scheme::kSplit ? s.read_pins : s.pins;
  spec.write = scheme == Scheme::kSplit ? s.write_pins : 0;
  spec.saturated = s.saturated;
  spec.dead = s.dead;
  return spec;
}

Scheme SchemeOf(const Capabilities& caps) {
  if (caps.pin_kinds) return Scheme::kSplit;
  return caps.refuses_overflow ? Scheme::kBias : Scheme::kPlain;
}

std::string ReadableState(RefcountState s) {
  return absl::StrCat("refs=", s.refs, " read=", s.read_pins, " write=", s.write_pins,
                      " pins=", s.pins, " saturated=", s.saturated ? "yes" : "no",
                      " dead=", s.dead ? "yes" : "no");
}

std::string MisuseText(const std::vector<Misuse>& m) {
  if (m.empty()) return "none";
  std::vector<std::string> names;
  names.reserve(m.size());
  for (Misuse x : m) names.emplace_back(to_string(x));
  return absl::StrJoin(names, ",");
}

// The value of a `# impls: NAME` header line, if the script has one.
std::optional<std::string> ImplsHeader(std::string_view text) {
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&rest, "# impls:")) {
      std::vector<std::string> names = absl::StrSplit(rest, ' ', absl::SkipWhitespace());
      if (!names.empty()) return names[0];
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::string> CanonicalCounter(std::string_view impl) {
  absl::StatusOr<std::unique_ptr<AnyRefcount>> c = MakeDeterministicRefcount(impl);
  if (!c.ok()) return c.status();
  return std::string((*c)->name());
}

// --- codecs ---

absl::StatusOr<std::string> DecodeRefcountOpsText(std::string_view bytes,
                                                  const DecodeOptions& options) {
  const std::vector<CounterOp> ops = DecodeRefcountOps(bytes);
  std::string impl = options.impl;
  std::optional<std::string> difference;
  if (impl.empty()) {
    for (const std::string& name : CorrectRefcountNames()) {
      RefcountOpsOutcome o = RunRefcountOps(ops, name, false);
      if (o.difference) {
        impl = name;
        difference = o.difference;
        break;
      }
    }
    if (impl.empty()) impl = CorrectRefcountNames()[0];
  }
  absl::StatusOr<std::unique_ptr<AnyRefcount>> probe = MakeRefcount(impl);
  if (!probe.ok()) return probe.status();
  const std::string name((*probe)->name());
  RefcountOpsOutcome outcome = RunRefcountOps(ops, name, true);
  std::string out = absl::StrCat(
      "# refcount_ops input (", ops.size(), " operations), decoded for ", name,
      " by pinsplit decode --target=refcount_ops\n# impls: ", name,
      "\n# replay: pinsplit replay --impl=", name,
      " FILE\n# Each operation carries the sequential model's result and state; the fuzz target "
      "runs the same\n# operations on every counter and stops at the first difference.\n");
  if (outcome.difference) {
    absl::StrAppend(&out, "# fuzzer verdict on ", name, ": DIFFERENCE: ", *outcome.difference,
                    "\n");
  } else {
    absl::StrAppend(&out, "# fuzzer verdict on ", name, ": no difference\n");
  }
  absl::StrAppend(&out, outcome.annotated);
  return out;
}

absl::StatusOr<std::string> EncodeRefcountOpsText(std::string_view text,
                                                  const DecodeOptions& /*options*/) {
  std::string unmarked;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    absl::ConsumePrefix(&line, kSkipMark);
    absl::StrAppend(&unmarked, line, "\n");
  }
  absl::StatusOr<CounterScript> script = ParseCounterScript(unmarked);
  if (!script.ok()) return script.status();
  std::vector<CounterOp> ops;
  for (const CounterOp& op : script->ops) {
    if (op.kind != CounterOpKind::kExpect) ops.push_back(op);
  }
  if (ops.size() > kMaxRefcountOps) {
    return absl::InvalidArgumentError(
        absl::StrCat("refcount_ops inputs hold at most ", kMaxRefcountOps, " operations"));
  }
  return EncodeRefcountOps(ops);
}

absl::StatusOr<std::string> DecodeInterleaveText(std::string_view bytes,
                                                 const DecodeOptions& options) {
  InterleaveInput input = DecodeInterleave(bytes);
  std::string impl = options.impl.empty() ? InterleaveCounterOf(input) : options.impl;
  absl::StatusOr<std::string> name = CanonicalCounter(impl);
  if (!name.ok()) return name.status();
  std::string out = absl::StrCat(
      "# interleave input, decoded by pinsplit decode --target=interleave\n# impls: ", *name,
      "\n# replay: pinsplit replay --impl=", *name, " FILE\n");
  absl::StatusOr<std::unique_ptr<InterleaveRunner>> runner =
      InterleaveRunner::Create(input.script, *name);
  if (!runner.ok()) {
    // The counter cannot hold the initial state: the target skips such inputs.
    absl::StrAppend(&out, "# the target skips this input: ", runner.status().message(), "\n",
                    FormatInterleaveScript(input.script));
    return out;
  }
  PreferenceChooser chooser(input.script.schedule);
  const InterleaveRun run = (*runner)->Run(chooser);
  // Print the schedule actually taken: it replays the same run, and nothing unused.
  InterleaveScript shown = input.script;
  shown.schedule = run.schedule.choices;
  absl::StrAppend(&out, FormatInterleaveScript(shown), "# observed in this schedule:\n");
  for (const HistoryOp& h : run.history) absl::StrAppend(&out, "#   ", FormatHistoryOp(h), "\n");
  absl::StrAppend(&out, "#   final ", ReadableState(run.final_state), "\n");
  if (run.failures.empty()) {
    absl::StrAppend(&out, "# fuzzer verdict: linearizable\n");
  } else {
    for (const std::string& f : run.failures) absl::StrAppend(&out, "# fuzzer verdict: ", f, "\n");
  }
  return out;
}

absl::StatusOr<std::string> EncodeInterleaveText(std::string_view text,
                                                 const DecodeOptions& options) {
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(text);
  if (!script.ok()) return script.status();
  const std::size_t threads = script->threads.size();
  if (threads < 2 || threads > 4) {
    return absl::InvalidArgumentError("interleave inputs run 2 to 4 threads");
  }
  for (std::size_t t = 0; t < threads; ++t) {
    if (script->threads[t].size() > kMaxInterleaveOpsPerThread) {
      return absl::InvalidArgumentError(absl::StrCat("thread ", t + 1, " has more than ",
                                                     kMaxInterleaveOpsPerThread, " operations"));
    }
  }
  if (script->schedule.size() > kMaxSchedule) {
    return absl::InvalidArgumentError(
        absl::StrCat("interleave schedules hold at most ", kMaxSchedule, " entries"));
  }
  InterleaveInput input;
  input.script = *std::move(script);
  const int misuser = input.script.misuse_thread();
  if (misuser >= 0) {
    // The format's misuser is the last thread, running misuse operations only, each one of
    // MisuseChoices.
    const std::size_t last = threads - 1;
    const std::vector<CounterOp> choices = MisuseChoices(input.script);
    bool fits = static_cast<std::size_t>(misuser) == last;
    for (std::size_t i = 0; fits && i < input.script.threads[last].size(); ++i) {
      CounterOp op = input.script.threads[last][i];
      op.result.reset();
      op.line = 0;
      fits = input.script.is_misuse(last, i) &&
             std::find(choices.begin(), choices.end(), op) != choices.end();
    }
    if (!fits) {
      return absl::InvalidArgumentError(
          "interleave inputs carry misuse only in the last thread, every operation of it a "
          "misuse no correct thread could hide (fuzz_input.h)");
    }
    input.misuse = true;
  }
  std::optional<std::string> impl = options.impl.empty() ? ImplsHeader(text) : options.impl;
  if (impl) {
    absl::StatusOr<std::string> name = CanonicalCounter(*impl);
    if (!name.ok()) return name.status();
    const std::vector<std::string>& counters =
        input.misuse ? MisuseCounters() : InterleaveCounters();
    const auto it = std::find(counters.begin(), counters.end(), *name);
    if (it != counters.end()) input.counter_index = static_cast<std::size_t>(it - counters.begin());
  }
  return EncodeInterleave(input);
}

absl::StatusOr<std::string> DecodeMmOpsText(std::string_view bytes, const DecodeOptions& options) {
  const std::string policy = options.policy.empty() ? "split" : options.policy;
  absl::StatusOr<MmOpsRun> run = RunMmOps(bytes, policy);
  if (!run.ok()) return run.status();
  return FormatMmOpsRun(*run, policy);
}

absl::StatusOr<std::string> EncodeMmOpsText(std::string_view text, const DecodeOptions&) {
  return EncodeMmOps(text);
}

absl::StatusOr<std::string> DecodeMmInterleaveCodec(std::string_view bytes,
                                                    const DecodeOptions& options) {
  return DecodeMmInterleaveText(bytes, options.impl, options.policy);  // impl: the variant
}

absl::StatusOr<std::string> EncodeMmInterleaveCodec(std::string_view text, const DecodeOptions&) {
  return EncodeMmInterleaveText(text);
}

struct FuzzCodec {
  std::string_view target;
  absl::StatusOr<std::string> (*decode)(std::string_view bytes, const DecodeOptions& options);
  absl::StatusOr<std::string> (*encode)(std::string_view text, const DecodeOptions& options);
};

// One row per fuzz target. A new target adds its row and its two functions here.
constexpr FuzzCodec kCodecs[] = {
    {"refcount_ops", &DecodeRefcountOpsText, &EncodeRefcountOpsText},
    {"interleave", &DecodeInterleaveText, &EncodeInterleaveText},
    {"mm_ops", &DecodeMmOpsText, &EncodeMmOpsText},
    {"mm_interleave", &DecodeMmInterleaveCodec, &EncodeMmInterleaveCodec},
};

absl::StatusOr<const FuzzCodec*> FindCodec(std::string_view target) {
  for (const FuzzCodec& codec : kCodecs) {
    if (codec.target == target) return &codec;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown fuzz target '", std::string(target),
                   "'; known: ", absl::StrJoin(FuzzTargetsWithCodec(), ", ")));
}

}  // namespace

const std::vector<std::uint32_t>& BoundaryValues() {
  static const auto* values = [] {
    // Field maxima: refs of every ordinary width (24, 20, 16, 12 bits: 2^(O-2) - 1), pins of
    // every pin width (2..10 bits), bias's count and pin estimate, plain's 32 bits.
    const std::uint64_t maxima[] = {4194303, 262143,  16383,      1023,       3,
                                    7,       15,      31,         63,         255,
                                    1024,    2097151, 2147483647, 4294967295, 8191};
    std::set<std::uint32_t> set = {0, 1, 2, 3, 4};
    for (std::uint64_t m : maxima) {
      for (std::int64_t d = -1; d <= 1; ++d) {
        const std::int64_t v = static_cast<std::int64_t>(m) + d;
        if (v >= 0 && v <= 0xFFFFFFFFll) set.insert(static_cast<std::uint32_t>(v));
      }
    }
    // bias: one pin below its ceiling.
    set.insert(2147483647u - 1024u);
    return new std::vector<std::uint32_t>(set.begin(), set.end());
  }();
  return *values;
}

const std::vector<std::string>& InterleaveCounters() { return CorrectRefcountNames(); }

const std::string& InterleaveCounterOf(const InterleaveInput& input) {
  return input.misuse ? MisuseCounters()[input.counter_index]
                      : InterleaveCounters()[input.counter_index];
}

std::vector<std::string> FuzzTargetsWithCodec() {
  std::vector<std::string> names;
  for (const FuzzCodec& codec : kCodecs) names.emplace_back(codec.target);
  return names;
}

absl::StatusOr<std::string> DecodeFuzzInput(std::string_view target, std::string_view bytes,
                                            const DecodeOptions& options) {
  absl::StatusOr<const FuzzCodec*> codec = FindCodec(target);
  if (!codec.ok()) return codec.status();
  return (*codec)->decode(bytes, options);
}

absl::StatusOr<std::string> EncodeFuzzInput(std::string_view target, std::string_view script_text,
                                            const DecodeOptions& options) {
  absl::StatusOr<const FuzzCodec*> codec = FindCodec(target);
  if (!codec.ok()) return codec.status();
  return (*codec)->encode(script_text, options);
}

std::vector<CounterOp> DecodeRefcountOps(std::string_view bytes) {
  ByteReader in(bytes);
  std::vector<CounterOp> ops;
  while (!in.done() && ops.size() < kMaxRefcountOps) {
    CounterOp op = OpFromCode(in.Next() % 8);
    if (op.kind == CounterOpKind::kSet) op.spec = CanonicalSet(ReadSetArgs(in));
    ops.push_back(op);
  }
  return ops;
}

std::string EncodeRefcountOps(const std::vector<CounterOp>& ops) {
  std::string out;
  for (const CounterOp& op : ops) {
    if (op.kind == CounterOpKind::kExpect) continue;
    out.push_back(static_cast<char>(CodeOf(op)));
    if (op.kind == CounterOpKind::kSet) PutSetArgs(out, op.spec);
  }
  return out;
}

RefcountOpsOutcome RunRefcountOps(const std::vector<CounterOp>& ops, std::string_view impl,
                                  bool annotate) {
  absl::StatusOr<std::unique_ptr<AnyRefcount>> made = MakeRefcount(impl);
  if (!made.ok()) {
    RefcountOpsOutcome outcome;
    outcome.difference = std::string(made.status().message());
    return outcome;
  }
  return RunRefcountOps(ops, **made, annotate);
}

RefcountOpsOutcome RunRefcountOps(const std::vector<CounterOp>& ops, AnyRefcount& counter,
                                  bool annotate) {
  RefcountOpsOutcome outcome;
  RefcountModel model = ModelFor(counter);
  const Scheme scheme = SchemeOf(counter.capabilities());
  MisuseRecorder recorder;
  auto differ = [&](std::size_t index, const CounterOp& op, const std::string& what) {
    if (!outcome.difference) {
      outcome.difference = absl::StrCat("operation ", index + 1, " (", Format(op), "): ", what);
    }
  };
  // Every predicate the kernel decides with, after every operation, against the model.
  auto check_predicates = [&](std::size_t index, const CounterOp& op) {
    if (const std::string lies = model.predicate_differences(counter); !lies.empty()) {
      differ(index, op, absl::StrCat("predicates: ", lies));
    }
  };
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const CounterOp& op = ops[i];
    if (op.kind == CounterOpKind::kExpect) continue;
    if (op.kind == CounterOpKind::kSet) {
      const StateSpec& s = op.spec;
      const bool counter_ok = counter.reset(s.refs.value_or(0), s.read.value_or(0),
                                            s.write.value_or(0), s.saturated.value_or(false));
      const bool model_ok = model.reset(s.refs.value_or(0), s.read.value_or(0), s.write.value_or(0),
                                        s.saturated.value_or(false));
      recorder.take();
      if (counter_ok != model_ok) {
        differ(i, op,
               absl::StrCat("the counter ", counter_ok ? "accepted" : "refused",
                            " the state, the model ", model_ok ? "accepted" : "refused", " it"));
      }
      if (counter_ok && model_ok) check_predicates(i, op);
      if (annotate) {
        absl::StrAppend(&outcome.annotated, model_ok ? "" : kSkipMark, Format(op),
                        model_ok ? "\n" : "    # this counter cannot hold it\n");
      }
    } else {
      const std::string got = ApplyCounterOp(counter, op).value_or("");
      const std::string want = ApplyToModel(model, op);
      const std::vector<Misuse> reported = recorder.take();
      std::vector<Misuse> expected;
      if (model.misuse()) expected.push_back(*model.misuse());
      if (got != want) differ(i, op, absl::StrCat("result ", got, ", model says ", want));
      if (reported != expected) {
        differ(i, op,
               absl::StrCat("misuse reported: ", MisuseText(reported), ", model says ",
                            MisuseText(expected)));
      }
      const RefcountState state = counter.state();
      if (!model.matches(state)) {
        differ(i, op,
               absl::StrCat("state ", ReadableState(state), ", model says ",
                            ReadableState(model.state())));
      }
      check_predicates(i, op);
      if (annotate) {
        CounterOp shown = op;
        shown.result = want;
        CounterOp expect;
        expect.kind = CounterOpKind::kExpect;
        expect.spec = ExpectFor(model.state(), scheme);
        absl::StrAppend(
            &outcome.annotated, Format(shown),
            expected.empty() ? "" : absl::StrCat("    # misuse: ", MisuseText(expected)), "\n",
            Format(expect), "\n");
      }
    }
    if (outcome.difference && !annotate) break;
  }
  return outcome;
}

const std::vector<std::string>& MisuseCounters() {
  static const auto* names = [] {
    auto* out = new std::vector<std::string>;
    for (const std::string& n : InterleaveCounters()) {
      if (absl::StartsWith(n, "split")) out->push_back(n);
    }
    return out;
  }();
  return *names;
}

std::vector<CounterOp> MisuseChoices(const InterleaveScript& script) {
  // What the correct threads (all but the last) may hold: dealt at the start or taken.
  bool refs = false, read = false, write = false;
  bool saturated = false;
  if (script.initial) {
    const StateSpec& s = script.initial->spec;
    saturated = s.saturated.value_or(false);
    refs = s.refs.value_or(0) > 0 || saturated;
    read = s.read.value_or(0) > 0;
    write = s.write.value_or(0) > 0;
  } else {
    refs = true;  // the default start: one reference
  }
  for (std::size_t t = 0; t + 1 < script.threads.size(); ++t) {
    for (const CounterOp& op : script.threads[t]) {
      refs |= op.kind == CounterOpKind::kGet || op.kind == CounterOpKind::kTryGet;
      read |= op.kind == CounterOpKind::kPin && op.pin == PinKind::kRead;
      write |= op.kind == CounterOpKind::kPin && op.pin == PinKind::kWrite;
    }
  }
  std::vector<CounterOp> out;
  out.push_back(OpFromCode(0));                          // get
  if (!refs || saturated) out.push_back(OpFromCode(2));  // put
  if (!read) out.push_back(OpFromCode(5));               // unpin read
  if (!write) out.push_back(OpFromCode(6));              // unpin write
  return out;
}

InterleaveInput DecodeInterleave(std::string_view bytes) {
  ByteReader in(bytes);
  InterleaveInput input;
  const std::uint8_t counter = in.Next();
  const std::uint8_t threads_byte = in.Next();
  const int threads = 2 + threads_byte % 3;
  const bool misuse = threads_byte / 3 % 2 == 1;
  input.counter_index =
      misuse ? counter % MisuseCounters().size() : counter % InterleaveCounters().size();
  input.misuse = misuse;
  if (in.Next() % 2 == 1) {
    CounterOp set;
    set.kind = CounterOpKind::kSet;
    set.spec = CanonicalSet(ReadSetArgs(in));
    input.script.initial = set;
  }
  input.script.threads.resize(threads);
  for (int t = 0; t < threads; ++t) {
    const int len = 1 + static_cast<int>(in.Next() % kMaxInterleaveOpsPerThread);
    input.script.threads[t].reserve(len);
    if (misuse && t == threads - 1) {
      // The misuser: every operation a misuse no counter could miss (MisuseChoices).
      const std::vector<CounterOp> choices = MisuseChoices(input.script);
      for (int i = 0; i < len; ++i) {
        input.script.threads[t].push_back(choices[in.Next() % choices.size()]);
      }
      input.script.misuse.resize(threads);
      for (int u = 0; u < threads; ++u) {
        input.script.misuse[u].assign(input.script.threads[u].size(), u == threads - 1);
      }
      continue;
    }
    for (int i = 0; i < len; ++i) input.script.threads[t].push_back(OpFromCode(in.Next() % 7));
  }
  input.script.schedule.reserve(std::min(kMaxSchedule, bytes.size()));
  while (!in.done() && input.script.schedule.size() < kMaxSchedule) {
    input.script.schedule.push_back(in.Next() % threads + 1);
  }
  return input;
}

std::string EncodeInterleave(const InterleaveInput& input) {
  std::string out;
  const std::size_t threads = input.script.threads.size();
  out.push_back(static_cast<char>(input.counter_index));
  out.push_back(static_cast<char>(threads - 2 + (input.misuse ? 3 : 0)));
  if (input.script.initial) {
    out.push_back(1);
    PutSetArgs(out, input.script.initial->spec);
  } else {
    out.push_back(0);
  }
  for (std::size_t t = 0; t < threads; ++t) {
    const auto& ops = input.script.threads[t];
    out.push_back(static_cast<char>(ops.size() - 1));
    if (input.misuse && t + 1 == threads) {
      const std::vector<CounterOp> choices = MisuseChoices(input.script);
      for (const CounterOp& op : ops) {
        const auto it = std::find_if(choices.begin(), choices.end(), [&](const CounterOp& c) {
          return c.kind == op.kind && c.pin == op.pin;
        });
        out.push_back(static_cast<char>(it == choices.end() ? 0 : it - choices.begin()));
      }
      continue;
    }
    for (const CounterOp& op : ops) out.push_back(static_cast<char>(CodeOf(op)));
  }
  for (int id : input.script.schedule) out.push_back(static_cast<char>(id - 1));
  return out;
}

}  // namespace pinsplit
