// SPDX-License-Identifier: MIT
// SplitRefcount: one 32-bit word split into READ pins, R/W pins and ordinary references.
//
// The layout David Hildenbrand sketched on LKML (January 2021), and others as template arguments:
//
//    31     28 27     24 23 22 21                        0
//   +---------+---------+-----+---------------------------+
//   |  READ   |  R/W    | zone|  ordinary references      |       SeedLayout = SplitLayout<4,4,24>
//   +---------+---------+-----+---------------------------+
//
// Pin fields. Each holds an exact count, 0 .. 2^bits-1. try_pin() is a compare-exchange that
// never writes a full field, and unpin() one that never writes an empty field, so no pin or
// unpin carries into or borrows from a neighbour, whatever the number of racing threads and
// whatever the callers do: a full field answers PinResult::kFull and changes nothing, an empty
// one is reported as misuse and changes nothing.
//
// Ordinary field. O bits split into four zones of Q = 2^(O-2) values, like rcuref's zones. The
// top two bits name the zone, leaving O-2 usable bits (22 in the seed layout):
//
//   [0,  Q)   DEAD        the object died; kDeadValue = Q/2 sits in the middle
//   [Q,  2Q)  UNDERFLOW   a put with no reference held landed here; it is being saturated
//   [2Q, 3Q)  LIVE        refs = value - 2Q, 0 .. Q-1 (refs may be 0 while pins hold the object)
//   [3Q, 4Q)  SATURATED   sticky; kSaturatedValue = 3Q + Q/2 sits in the middle
//
// The live base 2Q keeps a put at zero from borrowing from the R/W field: it lands in UNDERFLOW.
// Every operation decides on the value its own atomic operation returned, so a thread whose get
// or put leaves its zone repairs the word in its slow path before it returns. A thread therefore
// has at most one unit in flight, and a zone absorbs up to Q/2 - 1 racing threads from its
// middle or from its edge: kMaxRacingThreads = 2^(O-3) - 1 (2,097,151 for the seed layout)
// threads acting at once on one counter can never push the ordinary field into the R/W field.
//
// States and transitions (refs, pins as seen in one word):
//   LIVE refs>0 or pins>0 --put/unpin of the last holder--> LIVE refs=0 pins=0 --> DEAD
//     The last dropper moves the word from "live zero" to kDeadValue with one more RMW; both
//     states read as dead and refuse try_get/try_pin, so nothing is resurrected.
//   LIVE refs=Q-1 --get--> SATURATED (reported as kOverflow). Saturated objects never die;
//     their pin fields keep working exactly. get/put on them report kSaturated. Saturation is
//     sticky once established (the word pulled to kSaturatedValue, by the overflowing get's
//     repair or by any try_get that finds the word beyond LIVE); until then, a put racing with
//     the overflowing get may briefly read the word back in LIVE.
//   LIVE refs=0 pins>0 --put--> UNDERFLOW --> SATURATED (kPutUnderflow): a leak, never a free.
//   An unpin of an empty pin field (live or dead) is refused: no transition, the word unwritten.
//
// Memory ordering:
//   get      relaxed fetch_add: the caller holds a reference, so it is already synchronised.
//   try_get  compare-exchange loop, acquire on success (beyond LIVE it establishes saturation
//            before it hands out the reference it cannot count).
//   try_pin  compare-exchange loop, acquire on success.
//   put      release fetch_sub.
//   unpin    compare-exchange loop, release on success (its load and failed attempts relaxed:
//            they publish nothing, and a refused unpin writes nothing).
//            The last drop of either then marks the word DEAD with an acquire compare-exchange.
//            It reads the end of the release sequence of every earlier drop, so the thread that
//            frees happens-after every access made under every earlier reference or pin. (No
//            standalone acquire fence: ThreadSanitizer in clang 14 does not model them.)
//   reads    acquire load.
//
// Fast paths: get and put are one fetch_add/fetch_sub plus tests on its returned value; try_get,
// try_pin and unpin are compare-exchange loops (a load, one compare-exchange when nothing races,
// and tests), because a pin field has no room to overshoot, an empty pin field must not be
// written and a dead word must not be touched. Slow paths are out of line.
//   Why unpin is not a fetch_sub (issue 20): a fetch_sub of an empty field borrows one from the
// field above until a repair adds it back. A misused unpin write that borrows from a full READ
// field leaves it one below full, a racing try_pin(kRead) is admitted into that gap, and the
// repair's carry then wraps the READ field to zero: held read pins vanish from the word and a
// later drop answers kLast under them, an early free. Deciding before writing rules out every
// borrow, and with it every window an unpin misuse opened.
//
// Misuse (see misuse.h), decided on the value the operation's own atomic operation returned
// (for unpin, the value its compare-exchange would have replaced):
//   get on a dead object            kGetOnDead      undone; stays dead; returns kDead
//   put with no reference, live     kPutUnderflow   saturated: leaked, never freed
//   put on a dead object            kPutOnDead      undone; never a second kLast
//   unpin on a dead object          kUnpinOnDead    refused: the word is never written
//   unpin of a kind holding no pin  kUnpinUnderflow refused: the word is never written
//   get or put on saturated         kSaturated      stays saturated
// Racing with correct operations: get and put misuse are undone by a second RMW, so the word is
// visibly wrong between the two; unpin misuse never is. The pin fields therefore stay exact for
// the holders whatever the misuse (a misused put lands in the ordinary field's zones, never in a
// pin field). One misuse on an object whose last holder is letting go opens a window for an
// innocent racer: a misused get makes the word look alive until its undo, so a try_get or
// try_pin may succeed on the dying object. A misused put there cannot (UNDERFLOW with no pins
// reads as dead), nor can a misused unpin (it writes nothing). The last holder's move to DEAD
// is therefore a compare-exchange from "live zero": if a misused get, or a racer it let in,
// moved the word first, that holder answers kLive and the object is not freed under the racer,
// whose own last drop frees it; if only the misused get was there, its undo leaves "live zero",
// which reads as dead, and nobody frees it: a leak. (As an unconditional fetch_sub, the move
// subtracted from a word the racer held, a double kLast and a wrapped word: issue 20's interleave
// fuzzer found it.) No misuse makes two operations answer kLast or loses a correct operation.
// Misuse is a caller bug; its damage is a leak.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "pinsplit/misuse.h"
#include "pinsplit/refcount.h"

namespace pinsplit {

// A split of the 32-bit word: ReadBits on top, then WriteBits, then OrdinaryBits.
template <unsigned ReadBits, unsigned WriteBits, unsigned OrdinaryBits>
struct SplitLayout {
  static_assert(ReadBits + WriteBits + OrdinaryBits == 32, "a layout fills the 32-bit word");
  static_assert(ReadBits >= 1 && WriteBits >= 1, "each pin kind needs a field");
  // Four zones of at least 16 values each, so every zone has a middle and room around it.
  static_assert(OrdinaryBits >= 6, "the ordinary field needs its two zone bits and room");

  static constexpr unsigned kReadBits = ReadBits;
  static constexpr unsigned kWriteBits = WriteBits;
  static constexpr unsigned kOrdinaryBits = OrdinaryBits;

  // "split:R/W/O", built at compile time so misuse reports can point at it.
  static constexpr auto kName = [] {
    std::array<char, 16> out{};
    std::size_t at = 0;
    for (char c : std::string_view("split:")) out[at++] = c;
    for (unsigned v : {ReadBits, WriteBits, OrdinaryBits}) {
      if (v >= 10) out[at++] = static_cast<char>('0' + v / 10);
      out[at++] = static_cast<char>('0' + v % 10);
      out[at++] = '/';
    }
    out[at - 1] = '\0';
    return out;
  }();
};

// The seed's layout: READ 31..28, R/W 27..24, ordinary 23..0 (22 usable bits).
using SeedLayout = SplitLayout<4, 4, 24>;

template <class Layout = SeedLayout, template <class> class Atom = std::atomic>
class SplitRefcount {
 public:
  using Word = std::uint32_t;

  static constexpr unsigned kOrdinaryBits = Layout::kOrdinaryBits;
  static constexpr unsigned kWriteShift = Layout::kOrdinaryBits;
  static constexpr unsigned kReadShift = Layout::kOrdinaryBits + Layout::kWriteBits;

  static constexpr Word kOrdinaryMask = (Word{1} << kOrdinaryBits) - 1;
  static constexpr Word kMaxReadPins = (Word{1} << Layout::kReadBits) - 1;
  static constexpr Word kMaxWritePins = (Word{1} << Layout::kWriteBits) - 1;
  static constexpr Word kReadOne = Word{1} << kReadShift;
  static constexpr Word kWriteOne = Word{1} << kWriteShift;
  static constexpr Word kReadMask = kMaxReadPins << kReadShift;
  static constexpr Word kWriteMask = kMaxWritePins << kWriteShift;
  static constexpr Word kPinMask = kReadMask | kWriteMask;

  static constexpr Word kZone = Word{1} << (kOrdinaryBits - 2);  // Q
  static constexpr Word kDeadValue = kZone / 2;
  static constexpr Word kLiveBase = 2 * kZone;
  static constexpr Word kSaturationBase = 3 * kZone;
  static constexpr Word kSaturatedValue = 3 * kZone + kZone / 2;
  static constexpr Word kMaxRefs = kZone - 1;
  static constexpr Word kMaxRacingThreads = kZone / 2 - 1;

  static constexpr Capabilities kCapabilities{
      .exact_refs = true,
      .exact_pins = true,
      .pin_kinds = true,
      .saturates = true,
      .refuses_overflow = false,
      .detects_unpin_misuse = true,
      .pin_weight = 0,
  };

  static constexpr std::string_view name() { return Layout::kName.data(); }

  // A new object with `refs` ordinary references (one, usually).
  explicit SplitRefcount(Word refs = 1) : word_(kLiveBase + refs) {}
  SplitRefcount(const SplitRefcount&) = delete;
  SplitRefcount& operator=(const SplitRefcount&) = delete;

  // Takes another ordinary reference; the caller holds one already (or a pin).
  GetResult get() {
    const Word old = word_.fetch_add(1, std::memory_order_relaxed);
    if (refs_offset(old) >= kMaxRefs || old == kLiveBase) [[unlikely]] {
      return get_slow(old);
    }
    return GetResult::kOk;
  }

  // Takes a reference unless the object is dead.
  GetResult try_get() {
    Word old = word_.load(std::memory_order_relaxed);
    for (;;) {
      if (is_dead(old)) return GetResult::kDead;
      // Outside LIVE (saturated, or on its way there) the reference is not counted, so the
      // word is first pinned at kSaturatedValue: until some thread's repair lands, an
      // overflowing get's word is still exact, and racing puts could bring it back to LIVE.
      const bool overflows = is_live_zone(old) && refs_offset(old) == kMaxRefs;
      const Word next =
          is_live_zone(old) && !overflows ? old + 1 : with_ordinary(old, kSaturatedValue);
      if (word_.compare_exchange_weak(old, next, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
        if (overflows) [[unlikely]] {
          report_misuse(Misuse::kOverflow, name(), old);
        }
        return GetResult::kOk;
      }
    }
  }

  // Drops an ordinary reference. kLast: the object is dead and the caller frees it.
  PutResult put() {
    const Word old = word_.fetch_sub(1, std::memory_order_release);
    if (refs_offset(old) - 2 >= kMaxRefs - 1) [[unlikely]] {
      return put_slow(old);
    }
    return PutResult::kLive;
  }

  // Takes a pin of `kind` unless the object is dead or that pin field is full.
  PinResult try_pin(PinKind kind) {
    const Word one = pin_one(kind);
    const Word mask = pin_mask(kind);
    Word old = word_.load(std::memory_order_relaxed);
    for (;;) {
      if (is_dead(old)) return PinResult::kDead;
      if ((old & mask) == mask) return PinResult::kFull;
      if (word_.compare_exchange_weak(old, old + one, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
        return PinResult::kPinned;
      }
    }
  }

  // Drops a pin of `kind`. kLast: it was the last holder of any kind; the caller frees. An
  // empty field is never written (see "Why unpin is not a fetch_sub" above).
  PutResult unpin(PinKind kind) {
    const Word one = pin_one(kind);
    const Word mask = pin_mask(kind);
    Word old = word_.load(std::memory_order_relaxed);
    do {
      if ((old & mask) == 0) [[unlikely]]
        return unpin_slow(old, kind);
    } while (!word_.compare_exchange_weak(old, old - one, std::memory_order_release,
                                          std::memory_order_relaxed));
    if (old - one == kLiveBase) [[unlikely]]
      return unpin_slow(old, kind);
    return PutResult::kLive;
  }

  RefcountState state() const { return decode(word_.load(std::memory_order_acquire)); }
  Word pins(PinKind kind) const {
    return (word_.load(std::memory_order_acquire) & pin_mask(kind)) >> pin_shift(kind);
  }
  bool is_pinned() const { return (word_.load(std::memory_order_acquire) & kPinMask) != 0; }
  bool is_pinned_writable() const {
    return (word_.load(std::memory_order_acquire) & kWriteMask) != 0;
  }
  bool saturated() const { return is_saturated(word_.load(std::memory_order_acquire)); }
  bool dead() const { return is_dead(word_.load(std::memory_order_acquire)); }
  Word raw() const { return word_.load(std::memory_order_acquire); }

  bool reset(Word refs, Word read_pins, Word write_pins, bool saturated) {
    if (read_pins > kMaxReadPins || write_pins > kMaxWritePins) return false;
    if (!saturated && refs > kMaxRefs) return false;
    Word ordinary = saturated ? kSaturatedValue : kLiveBase + refs;
    if (!saturated && refs == 0 && read_pins == 0 && write_pins == 0) ordinary = kDeadValue;
    word_.store((read_pins << kReadShift) | (write_pins << kWriteShift) | ordinary,
                std::memory_order_release);
    return true;
  }

  static RefcountState decode(Word w) {
    RefcountState s;
    s.raw = w;
    s.read_pins = (w & kReadMask) >> kReadShift;
    s.write_pins = (w & kWriteMask) >> kWriteShift;
    s.pins = s.read_pins + s.write_pins;
    s.saturated = is_saturated(w);
    s.dead = is_dead(w);
    s.refs = is_live_zone(w) && !s.dead ? refs_offset(w) : 0;
    return s;
  }

 protected:
  static constexpr Word ordinary(Word w) { return w & kOrdinaryMask; }
  // References held, for a word in the LIVE zone; wraps to a large value outside it.
  static constexpr Word refs_offset(Word w) { return ordinary(w) - kLiveBase; }
  static constexpr bool is_live_zone(Word w) { return refs_offset(w) < kZone; }
  static constexpr bool is_saturated(Word w) { return ordinary(w) >= kSaturationBase; }
  // Dead: in the DEAD zone, or no pins and no references ("live zero" on its way to DEAD, or
  // below it in UNDERFLOW, where only a misused put on a dying object can take it).
  static constexpr bool is_dead(Word w) {
    return ordinary(w) < kZone || (ordinary(w) <= kLiveBase && (w & kPinMask) == 0);
  }
  static constexpr Word with_ordinary(Word w, Word ord) { return (w & ~kOrdinaryMask) | ord; }
  static constexpr Word pin_one(PinKind k) { return k == PinKind::kRead ? kReadOne : kWriteOne; }
  static constexpr Word pin_mask(PinKind k) { return k == PinKind::kRead ? kReadMask : kWriteMask; }
  static constexpr unsigned pin_shift(PinKind k) {
    return k == PinKind::kRead ? kReadShift : kWriteShift;
  }

  // The last holder let go: move "live zero" to the DEAD value. Acquire makes this RMW the
  // point that synchronises with every earlier release drop (see the header comment). Only
  // misuse can have moved the word since the drop (a misused get, or a racer it let in): then
  // the word is not freed here, and false says the caller was not the last.
  bool mark_dead() {
    Word live_zero = kLiveBase;
    return word_.compare_exchange_strong(live_zero, kDeadValue, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }

  // Pulls the ordinary field back to kSaturatedValue, keeping whatever the pin fields hold.
  // A dead word stays dead: no repair brings it back.
  [[gnu::noinline]] void resaturate() {
    Word old = word_.load(std::memory_order_relaxed);
    do {
      if (is_dead(old)) return;
    } while (!word_.compare_exchange_weak(old, with_ordinary(old, kSaturatedValue),
                                          std::memory_order_relaxed));
  }

  [[gnu::noinline]] GetResult get_slow(Word old) {
    if (is_dead(old)) {
      word_.fetch_sub(1, std::memory_order_relaxed);
      report_misuse(Misuse::kGetOnDead, name(), old);
      return GetResult::kDead;
    }
    if (is_live_zone(old) && refs_offset(old) < kMaxRefs) return GetResult::kOk;
    if (ordinary(old) < kLiveBase) return GetResult::kOk;  // an underflow is saturating it
    report_misuse(is_saturated(old) ? Misuse::kSaturated : Misuse::kOverflow, name(), old);
    resaturate();
    return GetResult::kOk;
  }

  [[gnu::noinline]] PutResult put_slow(Word old) {
    if (old == kLiveBase + 1) return mark_dead() ? PutResult::kLast : PutResult::kLive;
    if (is_dead(old)) {
      word_.fetch_add(1, std::memory_order_relaxed);
      report_misuse(Misuse::kPutOnDead, name(), old);
      return PutResult::kLive;
    }
    if (is_live_zone(old) && refs_offset(old) > 0) return PutResult::kLive;
    report_misuse(is_saturated(old) ? Misuse::kSaturated : Misuse::kPutUnderflow, name(), old);
    resaturate();
    return PutResult::kLive;
  }

  // `old`: the word unpin() replaced (its field held a pin, and old - one == kLiveBase: the
  // last holder let go), or the word it refused to write (the field was empty: misuse).
  [[gnu::noinline]] PutResult unpin_slow(Word old, PinKind kind) {
    if ((old & pin_mask(kind)) != 0) return mark_dead() ? PutResult::kLast : PutResult::kLive;
    report_misuse(is_dead(old) ? Misuse::kUnpinOnDead : Misuse::kUnpinUnderflow, name(), old);
    return PutResult::kLive;
  }

  Atom<Word> word_;
};

}  // namespace pinsplit
