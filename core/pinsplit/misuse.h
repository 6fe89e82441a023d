// SPDX-License-Identifier: MIT
// Misuse reporting: the pinsplit counterpart of the kernel's refcount_warn_saturate().
//
// A counter that sees, in the value its own atomic operation returned, that the caller broke the
// contract repairs the word (see each scheme's header for how), bumps a process-wide counter for
// the kind of misuse and calls the installed hook. Reporting is always out of line and never on a
// fast path. The hook may be called from any thread, concurrently; it must not call back into the
// counter that reported.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace pinsplit {

enum class Misuse : std::uint8_t {
  kOverflow,        // the ordinary count crossed into the saturation zone: leaked from now on
  kSaturated,       // get or put on a saturated count: it stays saturated
  kGetOnDead,       // get on a dead object (the kernel's "addition on 0; use-after-free")
  kPutUnderflow,    // put with no ordinary reference held on a live object: saturates (leak)
  kPutOnDead,       // put on a dead object: undone, so the object is never freed twice
  kUnpinUnderflow,  // unpin of a kind that holds no pin on a live object: refused or undone
  kUnpinOnDead,     // unpin on a dead object: refused or undone
};
inline constexpr int kMisuseKinds = 7;

std::string_view to_string(Misuse m);

struct MisuseReport {
  Misuse kind;
  std::string_view scheme;  // the reporting scheme's name(), e.g. "split:4/4/24"
  std::uint32_t before;     // the word as the faulting atomic operation found it
};

using MisuseHook = void (*)(const MisuseReport&);

namespace internal {
inline std::atomic<MisuseHook> misuse_hook{nullptr};
inline std::array<std::atomic<std::uint64_t>, kMisuseKinds> misuse_counts{};
}  // namespace internal

// Installs `hook` (nullptr: count only) and returns the previous one.
inline MisuseHook set_misuse_hook(MisuseHook hook) {
  return internal::misuse_hook.exchange(hook, std::memory_order_acq_rel);
}

// How many misuses of this kind any counter in this process has reported.
inline std::uint64_t misuse_count(Misuse m) {
  return internal::misuse_counts[static_cast<int>(m)].load(std::memory_order_relaxed);
}

inline std::uint64_t misuse_total() {
  std::uint64_t total = 0;
  for (const auto& c : internal::misuse_counts) total += c.load(std::memory_order_relaxed);
  return total;
}

[[gnu::cold, gnu::noinline]] inline void report_misuse(Misuse kind, std::string_view scheme,
                                                       std::uint32_t before) {
  internal::misuse_counts[static_cast<int>(kind)].fetch_add(1, std::memory_order_relaxed);
  if (MisuseHook hook = internal::misuse_hook.load(std::memory_order_acquire)) {
    hook(MisuseReport{kind, scheme, before});
  }
}

inline std::string_view to_string(Misuse m) {
  switch (m) {
    case Misuse::kOverflow:
      return "overflow";
    case Misuse::kSaturated:
      return "saturated";
    case Misuse::kGetOnDead:
      return "get-on-dead";
    case Misuse::kPutUnderflow:
      return "put-underflow";
    case Misuse::kPutOnDead:
      return "put-on-dead";
    case Misuse::kUnpinUnderflow:
      return "unpin-underflow";
    case Misuse::kUnpinOnDead:
      return "unpin-on-dead";
  }
  return "?";
}

}  // namespace pinsplit
