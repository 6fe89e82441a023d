// SPDX-License-Identifier: MIT
// The op-script language's process-level lines: what the mm model runs.
//
//   spawn A                         a new process
//   A map 0..3 | A map 5            private anonymous pages, zero-filled, read-write
//   A write 2 7 | A read 2 [=> 7]   memory access (a write may fault into the policy)
//   fork A B                        B is a child of A
//   A protect 2 ro|rw               mprotect one page
//   A unmap 2 | A exit
//   A pin read|write [longterm] [fast] 2 as h [=> pinned|full]
//                                   GUP with FOLL_PIN (FOLL_LONGTERM; GUP-fast first)
//   h read [=> 7] | h write 4       access through a pin
//   unpin h
//   A ref 2 as r | drop r           an extra ordinary reference (LRU, swap cache) and its release
//
// A script is a process-level script when its first operation is `spawn`. Names are letters,
// digits and '_', start with a letter, are not keywords, and name one thing for the whole
// script; they are checked before anything runs. docs/op-script.md is the reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/refcount.h"

namespace pinsplit::mm {

enum class MmOpKind : std::uint8_t {
  kSpawn,
  kMap,
  kUnmap,
  kRead,
  kWrite,
  kFork,
  kProtect,
  kPin,
  kPinRead,
  kPinWrite,
  kUnpin,
  kRef,
  kDrop,
  kExit,
};

struct MmOp {
  MmOpKind kind = MmOpKind::kSpawn;
  std::string process;  // the acting process (spawn: the new one; fork: the parent)
  std::string name;     // fork: the child; pin/ref: the new handle; handle ops: the handle
  std::uint32_t addr = 0;
  std::uint32_t last = 0;   // map: last address of the range
  std::uint64_t value = 0;  // write, pin write
  PinKind pin = PinKind::kRead;
  bool longterm = false;
  bool fast = false;
  bool writable = false;              // protect
  std::optional<std::string> result;  // after "=>"
  int line = 0;

  friend bool operator==(const MmOp&, const MmOp&) = default;
};

struct MmScript {
  std::vector<MmOp> ops;
};

// True when `text`'s first operation is `spawn`.
bool IsMmScript(std::string_view text);

// Parses and checks names. Errors are InvalidArgument: "line L, column C: what".
absl::StatusOr<MmScript> ParseMmScript(std::string_view text);

// The canonical text of one op; ParseMmScript reads it back (line numbers aside).
std::string Format(const MmOp& op);

}  // namespace pinsplit::mm
