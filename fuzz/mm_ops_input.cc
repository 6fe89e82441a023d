// SPDX-License-Identifier: MIT
#include "mm_ops_input.h"

#include <algorithm>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pinsplit {
namespace {

enum Code : std::uint8_t {
  kSpawn,
  kMap,
  kWrite,
  kRead,
  kFork,
  kPin,
  kPinIo,
  kUnpin,
  kRef,
  kDrop,
  kProtect,
  kUnmap,
  kExit,
  kCodes,
};

// Reads bytes in order; past the end every byte is 0.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return at_ >= bytes_.size(); }
  std::uint8_t next() { return at_ < bytes_.size() ? static_cast<std::uint8_t>(bytes_[at_++]) : 0; }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
};

// Names in creation order; removal keeps the order of the rest.
class NameList {
 public:
  explicit NameList(char prefix) : prefix_(prefix) {}
  const std::string& add() {
    std::string& name = names_.emplace_back(1, prefix_);
    absl::StrAppend(&name, next_++);
    return name;
  }
  void add(const std::string& name) { names_.push_back(name); }
  bool empty() const { return names_.empty(); }
  std::size_t size() const { return names_.size(); }
  const std::string& pick(std::uint8_t index) const { return names_[index % names_.size()]; }
  // Forgets every name and starts numbering again, keeping the list's capacity.
  void clear() {
    names_.clear();
    next_ = 0;
  }
  void remove(const std::string& name) {
    names_.erase(std::find(names_.begin(), names_.end(), name));
  }
  // Takes back the name add() just made, so that names stay dense: P0, P1, ... in the order
  // of the operations that really ran.
  void cancel_last() {
    names_.pop_back();
    --next_;
  }
  // Forgets the name add() just made but never hands it out again: it stands in the script
  // (a refused pin's `as h3 => full`), and a name is defined once.
  void retire_last() { names_.pop_back(); }
  std::optional<std::uint8_t> index_of(const std::string& name) const {
    auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end()) return std::nullopt;
    return static_cast<std::uint8_t>(it - names_.begin());
  }

 private:
  char prefix_;
  int next_ = 0;
  std::vector<std::string> names_;
};

// What an input runs on: one per policy and thread, built once and reset after each input,
// since building the model's arena costs more than running most inputs, and a reset session
// runs exactly as a new one. (Reset after, not before: an input then frees what it allocated,
// which is what libFuzzer's leak detection looks at.) The name lists keep their capacity from
// one input to the next, so that a typical input allocates nothing here.
struct Decoder {
  std::unique_ptr<mm::MmSession> session;
  NameList processes{'P'}, pins{'h'}, refs{'r'};
  absl::flat_hash_map<std::string, PinKind> pin_kinds;

  void reset() {
    session->Reset();
    processes.clear();
    pins.clear();
    refs.clear();
    pin_kinds.clear();
  }
};

absl::StatusOr<Decoder*> DecoderFor(const std::string& policy) {
  thread_local std::map<std::string, std::unique_ptr<Decoder>> decoders;
  auto it = decoders.find(policy);
  if (it != decoders.end()) return it->second.get();
  mm::MmOptions options;
  options.policy = policy;
  // Sized to what an input can use, so that no input ever meets a limit: each op allocates at
  // most kMmFuzzAddresses pages (a fork copying every address) and defines at most one pin or
  // reference.
  options.max_pages = kMmFuzzAddresses * kMaxMmOps;
  options.max_processes = kMmFuzzProcesses;
  options.max_handles = kMmFuzzHandles;
  absl::StatusOr<std::unique_ptr<mm::MmSession>> session = mm::MmSession::Create(options);
  if (!session.ok()) return session.status();
  auto decoder = std::make_unique<Decoder>();
  decoder->session = *std::move(session);
  return decoders.emplace(policy, std::move(decoder)).first->second.get();
}

}  // namespace

absl::Status RunMmOps(std::string_view bytes, const std::string& policy, MmOpsRun& run) {
  absl::StatusOr<Decoder*> decoder = DecoderFor(policy);
  if (!decoder.ok()) return decoder.status();
  mm::MmSession& session = *(*decoder)->session;
  NameList& processes = (*decoder)->processes;
  NameList& pins = (*decoder)->pins;
  NameList& refs = (*decoder)->refs;
  absl::flat_hash_map<std::string, PinKind>& pin_kinds = (*decoder)->pin_kinds;
  run.script.ops.clear();
  ByteReader in(bytes);
  std::string got;
  for (std::size_t i = 0; i < kMaxMmOps && !in.done(); ++i) {
    const std::uint8_t code = in.next() % kCodes;
    const std::uint64_t value = run.script.ops.size() + 1;  // the emitted index: canonical
    // Built in place; popped again when the op does not run.
    mm::MmOp& op = run.script.ops.emplace_back();
    op.line = static_cast<int>(value);
    // Operands first, so an op that finds nothing to act on still consumes the same bytes.
    const std::uint8_t a = in.next(), b = in.next(), c = in.next();
    auto process = [&]() -> bool {
      if (processes.empty()) return false;
      op.process = processes.pick(a);
      op.addr = b % kMmFuzzAddresses;
      op.last = op.addr;
      return true;
    };
    bool have = true;
    switch (code) {
      case kSpawn:
        op.kind = mm::MmOpKind::kSpawn;
        op.process = processes.add();
        break;
      case kMap:
        op.kind = mm::MmOpKind::kMap;
        have = process();
        break;
      case kWrite:
        op.kind = mm::MmOpKind::kWrite;
        have = process();
        op.value = value;
        break;
      case kRead:
        op.kind = mm::MmOpKind::kRead;
        have = process();
        break;
      case kFork:
        op.kind = mm::MmOpKind::kFork;
        have = process();
        op.name = processes.add();
        break;
      case kPin:
        op.kind = mm::MmOpKind::kPin;
        have = process();
        op.pin = (c & 1) != 0 ? PinKind::kWrite : PinKind::kRead;
        op.longterm = (c & 2) != 0;
        op.fast = (c & 4) != 0;
        op.name = pins.add();
        break;
      case kPinIo:
        if ((have = !pins.empty())) {
          op.name = pins.pick(a);
          const bool write = (b & 1) != 0 && pin_kinds[op.name] == PinKind::kWrite;
          op.kind = write ? mm::MmOpKind::kPinWrite : mm::MmOpKind::kPinRead;
          op.value = value;
        }
        break;
      case kUnpin:
        op.kind = mm::MmOpKind::kUnpin;
        if ((have = !pins.empty())) op.name = pins.pick(a);
        break;
      case kRef:
        op.kind = mm::MmOpKind::kRef;
        have = process();
        op.name = refs.add();
        break;
      case kDrop:
        op.kind = mm::MmOpKind::kDrop;
        if ((have = !refs.empty())) op.name = refs.pick(a);
        break;
      case kProtect:
        op.kind = mm::MmOpKind::kProtect;
        have = process();
        op.writable = (c & 1) != 0;
        break;
      case kUnmap:
        op.kind = mm::MmOpKind::kUnmap;
        have = process();
        break;
      case kExit:
        op.kind = mm::MmOpKind::kExit;
        have = process();
        break;
    }
    const bool defines = code == kSpawn || code == kFork || code == kPin || code == kRef;
    if (!have || !session.TryStep(op, &got).ok()) {
      if (defines) {
        // The name was reserved before the model refused: take it back.
        if (code == kSpawn || code == kFork) processes.cancel_last();
        if (code == kPin) pins.cancel_last();
        if (code == kRef) refs.cancel_last();
      }
      run.script.ops.pop_back();
      continue;
    }
    if (code == kPin && got == "full") {  // the seed's -EAGAIN: no handle to remember
      op.result = "full";
      pins.retire_last();
      continue;
    }
    if (code == kPin) pin_kinds[op.name] = op.pin;
    if (code == kUnpin) pins.remove(op.name);
    if (code == kDrop) refs.remove(op.name);
    if (code == kExit) processes.remove(op.process);
  }
  run.result = session.Finish();
  (*decoder)->reset();
  return absl::OkStatus();
}

absl::StatusOr<MmOpsRun> RunMmOps(std::string_view bytes, const std::string& policy) {
  MmOpsRun run;
  if (absl::Status s = RunMmOps(bytes, policy, run); !s.ok()) return s;
  return run;
}

std::string ViolationKind(std::string_view violation) {
  // "line N: KIND: detail"; no kind name holds a colon (violation_kind.h).
  if (violation.substr(0, 5) != "line ") return "";
  const std::size_t first = violation.find(": ");
  if (first == std::string_view::npos) return "";
  violation.remove_prefix(first + 2);
  const std::size_t second = violation.find(": ");
  if (second == std::string_view::npos) return "";
  return std::string(violation.substr(0, second));
}

std::vector<std::string> UnexpectedViolationKinds(const std::vector<std::string>& violations,
                                                  const std::string& policy) {
  absl::StatusOr<std::unique_ptr<mm::Policy>> made = mm::MakePolicy(policy);
  const std::span<const std::string_view> known =
      made.ok() ? (*made)->known_violations() : std::span<const std::string_view>();
  std::vector<std::string> out;
  for (const std::string& v : violations) {
    std::string kind = ViolationKind(v);
    if (kind.empty()) kind = "(unreadable)";
    if (std::find(known.begin(), known.end(), kind) != known.end()) continue;
    if (std::find(out.begin(), out.end(), kind) == out.end()) out.push_back(std::move(kind));
  }
  return out;
}

std::string FormatMmOpsRun(const MmOpsRun& run, const std::string& policy) {
  std::string out = absl::StrCat("# mm_ops input, decoded under policy ", policy,
                                 "\n# replay: pinsplit replay --policy=", policy, " FILE\n");
  if (!run.result.violations.empty()) {
    const std::vector<std::string> unexpected =
        UnexpectedViolationKinds(run.result.violations, policy);
    if (unexpected.empty()) {
      absl::StrAppend(&out, "# crash: expected (every violation is a known bug class of ", policy,
                      ")\n");
    } else {
      absl::StrAppend(&out, "# crash: unexpected (not a known bug class of ", policy, ": ",
                      absl::StrJoin(unexpected, ", "), ")\n");
    }
  }
  for (const std::string& v : run.result.violations)
    absl::StrAppend(&out, "# violation: ", v, "\n");
  for (const mm::MmOp& op : run.script.ops) absl::StrAppend(&out, Format(op), "\n");
  return out;
}

absl::StatusOr<std::string> EncodeMmOps(std::string_view script_text) {
  absl::StatusOr<mm::MmScript> script = mm::ParseMmScript(script_text);
  if (!script.ok()) return script.status();
  std::string bytes;
  NameList processes('P'), pins('h'), refs('r');
  std::map<std::string, PinKind> kinds;
  auto index = [&](const NameList& list, const std::string& name,
                   int line) -> absl::StatusOr<std::uint8_t> {
    std::optional<std::uint8_t> i = list.index_of(name);
    if (!i)
      return absl::InvalidArgumentError(absl::StrCat("line ", line, ": '", name, "' is not live"));
    return *i;
  };
  if (script->ops.size() > kMaxMmOps) {
    return absl::InvalidArgumentError(absl::StrCat("mm_ops inputs hold at most ", kMaxMmOps,
                                                   " operations; this script has ",
                                                   script->ops.size()));
  }
  for (const mm::MmOp& op : script->ops) {
    if (op.addr >= kMmFuzzAddresses || (op.kind == mm::MmOpKind::kMap && op.last != op.addr)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", op.line, ": mm_ops inputs use one address at a time, below ", kMmFuzzAddresses));
    }
    std::uint8_t code = 0, a = 0, b = static_cast<std::uint8_t>(op.addr), c = 0;
    auto proc = [&]() -> absl::Status {
      absl::StatusOr<std::uint8_t> i = index(processes, op.process, op.line);
      if (!i.ok()) return i.status();
      a = *i;
      return absl::OkStatus();
    };
    absl::Status status;
    switch (op.kind) {
      case mm::MmOpKind::kSpawn:
        code = kSpawn;
        processes.add(op.process);
        break;
      case mm::MmOpKind::kMap:
        code = kMap;
        status = proc();
        break;
      case mm::MmOpKind::kWrite:
        code = kWrite;
        status = proc();
        break;
      case mm::MmOpKind::kRead:
        code = kRead;
        status = proc();
        break;
      case mm::MmOpKind::kFork:
        code = kFork;
        status = proc();
        processes.add(op.name);
        break;
      case mm::MmOpKind::kPin:
        code = kPin;
        status = proc();
        c = static_cast<std::uint8_t>((op.pin == PinKind::kWrite ? 1 : 0) | (op.longterm ? 2 : 0) |
                                      (op.fast ? 4 : 0));
        if (op.result != "full") {
          pins.add(op.name);
          kinds[op.name] = op.pin;
        }
        break;
      case mm::MmOpKind::kPinRead:
      case mm::MmOpKind::kPinWrite: {
        code = kPinIo;
        absl::StatusOr<std::uint8_t> i = index(pins, op.name, op.line);
        if (!i.ok()) return i.status();
        a = *i;
        b = op.kind == mm::MmOpKind::kPinWrite ? 1 : 0;
        break;
      }
      case mm::MmOpKind::kUnpin:
      case mm::MmOpKind::kDrop: {
        const bool unpin = op.kind == mm::MmOpKind::kUnpin;
        code = unpin ? kUnpin : kDrop;
        NameList& list = unpin ? pins : refs;
        absl::StatusOr<std::uint8_t> i = index(list, op.name, op.line);
        if (!i.ok()) return i.status();
        a = *i;
        list.remove(op.name);
        break;
      }
      case mm::MmOpKind::kRef:
        code = kRef;
        status = proc();
        refs.add(op.name);
        break;
      case mm::MmOpKind::kProtect:
        code = kProtect;
        status = proc();
        c = op.writable ? 1 : 0;
        break;
      case mm::MmOpKind::kUnmap:
        code = kUnmap;
        status = proc();
        break;
      case mm::MmOpKind::kExit:
        code = kExit;
        status = proc();
        if (status.ok()) processes.remove(op.process);
        break;
    }
    if (!status.ok()) return status;
    if (processes.size() > kMmFuzzProcesses) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", op.line, ": mm_ops inputs run at most ", kMmFuzzProcesses, " live processes"));
    }
    if (pins.size() > kMmFuzzHandles || refs.size() > kMmFuzzHandles) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", op.line, ": mm_ops inputs hold at most ", kMmFuzzHandles,
                       " live pins and as many extra references"));
    }
    bytes += static_cast<char>(code);
    bytes += static_cast<char>(a);
    bytes += static_cast<char>(b);
    bytes += static_cast<char>(c);
  }
  return bytes;
}

}  // namespace pinsplit
