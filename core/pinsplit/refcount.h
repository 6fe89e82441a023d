// SPDX-License-Identifier: MIT
// The vocabulary shared by every counting scheme in pinsplit, and the concept they satisfy.
//
// A scheme is a lock-free counter on one 32-bit atomic word that tracks two kinds of holders of
// a shared object (a page, a buffer-pool frame): ordinary references and GUP-style pins, the
// latter either read-only (PinKind::kRead) or writable (PinKind::kWrite). The object dies when
// the last holder of either kind lets go, and never comes back to life.
//
// Every scheme answers the same questions, but not all of them exactly: Capabilities says which
// answers a scheme can give without false positives. Code that makes decisions (fork, COW) reads
// the capability and must treat inexact answers as "maybe".
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

namespace pinsplit {

enum class PinKind : std::uint8_t { kRead, kWrite };

// Result of get() and try_get(). kFull: a scheme that refuses new references near overflow
// (BiasRefcount) refused this one; nothing changed.
enum class GetResult : std::uint8_t { kOk, kDead, kFull };

// Result of put() and unpin(). kLast: the caller dropped the last reference or pin; the object
// is dead and the caller, and only the caller, may free it.
enum class PutResult : std::uint8_t { kLive, kLast };

// Result of try_pin(). kFull: the pin field has no room (the seed's -EAGAIN); nothing changed.
enum class PinResult : std::uint8_t { kPinned, kFull, kDead };

std::string_view to_string(GetResult r);
std::string_view to_string(PutResult r);
std::string_view to_string(PinResult r);
std::string_view to_string(PinKind k);

// What a scheme can tell exactly. A false entry means the matching read is an estimate.
struct Capabilities {
  bool exact_refs;        // state().refs counts ordinary references and nothing else
  bool exact_pins;        // is_pinned() has no false positives and no false negatives
  bool pin_kinds;         // read and write pins are counted apart (is_pinned_writable() exact)
  bool saturates;         // an overflowing ordinary count saturates: the object leaks, never dies
  bool refuses_overflow;  // new references near overflow are refused with GetResult::kFull
  bool detects_unpin_misuse;  // an unpin with no pin of that kind held is always detected
  // What one pin adds to a count shared with references (1024 for bias, 1 for plain); 0 when
  // pins have fields of their own.
  std::uint32_t pin_weight;
};

// A decoded snapshot of a counter. Fields a scheme cannot tell are zero and flagged by its
// Capabilities: BiasRefcount puts its pin estimate in `pins` only, PlainRefcount counts pins as
// references in `refs`.
struct RefcountState {
  std::uint32_t raw = 0;         // the word as stored
  std::uint32_t refs = 0;        // ordinary references (0 when saturated or dead)
  std::uint32_t read_pins = 0;   // exact read pins (split only)
  std::uint32_t write_pins = 0;  // exact write pins (split only)
  std::uint32_t pins = 0;        // all pins, exact or estimated
  bool saturated = false;
  bool dead = false;

  friend bool operator==(const RefcountState&, const RefcountState&) = default;
};

// The contract every scheme meets. Orderings, which each scheme's header restates:
//   get            relaxed      (the caller already holds a reference, so it is synchronised)
//   try_get        acquire on success (it may be the first access after publication)
//   try_pin        acquire on success
//   put, unpin     release; the last drop also acquires, so the one that frees sees every
//                  access made under every earlier reference
//   state & reads  acquire load
// Misuse (put or unpin with nothing to drop, get on a dead object, overflow) never frees an
// object twice; it is counted and reported through the hook in misuse.h.
template <class C>
concept PinRefcount = requires(C c, const C cc, PinKind kind, std::uint32_t n) {
  { C::kCapabilities } -> std::convertible_to<Capabilities>;
  { C::name() } -> std::convertible_to<std::string_view>;
  { c.get() } -> std::same_as<GetResult>;
  { c.try_get() } -> std::same_as<GetResult>;
  { c.put() } -> std::same_as<PutResult>;
  { c.try_pin(kind) } -> std::same_as<PinResult>;
  { c.unpin(kind) } -> std::same_as<PutResult>;
  { cc.state() } -> std::same_as<RefcountState>;
  { cc.is_pinned() } -> std::same_as<bool>;
  { cc.is_pinned_writable() } -> std::same_as<bool>;
  { cc.saturated() } -> std::same_as<bool>;
  { cc.dead() } -> std::same_as<bool>;
  // Jumps to a state; not atomic with concurrent operations (initialisation, recycling of a
  // dead object, tests). Returns false, changing nothing, when the scheme cannot hold it.
  { c.reset(n, n, n, true) } -> std::same_as<bool>;
};

template <PinRefcount C>
inline constexpr Capabilities kCapabilitiesOf = C::kCapabilities;

inline std::string_view to_string(GetResult r) {
  switch (r) {
    case GetResult::kOk:
      return "ok";
    case GetResult::kDead:
      return "dead";
    case GetResult::kFull:
      return "full";
  }
  return "?";
}

inline std::string_view to_string(PutResult r) { return r == PutResult::kLast ? "last" : "live"; }

inline std::string_view to_string(PinResult r) {
  switch (r) {
    case PinResult::kPinned:
      return "pinned";
    case PinResult::kFull:
      return "full";
    case PinResult::kDead:
      return "dead";
  }
  return "?";
}

inline std::string_view to_string(PinKind k) { return k == PinKind::kRead ? "read" : "write"; }

}  // namespace pinsplit
