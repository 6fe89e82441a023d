// SPDX-License-Identifier: MIT
// The mm storm: threads act as processes and as kernel users on one MmModel, all at once.
//
// Each thread owns some processes (it alone writes, reads, maps, unmaps, forks, protects and
// exits them) and hands each child it forks to a random thread, so parent and child race on
// their shared pages from different threads. Every thread is also a kernel user: it pins pages
// of any live process through GUP-fast (direct I/O), writes and reads through those pins, and
// takes extra references.
//
// Values carry their writer: (incarnation of the process << 40 | a global clock tick taken just
// before the write). A process may read a value its own incarnation wrote, or one an ancestor
// wrote before the fork that separated them ended; anything else crossed a process boundary
// (isolation). A long-term pin a process holds on its own page must show the process's latest
// write (coherence). Right after each fork, a page mapped by both parent and child must not
// hold a pin under a policy that never pins shared pages (split, anon-exclusive): such a pin
// slipped in during the fork. With the fork/GUP-fast sequence check off
// (--nocheck_write_protect_seq) that race is left open, and the storm must catch it.
// --mm_variant runs a build that only narrows a window (testing/broken_mm_models.h): the storm
// catches those only when the OS preempts a thread inside it (docs/design.md measures how
// rarely); the interleaving explorer finds them in every run.
// At the end every process exits and every pin and reference is dropped: every page must be
// free (saturated pages aside) and no counter may have reported misuse.
#pragma once

#include "storm.h"

namespace pinsplit::stress {

const std::map<std::string, unsigned>& MmStormOps();

// InvalidArgument when the policy cannot run concurrently (ideal) or the counter is unknown.
absl::StatusOr<StormResult> RunMmStorm(const StormOptions& options);

}  // namespace pinsplit::stress
