// SPDX-License-Identifier: MIT
// The definitions of BasicTruthOracle<Model> (truth_oracle.h). Included by truth_oracle.cc
// (the production MmModel) and by testing/deterministic_mm_model.cc (the model on the
// deterministic scheduler). Nothing else includes it.
#pragma once

#include <bit>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pinsplit/mm/truth_oracle.h"
#include "pinsplit/op_script.h"
#include "pinsplit/refcount_replay.h"

namespace pinsplit::mm {

template <class Model>
typename BasicTruthOracle<Model>::Slot& BasicTruthOracle<Model>::live_slot(ProcessId slot) {
  return const_cast<Slot&>(std::as_const(*this).live_slot(slot));
}

template <class Model>
const typename BasicTruthOracle<Model>::Slot& BasicTruthOracle<Model>::live_slot(
    ProcessId slot) const {
  if (slot >= slots_.size() || slots_[slot].incarnation == 0) {
    throw std::logic_error(absl::StrCat("truth oracle: no live process in slot ", slot));
  }
  return slots_[slot];
}

template <class Model>
const typename BasicTruthOracle<Model>::Memory* BasicTruthOracle<Model>::owner_memory(
    const PinTruth& truth) const {
  const Slot& slot = slots_[truth.slot];
  return slot.incarnation == truth.owner ? &slot.memory : nullptr;
}

template <class Model>
std::string BasicTruthOracle<Model>::process_name(Incarnation p) const {
  if (p < names_.size() && !names_[p].empty()) return names_[p];
  return absl::StrCat("process #", p);
}

template <class Model>
std::string BasicTruthOracle<Model>::pin_name(PinId pin) const {
  if (pin < pin_names_.size() && !pin_names_[pin].empty()) return pin_names_[pin];
  return absl::StrCat("pin ", pin);
}

template <class Model>
std::string BasicTruthOracle<Model>::describe(std::uint64_t value) const {
  auto it = std::find_if(writes_.rbegin(), writes_.rend(),
                         [value](const auto& w) { return w.first == value; });
  if (it == writes_.rend()) return absl::StrCat(value);
  return absl::StrCat(value, " (written by ", process_name(it->second), ")");
}

template <class Model>
void BasicTruthOracle<Model>::reset() {
  for (Slot& slot : slots_) slot.incarnation = 0;
  for (PinTruth& pin : pins_) {
    pin.live = false;
    pin.seen_ok.clear();
  }
  names_.clear();
  pin_names_.clear();
  writes_.clear();
  next_incarnation_ = 1;
  extra_refs_ = 0;
  breaches_.clear();
}

template <class Model>
void BasicTruthOracle<Model>::name_process(ProcessId slot, std::string name) {
  const Incarnation p = live_slot(slot).incarnation;
  if (p >= names_.size()) names_.resize(p + 1);
  names_[p] = std::move(name);
}

template <class Model>
void BasicTruthOracle<Model>::name_pin(PinId pin, std::string name) {
  if (pin >= pin_names_.size()) pin_names_.resize(pin + 1);
  pin_names_[pin] = std::move(name);
}

template <class Model>
void BasicTruthOracle<Model>::on_spawn(ProcessId slot) {
  if (slot >= slots_.size()) slots_.resize(slot + 1);
  slots_[slot].incarnation = next_incarnation_++;
  slots_[slot].memory = Memory{};
}

template <class Model>
void BasicTruthOracle<Model>::on_map(ProcessId slot, Addr first, Addr last) {
  Memory& memory = live_slot(slot).memory;
  for (Addr a = first; a <= last; ++a) {
    memory.set(a, 0);
    memory.protect(a, /*writable=*/true);
  }
}

template <class Model>
void BasicTruthOracle<Model>::on_protect(ProcessId slot, Addr addr, bool writable) {
  Memory& memory = live_slot(slot).memory;
  if (memory.maps(addr)) memory.protect(addr, writable);
}

template <class Model>
void BasicTruthOracle<Model>::on_unmap(ProcessId slot, Addr addr) {
  Slot& s = live_slot(slot);
  s.memory.clear(addr);
  for (PinTruth& pin : pins_) {
    if (pin.live && pin.owner == s.incarnation && pin.addr == addr) pin.detached = true;
  }
}

template <class Model>
void BasicTruthOracle<Model>::on_write(ProcessId slot, Addr addr, std::uint64_t value) {
  Slot& s = live_slot(slot);
  if (s.memory.maps(addr) && !s.memory.writable(addr)) {
    breaches_.push_back({std::string(violation_kind::kProtection),
                         absl::StrCat(process_name(s.incarnation), " wrote ", value, " at ", addr,
                                      ", which it maps read-only")});
  }
  s.memory.set(addr, value);
  writes_.emplace_back(value, s.incarnation);
  // A pin sees its owner's writes (exactly when long-term; maybe when short-term).
  for (PinTruth& pin : pins_) {
    if (pin.live && pin.owner == s.incarnation && pin.addr == addr && !pin.detached) {
      pin.see(value);
    }
  }
}

template <class Model>
void BasicTruthOracle<Model>::on_fork(ProcessId parent, ProcessId child) {
  const Memory memory = live_slot(parent).memory;
  on_spawn(child);
  slots_[child].memory = memory;
}

template <class Model>
void BasicTruthOracle<Model>::on_exit(ProcessId slot) {
  live_slot(slot).incarnation = 0;
}

template <class Model>
void BasicTruthOracle<Model>::on_pin(PinId pin, ProcessId slot, Addr addr, PinKind kind,
                                     bool longterm) {
  const Slot& owner = live_slot(slot);
  if (kind == PinKind::kWrite && owner.memory.maps(addr) && !owner.memory.writable(addr)) {
    breaches_.push_back({std::string(violation_kind::kProtection),
                         absl::StrCat(pin_name(pin), ": ", process_name(owner.incarnation),
                                      " took a write pin at ", addr, ", which it maps read-only")});
  }
  if (pin >= pins_.size()) pins_.resize(pin + 1);
  PinTruth& truth = pins_[pin];
  truth.live = true;
  truth.owner = owner.incarnation;
  truth.slot = slot;
  truth.addr = addr;
  truth.kind = kind;
  truth.longterm = longterm;
  truth.detached = false;
  truth.seen_ok.clear();
  if (owner.memory.maps(addr)) truth.see(owner.memory.data[addr]);
}

template <class Model>
void BasicTruthOracle<Model>::on_write_pin(PinId pin, std::uint64_t value) {
  PinTruth& truth = pins_.at(pin);
  writes_.emplace_back(value, truth.owner);
  // The owner's data: every pin the owner holds there may see it.
  for (PinTruth& other : pins_) {
    if (other.live && other.owner == truth.owner && other.addr == truth.addr) other.see(value);
  }
  const Memory* memory = owner_memory(truth);
  if (truth.detached || memory == nullptr || !memory->maps(truth.addr)) return;
  // The device writes the owner's memory: always promised for a long-term pin; for a
  // short-term one only when the pin still holds the owner's page (no promise otherwise).
  if (truth.longterm || model_.pin_page(pin) == model_.page_at(truth.slot, truth.addr)) {
    slots_[truth.slot].memory.set(truth.addr, value);
  }
}

template <class Model>
void BasicTruthOracle<Model>::on_unpin(PinId pin) {
  pins_.at(pin).live = false;
}

template <class Model>
std::optional<Violation> BasicTruthOracle<Model>::check_read(ProcessId slot, Addr addr,
                                                             std::uint64_t got) const {
  const Slot& s = live_slot(slot);
  const std::optional<std::uint64_t> want = s.memory.at(addr);
  if (want && *want == got) return std::nullopt;
  return Violation{
      std::string(violation_kind::kIsolation),
      absl::StrCat(process_name(s.incarnation), " read ", describe(got), " at ", addr,
                   ", but its own data there is ", want ? describe(*want) : "unmapped")};
}

template <class Model>
std::optional<Violation> BasicTruthOracle<Model>::check_pin_read(PinId pin,
                                                                 std::uint64_t got) const {
  const PinTruth& truth = pins_.at(pin);
  const Memory* memory = owner_memory(truth);
  const bool owner_maps = !truth.detached && memory != nullptr && memory->maps(truth.addr);
  if (truth.longterm && owner_maps && memory->data[truth.addr] != got) {
    return Violation{std::string(violation_kind::kLongtermCoherence),
                     absl::StrCat(pin_name(pin), " of ", process_name(truth.owner), " read ",
                                  describe(got), ", but ", process_name(truth.owner), "'s data at ",
                                  truth.addr, " is ", describe(memory->data[truth.addr]))};
  }
  if (!truth.saw(got)) {
    return Violation{std::string(violation_kind::kIsolation),
                     absl::StrCat(pin_name(pin), " of ", process_name(truth.owner), " read ",
                                  describe(got), ", which its owner never held there")};
  }
  return std::nullopt;
}

template <class Model>
std::vector<Violation> BasicTruthOracle<Model>::check_state() const {
  std::vector<Violation> out = breaches_;
  check_entries(out);
  // Isolation: every mapped address holds its process's own data, on a live page.
  for (ProcessId slot = 0; slot < slots_.size(); ++slot) {
    const auto& [p, memory] = slots_[slot];
    if (p == 0) continue;
    for (std::uint64_t left = memory.mapped; left != 0; left &= left - 1) {
      const Addr a = static_cast<Addr>(std::countr_zero(left));
      const PageId page = model_.page_at(slot, a);
      if (page == kNoPage) {
        out.push_back({std::string(violation_kind::kAccounting),
                       absl::StrCat(process_name(p), " lost its mapping at ", a)});
        continue;
      }
      if (!model_.in_use(page)) {
        out.push_back({std::string(violation_kind::kAccounting),
                       absl::StrCat(process_name(p), " maps freed page ", page, " at ", a,
                                    " (use after free)")});
        continue;
      }
      const std::uint64_t got = model_.payload(page);
      if (got != memory.data[a]) {
        out.push_back({std::string(violation_kind::kIsolation),
                       absl::StrCat(process_name(p), "'s memory at ", a, " holds ", describe(got),
                                    ", expected ", describe(memory.data[a]))});
      }
    }
  }
  // Pins: on live pages; long-term ones coherent with their owner's memory.
  for (PinId id = 0; id < pins_.size(); ++id) {
    const PinTruth& truth = pins_[id];
    if (!truth.live) continue;
    const PageId page = model_.pin_page(id);
    if (!model_.in_use(page)) {
      out.push_back({std::string(violation_kind::kAccounting),
                     absl::StrCat(pin_name(id), " holds freed page ", page, " (use after free)")});
      continue;
    }
    const Memory* memory = owner_memory(truth);
    if (!truth.longterm || truth.detached || memory == nullptr || !memory->maps(truth.addr)) {
      continue;
    }
    const PageId mapped = model_.page_at(truth.slot, truth.addr);
    if (mapped != page) {
      out.push_back({std::string(violation_kind::kLongtermCoherence),
                     absl::StrCat(pin_name(id), " of ", process_name(truth.owner), " holds page ",
                                  page, " but ", process_name(truth.owner), " now maps page ",
                                  mapped, " at ", truth.addr)});
    }
  }
  // Accounting: each live page's counter agrees with its holders.
  const Capabilities caps = model_.capabilities();
  model_.for_each_page_in_use([&](PageId page) {
    // The counts the checks below need, read under the holders lock without copying them.
    struct {
      bool empty;
      std::size_t mappings, pins;
      int extra_refs, read_pins, write_pins;
    } h;
    const bool exclusive = model_.exclusive(page);
    model_.with_holders(page, [&](const PageHolders& holders) {
      h = {holders.empty(),    holders.mappings.size(), holders.pins.size(),
           holders.extra_refs, holders.read_pins(),     holders.write_pins()};
      if (exclusive) {
        exclusive_maps_.assign(holders.mappings.begin(), holders.mappings.end());
        exclusive_pins_.assign(holders.pins.begin(), holders.pins.end());
      }
    });
    if (exclusive) check_exclusive(page, out);
    const RefcountState state = model_.counter_state(page);
    if (state.dead) {
      out.push_back({std::string(violation_kind::kAccounting),
                     absl::StrCat("page ", page, " is in use but its counter is dead")});
      return;
    }
    if (h.empty && !state.saturated) {
      out.push_back({std::string(violation_kind::kAccounting),
                     absl::StrCat("page ", page, " has no holder left but was never freed")});
    }
    if (model_.mapcount(page) != static_cast<int>(h.mappings)) {
      out.push_back({std::string(violation_kind::kAccounting),
                     absl::StrCat("page ", page, " has mapcount ", model_.mapcount(page), " but ",
                                  h.mappings, " mapping(s)")});
    }
    const std::uint64_t refs = h.mappings + static_cast<std::uint64_t>(h.extra_refs);
    std::vector<std::string> diffs, unchecked;
    if (caps.pin_weight != 0) {
      // One shared count: it must be exactly references plus weighted pins.
      const std::uint64_t want = refs + std::uint64_t{caps.pin_weight} * h.pins;
      if (state.raw != want) diffs.push_back(absl::StrCat("count ", want, ", got ", state.raw));
    } else {
      StateSpec spec;
      spec.refs = static_cast<std::uint32_t>(refs);
      spec.read = static_cast<std::uint32_t>(h.read_pins);
      spec.write = static_cast<std::uint32_t>(h.write_pins);
      if (state.saturated) spec.refs.reset();  // a saturated count no longer counts
      CheckStateSpec(spec, state, caps, diffs, unchecked);
    }
    if (!diffs.empty()) {
      out.push_back({std::string(violation_kind::kAccounting),
                     absl::StrCat("page ", page, " counter (", std::string(model_.counter_name()),
                                  "): expected ", absl::StrJoin(diffs, "; "))});
    }
  });
  return out;
}

// Writability: every writable entry of a live process is the only way to its page.
template <class Model>
void BasicTruthOracle<Model>::check_entries(std::vector<Violation>& out) const {
  for (ProcessId slot = 0; slot < slots_.size(); ++slot) {
    const auto& [p, memory] = slots_[slot];
    if (p == 0) continue;
    for (std::uint64_t left = memory.mapped; left != 0; left &= left - 1) {
      const Addr a = static_cast<Addr>(std::countr_zero(left));
      if (!model_.pte_writable(slot, a)) continue;
      const PageId page = model_.page_at(slot, a);
      if (page == kNoPage || !model_.in_use(page)) continue;  // accounting reports it
      std::vector<std::string> wrong;
      if (!memory.writable(a)) wrong.emplace_back("the mapping is read-only");
      if (!model_.exclusive(page)) wrong.emplace_back("the page is not AnonExclusive");
      const int mapcount = model_.mapcount(page);
      const bool sole = model_.with_holders(page, [&](const PageHolders& holders) {
        return holders.mappings.size() == 1 && holders.mappings[0] == std::make_pair(slot, a);
      });
      if (mapcount != 1 || !sole) {
        wrong.push_back(
            absl::StrCat("it is not the page's only mapping (mapcount ", mapcount, ")"));
      }
      if (wrong.empty()) continue;
      out.push_back({std::string(violation_kind::kWritability),
                     absl::StrCat(process_name(p), "'s entry at ", a, " is writable on page ", page,
                                  ", but ", absl::StrJoin(wrong, " and "))});
    }
  }
}

// AnonExclusive against its definition: the page belongs to one process. Judges the holders
// check_state() copied into exclusive_maps_ and exclusive_pins_ (outside the holders lock, which
// no Sync atomic may be read under).
template <class Model>
void BasicTruthOracle<Model>::check_exclusive(PageId page, std::vector<Violation>& out) const {
  struct {
    const std::vector<std::pair<ProcessId, Addr>>& mappings;
    const std::vector<PinHolder>& pins;
  } holders{exclusive_maps_, exclusive_pins_};
  if (holders.mappings.size() > 1) {
    out.push_back({std::string(violation_kind::kAnonExclusive),
                   absl::StrCat("page ", page, " is marked exclusive but has ",
                                holders.mappings.size(), " mappings")});
    return;
  }
  // The one process the page may belong to: its mapper's incarnation, else its first pinner's.
  ProcessKey owner_key = 0;
  std::string owner;
  if (!holders.mappings.empty()) {
    const ProcessId slot = holders.mappings[0].first;
    owner_key = MakeProcessKey(slot, model_.process_generation(slot));
    owner =
        slot < slots_.size() ? process_name(slots_[slot].incarnation) : absl::StrCat("slot ", slot);
  } else if (!holders.pins.empty()) {
    owner_key = holders.pins[0].owner;
    owner = pin_name(holders.pins[0].pin) + "'s owner";
  }
  for (const PinHolder& pin : holders.pins) {
    if (pin.owner == owner_key) continue;
    out.push_back({std::string(violation_kind::kAnonExclusive),
                   absl::StrCat("page ", page, " is marked exclusive to ", owner, ", but ",
                                pin_name(pin.pin), " of another process holds it")});
    return;
  }
}

template <class Model>
bool BasicTruthOracle<Model>::quiescent() const {
  return extra_refs_ == 0 &&
         std::none_of(slots_.begin(), slots_.end(),
                      [](const Slot& s) { return s.incarnation != 0; }) &&
         std::none_of(pins_.begin(), pins_.end(), [](const PinTruth& p) { return p.live; });
}

template <class Model>
std::vector<Violation> BasicTruthOracle<Model>::check_quiescent(
    std::vector<PageId>* saturated) const {
  std::vector<Violation> out;
  model_.for_each_page_in_use([&](PageId page) {
    if (model_.counter_state(page).saturated) {
      if (saturated != nullptr) saturated->push_back(page);
      return;
    }
    out.push_back({std::string(violation_kind::kAccounting),
                   absl::StrCat("page ", page, " is still in use after everything was released")});
  });
  return out;
}

}  // namespace pinsplit::mm
