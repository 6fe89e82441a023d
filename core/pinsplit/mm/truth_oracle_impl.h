// The definitions of BasicTruthOracle<Model> (truth_oracle.h). Included by truth_oracle.cc
// (the production MmModel) and by testing/deterministic_mm_model.cc (the model on the
// deterministic scheduler). Nothing else includes it.
#pragma once

#include <bit>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pinsplit/mm/truth_oracle.h"
#include "pinsplit/op_script.h"
#include "pinsplit/refcount_replay.h"

namespace pinsplit::mm {

template <class Model>
std::string BasicTruthOracle<Model>::process_name(Incarnation p) const {
  auto it = names_.find(p);
  return it != names_.end() ? it->second : absl::StrCat("process #", p);
}

template <class Model>
std::optional<ProcessId> BasicTruthOracle<Model>::slot_of(Incarnation p) const {
  for (const auto& [slot, inc] : incarnation_) {
    if (inc == p) return slot;
  }
  return std::nullopt;
}

template <class Model>
std::string BasicTruthOracle<Model>::pin_name(PinId pin) const {
  auto it = pin_names_.find(pin);
  return it != pin_names_.end() ? it->second : absl::StrCat("pin ", pin);
}

template <class Model>
std::string BasicTruthOracle<Model>::describe(std::uint64_t value) const {
  auto it = last_writer_.find(value);
  if (it == last_writer_.end()) return absl::StrCat(value);
  return absl::StrCat(value, " (written by ", process_name(it->second), ")");
}

template <class Model>
void BasicTruthOracle<Model>::reset() {
  memory_.clear();
  incarnation_.clear();
  next_incarnation_ = 1;
  pins_.clear();
  last_writer_.clear();
  extra_refs_ = 0;
  names_.clear();
  pin_names_.clear();
}

template <class Model>
void BasicTruthOracle<Model>::on_spawn(ProcessId slot) {
  const Incarnation p = next_incarnation_++;
  incarnation_[slot] = p;
  memory_[p] = Memory{};
}

template <class Model>
void BasicTruthOracle<Model>::on_map(ProcessId slot, Addr first, Addr last) {
  Memory& memory = memory_[incarnation_.at(slot)];
  for (Addr a = first; a <= last; ++a) memory.set(a, 0);
}

template <class Model>
void BasicTruthOracle<Model>::on_unmap(ProcessId slot, Addr addr) {
  const Incarnation p = incarnation_.at(slot);
  memory_[p].clear(addr);
  for (auto& [id, pin] : pins_) {
    if (pin.owner == p && pin.addr == addr) pin.detached = true;
  }
}

template <class Model>
void BasicTruthOracle<Model>::on_write(ProcessId slot, Addr addr, std::uint64_t value) {
  const Incarnation p = incarnation_.at(slot);
  memory_[p].set(addr, value);
  last_writer_[value] = p;
  // A pin sees its owner's writes (exactly when long-term; maybe when short-term).
  for (auto& [id, pin] : pins_) {
    if (pin.owner == p && pin.addr == addr && !pin.detached) pin.seen_ok.insert(value);
  }
}

template <class Model>
void BasicTruthOracle<Model>::on_fork(ProcessId parent, ProcessId child) {
  const Incarnation c = next_incarnation_++;
  incarnation_[child] = c;
  memory_[c] = memory_[incarnation_.at(parent)];
}

template <class Model>
void BasicTruthOracle<Model>::on_exit(ProcessId slot) {
  memory_.erase(incarnation_.at(slot));
  incarnation_.erase(slot);
}

template <class Model>
void BasicTruthOracle<Model>::on_pin(PinId pin, ProcessId slot, Addr addr, PinKind kind,
                                     bool longterm) {
  const Incarnation owner = incarnation_.at(slot);
  PinTruth truth{owner, addr, kind, longterm, {}};
  if (const auto& value = memory_[owner][addr]) truth.seen_ok.insert(*value);
  pins_[pin] = std::move(truth);
}

template <class Model>
void BasicTruthOracle<Model>::on_write_pin(PinId pin, std::uint64_t value) {
  PinTruth& truth = pins_.at(pin);
  last_writer_[value] = truth.owner;
  // The owner's data: every pin the owner holds there may see it.
  for (auto& [id, other] : pins_) {
    if (other.owner == truth.owner && other.addr == truth.addr) other.seen_ok.insert(value);
  }
  auto mem = memory_.find(truth.owner);
  if (truth.detached || mem == memory_.end() || !mem->second[truth.addr]) return;
  // The device writes the owner's memory: always promised for a long-term pin; for a
  // short-term one only when the pin still holds the owner's page (no promise otherwise).
  const std::optional<ProcessId> slot = slot_of(truth.owner);
  if (truth.longterm || (slot && model_.pin_page(pin) == model_.page_at(*slot, truth.addr))) {
    mem->second.set(truth.addr, value);
  }
}

template <class Model>
void BasicTruthOracle<Model>::on_unpin(PinId pin) {
  pins_.erase(pin);
}

template <class Model>
std::optional<Violation> BasicTruthOracle<Model>::check_read(ProcessId slot, Addr addr,
                                                             std::uint64_t got) const {
  const Incarnation p = incarnation_.at(slot);
  const std::optional<std::uint64_t>& want = memory_.at(p)[addr];
  if (want && *want == got) return std::nullopt;
  return Violation{"isolation", absl::StrCat(process_name(p), " read ", describe(got), " at ", addr,
                                             ", but its own data there is ",
                                             want ? describe(*want) : "unmapped")};
}

template <class Model>
std::optional<Violation> BasicTruthOracle<Model>::check_pin_read(PinId pin,
                                                                 std::uint64_t got) const {
  const PinTruth& truth = pins_.at(pin);
  auto mem = memory_.find(truth.owner);
  const bool owner_maps =
      !truth.detached && mem != memory_.end() && mem->second[truth.addr].has_value();
  if (truth.longterm && owner_maps && *mem->second[truth.addr] != got) {
    return Violation{"long-term pin coherence",
                     absl::StrCat(pin_name(pin), " of ", process_name(truth.owner), " read ",
                                  describe(got), ", but ", process_name(truth.owner), "'s data at ",
                                  truth.addr, " is ", describe(*mem->second[truth.addr]))};
  }
  if (!truth.seen_ok.contains(got)) {
    return Violation{"isolation",
                     absl::StrCat(pin_name(pin), " of ", process_name(truth.owner), " read ",
                                  describe(got), ", which its owner never held there")};
  }
  return std::nullopt;
}

template <class Model>
std::vector<Violation> BasicTruthOracle<Model>::check_state() const {
  std::vector<Violation> out;
  // Isolation: every mapped address holds its process's own data, on a live page.
  for (const auto& [slot, p] : incarnation_) {
    const Memory& memory = memory_.at(p);
    for (std::uint64_t left = memory.mapped; left != 0; left &= left - 1) {
      const Addr a = static_cast<Addr>(std::countr_zero(left));
      const PageId page = model_.page_at(slot, a);
      if (page == kNoPage) {
        out.push_back({"accounting", absl::StrCat(process_name(p), " lost its mapping at ", a)});
        continue;
      }
      if (!model_.in_use(page)) {
        out.push_back({"accounting", absl::StrCat(process_name(p), " maps freed page ", page,
                                                  " at ", a, " (use after free)")});
        continue;
      }
      const std::uint64_t got = model_.payload(page);
      if (got != *memory[a]) {
        out.push_back(
            {"isolation", absl::StrCat(process_name(p), "'s memory at ", a, " holds ",
                                       describe(got), ", expected ", describe(*memory[a]))});
      }
    }
  }
  // Pins: on live pages; long-term ones coherent with their owner's memory.
  for (const auto& [id, truth] : pins_) {
    const PageId page = model_.pin_page(id);
    if (!model_.in_use(page)) {
      out.push_back({"accounting",
                     absl::StrCat(pin_name(id), " holds freed page ", page, " (use after free)")});
      continue;
    }
    auto mem = memory_.find(truth.owner);
    if (!truth.longterm || truth.detached || mem == memory_.end() || !mem->second[truth.addr]) {
      continue;
    }
    const PageId mapped = model_.page_at(*slot_of(truth.owner), truth.addr);
    if (mapped != page) {
      out.push_back({"long-term pin coherence",
                     absl::StrCat(pin_name(id), " of ", process_name(truth.owner), " holds page ",
                                  page, " but ", process_name(truth.owner), " now maps page ",
                                  mapped, " at ", truth.addr)});
    }
  }
  // Accounting: each live page's counter agrees with its holders.
  const Capabilities caps = model_.capabilities();
  for (PageId page : model_.pages_in_use()) {
    // The counts the checks below need, read under the holders lock without copying them.
    struct {
      bool empty;
      std::size_t mappings, pins;
      int extra_refs, read_pins, write_pins;
    } h;
    model_.with_holders(page, [&h](const PageHolders& holders) {
      h = {holders.empty(),    holders.mappings.size(), holders.pins.size(),
           holders.extra_refs, holders.read_pins(),     holders.write_pins()};
    });
    const RefcountState state = model_.counter_state(page);
    if (state.dead) {
      out.push_back(
          {"accounting", absl::StrCat("page ", page, " is in use but its counter is dead")});
      continue;
    }
    if (h.empty && !state.saturated) {
      out.push_back(
          {"accounting", absl::StrCat("page ", page, " has no holder left but was never freed")});
    }
    if (model_.mapcount(page) != static_cast<int>(h.mappings)) {
      out.push_back(
          {"accounting", absl::StrCat("page ", page, " has mapcount ", model_.mapcount(page),
                                      " but ", h.mappings, " mapping(s)")});
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
      out.push_back({"accounting",
                     absl::StrCat("page ", page, " counter (", std::string(model_.counter_name()),
                                  "): expected ", absl::StrJoin(diffs, "; "))});
    }
  }
  return out;
}

template <class Model>
std::vector<Violation> BasicTruthOracle<Model>::check_quiescent(
    std::vector<PageId>* saturated) const {
  std::vector<Violation> out;
  for (PageId page : model_.pages_in_use()) {
    if (model_.counter_state(page).saturated) {
      if (saturated != nullptr) saturated->push_back(page);
      continue;
    }
    out.push_back({"accounting",
                   absl::StrCat("page ", page, " is still in use after everything was released")});
  }
  return out;
}

}  // namespace pinsplit::mm
