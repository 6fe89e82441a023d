// SPDX-License-Identifier: MIT
// IoUringRing: one io_uring instance holding one registered buffer (a long-term R/W pin), driven
// with raw syscalls (no liburing), from the controller's side.
//
// The pin itself is taken by an agent (the process whose page it is): RegisterPinInCaller()
// runs IORING_REGISTER_BUFFERS there, which is pin_user_pages(FOLL_WRITE | FOLL_PIN |
// FOLL_LONGTERM) on the caller's mm. The controller then takes the ring with pidfd_getfd(2)
// (an io_uring fd cannot travel over SCM_RIGHTS since about 6.7) and the agent closes its own
// copy, so the ring - and the pin - outlive the agent, as a device's pin outlives its process.
//
// Access through the pin is the device's DMA: Read() is IORING_OP_WRITE_FIXED from the buffer
// into a memfd followed by pread, Write() is pwrite into the memfd followed by
// IORING_OP_READ_FIXED into the buffer. Both wait for their completion.
//
// Release(): IORING_UNREGISTER_BUFFERS (the unpin happens now, not in the ring's deferred exit
// work, so a fork right after sees the page unpinned), then unmap the rings and close both fds.
// The destructor releases too; every path leaves no fd or mapping behind. Not thread-safe.
#pragma once

#include <linux/io_uring.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pinsplit::host {

// A ring as its creator set it up: the fd and the offsets the controller needs to map it.
struct RingSetup {
  int fd = -1;
  io_uring_params params{};
};

// Runs in the agent: a new ring with one registered buffer of `length` bytes at `address`.
// The caller keeps the fd open until the controller has taken it.
absl::StatusOr<RingSetup> RegisterPinInCaller(std::uintptr_t address, std::size_t length);

class IoUringRing {
 public:
  // Adopts `ring_fd` (already holding the registration, owned by the controller now); creates
  // the memfd and maps the submission and completion rings.
  // `buffer_address` is where the agent registered the buffer (fixed I/O names it by that).
  static absl::StatusOr<IoUringRing> Adopt(int ring_fd, const io_uring_params& params,
                                           std::uintptr_t buffer_address);

  IoUringRing() = default;  // no ring: live() is false
  IoUringRing(IoUringRing&& other) noexcept;
  IoUringRing& operator=(IoUringRing&& other) noexcept;
  IoUringRing(const IoUringRing&) = delete;
  IoUringRing& operator=(const IoUringRing&) = delete;
  ~IoUringRing();

  // The first 8 bytes of the pinned buffer, as the device sees them.
  absl::StatusOr<std::uint64_t> Read();
  // Stores `value` in the first 8 bytes of the pinned buffer, as the device would.
  absl::Status Write(std::uint64_t value);
  // Unregisters (unpins) and closes. Idempotent.
  absl::Status Release();

  bool live() const { return ring_fd_ >= 0; }

 private:
  absl::Status Submit(std::uint8_t opcode);
  void Unmap();

  int ring_fd_ = -1;
  int memfd_ = -1;
  std::uintptr_t buffer_address_ = 0;
  void* sq_ring_ = nullptr;
  std::size_t sq_ring_size_ = 0;
  void* cq_ring_ = nullptr;  // equal to sq_ring_ under IORING_FEAT_SINGLE_MMAP
  std::size_t cq_ring_size_ = 0;
  void* sqes_ = nullptr;
  std::size_t sqes_size_ = 0;
  // Offsets into the rings, from io_uring_params.
  std::uint32_t sq_head_ = 0, sq_tail_ = 0, sq_mask_ = 0, sq_array_ = 0;
  std::uint32_t cq_head_ = 0, cq_tail_ = 0, cq_mask_ = 0, cqes_ = 0;
};

}  // namespace pinsplit::host
