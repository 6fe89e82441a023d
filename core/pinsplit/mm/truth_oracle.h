// SPDX-License-Identifier: MIT
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
//   protection    the model's rule for mprotect: a process writes, and takes a write pin
//                 (FOLL_WRITE, slow path or GUP-fast), only where its mapping is read-write at
//                 that moment. A write pin taken earlier may outlive a later mprotect(read-only),
//                 as the kernel's does, so this is judged when the write or the pin happens
//                 (on_write, on_pin), from the oracle's own record of each address's protection
//                 (on_map, on_protect), and reported by the next check_state();
//   writability   a present entry may be writable only when a write through it cannot reach
//                 anyone else: the mapping is read-write (the oracle's record), the page is
//                 marked AnonExclusive, and this entry is the page's only mapping (mapcount 1,
//                 the reverse map holds this process and address alone). The model makes an
//                 entry writable only on a fresh page (map, a copy at fault, fork or unshare) or
//                 on a reuse the policy granted, and each of those marks the page exclusive with
//                 one mapping; fork and mprotect(read-only) write-protect; mprotect(read-write)
//                 leaves the entry write-protected so the next write faults into the policy;
//   anon-exclusive
//                 the flag against its definition, "the page belongs to one process": a page
//                 marked AnonExclusive has at most one mapping, and every pin on it belongs to
//                 the process that maps it (or, with no mapping left, all its pins belong to one
//                 process). Fork clears the flag whenever it shares; only a fault, a reuse or an
//                 unshare under the owner's lock sets it. (Extra references are not processes:
//                 they do not break exclusivity, as LRU and swap-cache references do not.)
// Each kind's name is in violation_kind.h; a policy's header names the kinds it is known to
// break (Policy::known_violations).
// check_quiescent() runs when nothing is held any more: every page must be free, except
// saturated ones, which it lists.
//
// Sequential use only (scripts, fuzzers); storms check with values that carry their writer.
// BasicTruthOracle<Model> judges any instantiation of BasicMmModel (testing/ runs the model on
// the deterministic scheduler); TruthOracle judges the production MmModel.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pinsplit/mm/mm_model.h"
#include "pinsplit/mm/violation_kind.h"

namespace pinsplit::mm {

struct Violation {
  std::string invariant;  // one of violation_kind.h's names
  std::string detail;
};

template <class Model>
class BasicTruthOracle {
 public:
  explicit BasicTruthOracle(const Model& model) : model_(model) {}

  // Forgets everything, for a model that was reset() (MmModel): as if just constructed.
  void reset();

  // Names the process now living in slot p (call after on_spawn / on_fork).
  void name_process(ProcessId p, std::string name);
  void name_pin(PinId pin, std::string name);

  void on_spawn(ProcessId p);
  void on_map(ProcessId p, Addr first, Addr last);
  void on_unmap(ProcessId p, Addr addr);
  // mprotect of one address: what the protection and writability checks hold the model to.
  void on_protect(ProcessId p, Addr addr, bool writable);
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
  bool quiescent() const;
  // Pages still in use at quiescence: violations unless saturated; saturated ones in `leaked`.
  std::vector<Violation> check_quiescent(std::vector<PageId>* saturated) const;

 private:
  // Model process ids are slots that exit frees and fork reuses; the oracle follows each process
  // by its incarnation, so that a pin outliving its process never speaks for the slot's next one.
  // Incarnations count from 1; 0 means none.
  using Incarnation = std::uint32_t;

  // A process's logical memory, with a mask of its mapped addresses so that the per-step
  // check visits those only (a process maps a few of its kAddressSpace addresses).
  struct Memory {
    static_assert(kAddressSpace <= 64, "the mapped mask is one word");
    std::array<std::uint64_t, kAddressSpace> data{};
    std::uint64_t mapped = 0;     // bit a set exactly when data[a] holds the process's value
    std::uint64_t read_only = 0;  // bit a set when address a is mapped read-only

    bool maps(Addr a) const { return ((mapped >> a) & 1) != 0; }
    bool writable(Addr a) const { return maps(a) && ((read_only >> a) & 1) == 0; }
    void protect(Addr a, bool writable) {
      const std::uint64_t bit = std::uint64_t{1} << a;
      read_only = writable ? read_only & ~bit : read_only | bit;
    }
    std::optional<std::uint64_t> at(Addr a) const {
      return maps(a) ? std::optional<std::uint64_t>(data[a]) : std::nullopt;
    }
    void set(Addr a, std::uint64_t value) {
      data[a] = value;
      mapped |= std::uint64_t{1} << a;
    }
    void clear(Addr a) {
      mapped &= ~(std::uint64_t{1} << a);
      read_only &= ~(std::uint64_t{1} << a);
    }
  };
  // One model slot: the incarnation living in it (0 when none) and that process's memory.
  struct Slot {
    Incarnation incarnation = 0;
    Memory memory;
  };
  // One pin id: the truth of the pin that holds it now, if any.
  struct PinTruth {
    bool live = false;
    Incarnation owner = 0;
    ProcessId slot = 0;  // the owner's slot; it speaks for the owner while it holds `owner`
    Addr addr = 0;
    PinKind kind = PinKind::kRead;
    bool longterm = false;
    bool detached = false;  // the owner unmapped the address: coherence is no longer promised
    // Values its owner's data held (or it wrote) while pinned: few, so a vector, which keeps its
    // capacity when the id is reused and the fuzz targets' runs allocate nothing here.
    std::vector<std::uint64_t> seen_ok;

    bool saw(std::uint64_t value) const {
      return std::find(seen_ok.begin(), seen_ok.end(), value) != seen_ok.end();
    }
    void see(std::uint64_t value) {
      if (!saw(value)) seen_ok.push_back(value);
    }
  };

  // The slot of a live process; a slot nobody lives in is misuse (std::logic_error).
  Slot& live_slot(ProcessId slot);
  const Slot& live_slot(ProcessId slot) const;
  // The owner's memory while it lives; nullptr once it exited.
  const Memory* owner_memory(const PinTruth& truth) const;
  std::string process_name(Incarnation p) const;
  std::string pin_name(PinId pin) const;
  std::string describe(std::uint64_t value) const;
  // The writability and anon-exclusive checks of check_state().
  void check_entries(std::vector<Violation>& out) const;
  void check_exclusive(PageId page, std::vector<Violation>& out) const;

  // Flat tables indexed by slot, pin id and incarnation: reset() keeps their capacity, so a
  // fuzz target that resets after each input runs the oracle without allocating.
  const Model& model_;
  std::vector<Slot> slots_;
  std::vector<PinTruth> pins_;
  std::vector<std::string> names_;      // by incarnation; empty: unnamed
  std::vector<std::string> pin_names_;  // by pin id; empty: unnamed
  // Every value written and its writer, in order, for messages: the last entry for a value
  // names who wrote it.
  std::vector<std::pair<std::uint64_t, Incarnation>> writes_;
  Incarnation next_incarnation_ = 1;
  int extra_refs_ = 0;
  // Protection breaches seen by on_write and on_pin (events, not states: a write pin may
  // outlive a later mprotect), reported by every check_state() after them.
  std::vector<Violation> breaches_;
  // The holders of the exclusive page check_state() is judging, copied out of the page's lock;
  // kept to reuse their capacity (check_state is const and sequential).
  mutable std::vector<std::pair<ProcessId, Addr>> exclusive_maps_;
  mutable std::vector<PinHolder> exclusive_pins_;
};

extern template class BasicTruthOracle<MmModel>;
using TruthOracle = BasicTruthOracle<MmModel>;

}  // namespace pinsplit::mm
