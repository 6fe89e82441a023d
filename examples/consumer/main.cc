// SPDX-License-Identifier: MIT
// A buffer-pool frame counted by the seed's split word: a pin taken for DMA, refused once the
// field is full, and the frame freed by whoever lets go last.
#include <cstdio>

#include "pinsplit/split_refcount.h"

int main() {
  pinsplit::SplitRefcount<> frame;  // one reference: the pool's
  if (frame.try_pin(pinsplit::PinKind::kWrite) != pinsplit::PinResult::kPinned) return 1;
  if (!frame.is_pinned_writable()) return 1;
  if (frame.put() != pinsplit::PutResult::kLive) return 1;  // the pin keeps it alive
  if (frame.unpin(pinsplit::PinKind::kWrite) != pinsplit::PutResult::kLast) return 1;
  std::puts("frame freed by its last holder");
  return 0;
}
