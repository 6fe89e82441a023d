// SPDX-License-Identifier: MIT
// AnonExclusivePolicy: Linux 5.19 on (PageAnonExclusive).
//
// Rules: a fresh, copied or reused anonymous page is exclusive. Fork shares a page and clears
// its flag, except that it must copy an exclusive page that may be pinned (mm has pinned and the
// counter says maybe pinned). A write fault reuses an exclusive page without looking at counts;
// a shared page is reused (and marked exclusive) only when its page_count() is 1, else copied.
// A pin is taken only on an exclusive page: a read pin on a shared page first unshares it (a
// copy left read-only, or marking it exclusive when nobody else holds it); a write pin breaks COW.
// GUP-fast pins only exclusive pages and falls back to the slow path otherwise.
//
// What it gets right: isolation and long-term pin coherence.
// What it costs: "maybe pinned" is BiasRefcount's guess, so 1024 ordinary references force a
// copy at fork; read pins on shared pages always cost an unshare.
//
// Checked against Linux 6.18 by `pinsplit fidelity` (host/, docs/host.md): every read value,
// copy and unshare decision, mapcount, AnonExclusive flag and page-sharing relation of the
// scenarios agrees step by step. Known differences, none of which changes a decision a scenario
// makes:
//   - The false "maybe pinned" comes early on the kernel: in an mm that has pinned, fork copies
//     an exclusive page every time from 1022 extra references and sometimes from 1021
//     (`pinsplit host false-pin`), the model from 1023 (its one mapping reference + 1023 =
//     GUP_PIN_COUNTING_BIAS). The kernel's page holds one or two transient references the model
//     does not have; research/host-kernel.md suggests the per-CPU LRU batch a freshly faulted
//     page waits in (not confirmed). Modelling them would make the model's threshold a guess.
//   - The same transient references now and then make the kernel copy where this policy reuses:
//     a write fault (or the FOLL_WRITE of a pin) on a page that is no longer shared but not
//     exclusive checks page_count() == 1, and a transient reference - most likely another CPU's
//     LRU batch, since the faulting CPU drains only its own - makes it 2. `pinsplit fidelity
//     --random` sees it in a few scripts per hundred (2 of 100 in one release-build run, 1 of
//     300 under ASan): a write or a pin on a page whose other mapping had just copied away;
//     never on the rerun. An extra copy, never a leak; fidelity reruns such a scenario and
//     reports it (`transient_difference`).
//   - Faults, not decisions: after `protect rw` the model keeps the entry write-protected so the
//     next write faults (and reuses the exclusive page); the kernel's mprotect maps an exclusive
//     anonymous page writable at once (no soft-dirty tracking to stop it), so that write does not
//     fault. Same page, same data, one fault fewer; fidelity does not compare fault counts.
//   - A kernel never refuses a pin for counting reasons, like this policy's bias counter: a
//     `=> full` never holds on either.
#pragma once

#include "pinsplit/mm/policy.h"

namespace pinsplit::mm {

class AnonExclusivePolicy final : public Policy {
 public:
  std::string_view name() const override { return "anon-exclusive"; }
  std::string_view default_counter() const override { return "bias"; }
  ForkDecision on_fork(const PageFacts& page) const override {
    return page.exclusive() && page.mm_has_pinned() && page.maybe_pinned() ? ForkDecision::kCopy
                                                                           : ForkDecision::kShare;
  }
  FaultDecision on_write_fault(const PageFacts& page) const override {
    return page.exclusive() || page.page_count() == 1 ? FaultDecision::kReuse
                                                      : FaultDecision::kCopy;
  }
  ReadPinPrep before_read_pin(const PageFacts& page) const override {
    if (page.exclusive()) return ReadPinPrep::kNone;
    return page.page_count() == 1 ? ReadPinPrep::kMarkExclusive : ReadPinPrep::kUnshare;
  }
  bool fast_pin_allowed(const PageFacts& page, PinKind) const override { return page.exclusive(); }
};

}  // namespace pinsplit::mm
