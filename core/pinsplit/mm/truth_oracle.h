// TruthOracle: what every process and every pin should see, kept apart from any policy, and the
// checks that compare it with what the model did.
//
// It is told each operation that succeeded (on_*) and keeps each process's logical memory and
// each pin's logical target. After every operation, check_state() looks at the whole model:
//   isolation     every mapped address of every process holds that process's own data; a value
//                 read through a pin is one its owner's data held (or the pin wrote) while
//                 pinned, never another process's;
//   long-term pin coherence
//                 while the pinning process maps the address, its long-term pin's page holds
//                 that process's data, and writes through it are what the process reads next;
//   accounting    each live page's counter agrees with its holders (mappings and extra
//                 references as ordinary references, pins by kind; a count shared by references
//                 and pins must equal references plus weighted pins exactly), mapcount agrees
//                 with the mappings, no mapping or pin points at a freed page, and no page
//                 outlives its last holder unless saturated.
// check_quiescent() runs when nothing is held any more: every page must be free, except
// saturated ones, which it lists.
//
// Sequential use only (scripts, fuzzers); storms check with values that carry their writer.
// BasicTruthOracle<Model> judges any instantiation of BasicMmModel (testing/ runs the model on
// the deterministic scheduler); TruthOracle judges the production MmModel.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pinsplit/mm/mm_model.h"

namespace pinsplit::mm {

struct Violation {
  std::string invariant;  // "isolation", "long-term pin coherence", "accounting"
  std::string detail;
};

template <class Model>
class BasicTruthOracle {
 public:
  explicit BasicTruthOracle(const Model& model) : model_(model) {}

  // Forgets everything, for a model that was reset() (MmModel): as if just constructed.
  void reset();

  // Names the process now living in slot p (call after on_spawn / on_fork).
  void name_process(ProcessId p, std::string name) { names_[incarnation_.at(p)] = std::move(name); }
  void name_pin(PinId pin, std::string name) { pin_names_[pin] = std::move(name); }

  void on_spawn(ProcessId p);
  void on_map(ProcessId p, Addr first, Addr last);
  void on_unmap(ProcessId p, Addr addr);
  void on_write(ProcessId p, Addr addr, std::uint64_t value);
  void on_fork(ProcessId parent, ProcessId child);
  void on_exit(ProcessId p);
  void on_pin(PinId pin, ProcessId owner, Addr addr, PinKind kind, bool longterm);
  void on_write_pin(PinId pin, std::uint64_t value);
  void on_unpin(PinId pin);
  void on_take_ref() { ++extra_refs_; }
  void on_drop_ref() { --extra_refs_; }

  std::optional<Violation> check_read(ProcessId p, Addr addr, std::uint64_t got) const;
  std::optional<Violation> check_pin_read(PinId pin, std::uint64_t got) const;
  std::vector<Violation> check_state() const;

  // True when no process, pin or extra reference is left.
  bool quiescent() const { return memory_.empty() && pins_.empty() && extra_refs_ == 0; }
  // Pages still in use at quiescence: violations unless saturated; saturated ones in `leaked`.
  std::vector<Violation> check_quiescent(std::vector<PageId>* saturated) const;

 private:
  // Model process ids are slots that exit frees and fork reuses; the oracle follows each process
  // by its incarnation, so that a pin outliving its process never speaks for the slot's next one.
  using Incarnation = std::uint32_t;

  struct PinTruth {
    Incarnation owner;
    Addr addr;
    PinKind kind;
    bool longterm;
    std::set<std::uint64_t> seen_ok;  // values its owner's data held (or it wrote) while pinned
    bool detached = false;  // the owner unmapped the address: coherence is no longer promised
  };
  // A process's logical memory, with a mask of its mapped addresses so that the per-step
  // check visits those only (a process maps a few of its kAddressSpace addresses).
  struct Memory {
    static_assert(kAddressSpace <= 64, "the mapped mask is one word");
    std::array<std::optional<std::uint64_t>, kAddressSpace> data;
    std::uint64_t mapped = 0;  // bit a set exactly when data[a] holds a value

    const std::optional<std::uint64_t>& operator[](Addr a) const { return data[a]; }
    void set(Addr a, std::uint64_t value) {
      data[a] = value;
      mapped |= std::uint64_t{1} << a;
    }
    void clear(Addr a) {
      data[a].reset();
      mapped &= ~(std::uint64_t{1} << a);
    }
  };

  std::string process_name(Incarnation p) const;
  // The model slot of a live incarnation, if it still lives.
  std::optional<ProcessId> slot_of(Incarnation p) const;
  std::string pin_name(PinId pin) const;
  std::string describe(std::uint64_t value) const;

  const Model& model_;
  std::map<Incarnation, Memory> memory_;          // live processes' logical memory
  std::map<ProcessId, Incarnation> incarnation_;  // live slots
  Incarnation next_incarnation_ = 1;
  std::map<PinId, PinTruth> pins_;
  std::map<std::uint64_t, Incarnation> last_writer_;  // for messages: who wrote a value
  int extra_refs_ = 0;
  std::map<Incarnation, std::string> names_;
  std::map<PinId, std::string> pin_names_;
};

extern template class BasicTruthOracle<MmModel>;
using TruthOracle = BasicTruthOracle<MmModel>;

}  // namespace pinsplit::mm
