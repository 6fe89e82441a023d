// SPDX-License-Identifier: MIT
#include "io_uring_ring.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pinsplit::host {
namespace {

absl::Status Errno(absl::string_view what) { return absl::ErrnoToStatus(errno, what); }

template <typename T>
T* At(void* base, std::uint32_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

}  // namespace

absl::StatusOr<RingSetup> RegisterPinInCaller(std::uintptr_t address, std::size_t length) {
  RingSetup setup;
  const long fd = syscall(SYS_io_uring_setup, 4, &setup.params);
  if (fd < 0) return Errno("io_uring_setup");
  setup.fd = static_cast<int>(fd);
  // NOLINTNEXTLINE(performance-no-int-to-ptr): a user address, registered by the kernel
  iovec iov{reinterpret_cast<void*>(address), length};
  if (syscall(SYS_io_uring_register, setup.fd, IORING_REGISTER_BUFFERS, &iov, 1) < 0) {
    absl::Status s = Errno("IORING_REGISTER_BUFFERS");
    close(setup.fd);
    return s;
  }
  return setup;
}

absl::StatusOr<IoUringRing> IoUringRing::Adopt(int ring_fd, const io_uring_params& p,
                                               std::uintptr_t buffer_address) {
  IoUringRing ring;
  ring.ring_fd_ = ring_fd;
  ring.buffer_address_ = buffer_address;
  ring.memfd_ = static_cast<int>(syscall(SYS_memfd_create, "pinsplit-dma", 0));
  if (ring.memfd_ < 0) return Errno("memfd_create");
  if (ftruncate(ring.memfd_, 4096) != 0) return Errno("ftruncate(memfd)");
  ring.sq_ring_size_ = p.sq_off.array + p.sq_entries * sizeof(std::uint32_t);
  ring.cq_ring_size_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  const bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single)
    ring.sq_ring_size_ = ring.cq_ring_size_ = std::max(ring.sq_ring_size_, ring.cq_ring_size_);
  void* sq = mmap(nullptr, ring.sq_ring_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                  ring_fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) return Errno("mmap(IORING_OFF_SQ_RING)");
  ring.sq_ring_ = sq;
  if (single) {
    ring.cq_ring_ = sq;
  } else {
    void* cq = mmap(nullptr, ring.cq_ring_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                    ring_fd, IORING_OFF_CQ_RING);
    if (cq == MAP_FAILED) return Errno("mmap(IORING_OFF_CQ_RING)");
    ring.cq_ring_ = cq;
  }
  ring.sqes_size_ = p.sq_entries * sizeof(io_uring_sqe);
  void* sqes = mmap(nullptr, ring.sqes_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                    ring_fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) return Errno("mmap(IORING_OFF_SQES)");
  ring.sqes_ = sqes;
  ring.sq_head_ = p.sq_off.head;
  ring.sq_tail_ = p.sq_off.tail;
  ring.sq_mask_ = p.sq_off.ring_mask;
  ring.sq_array_ = p.sq_off.array;
  ring.cq_head_ = p.cq_off.head;
  ring.cq_tail_ = p.cq_off.tail;
  ring.cq_mask_ = p.cq_off.ring_mask;
  ring.cqes_ = p.cq_off.cqes;
  return ring;
}

IoUringRing::IoUringRing(IoUringRing&& other) noexcept { *this = std::move(other); }

IoUringRing& IoUringRing::operator=(IoUringRing&& other) noexcept {
  if (this == &other) return *this;
  (void)Release();
  ring_fd_ = std::exchange(other.ring_fd_, -1);
  memfd_ = std::exchange(other.memfd_, -1);
  buffer_address_ = other.buffer_address_;
  sq_ring_ = std::exchange(other.sq_ring_, nullptr);
  cq_ring_ = std::exchange(other.cq_ring_, nullptr);
  sqes_ = std::exchange(other.sqes_, nullptr);
  sq_ring_size_ = other.sq_ring_size_;
  cq_ring_size_ = other.cq_ring_size_;
  sqes_size_ = other.sqes_size_;
  sq_head_ = other.sq_head_;
  sq_tail_ = other.sq_tail_;
  sq_mask_ = other.sq_mask_;
  sq_array_ = other.sq_array_;
  cq_head_ = other.cq_head_;
  cq_tail_ = other.cq_tail_;
  cq_mask_ = other.cq_mask_;
  cqes_ = other.cqes_;
  return *this;
}

IoUringRing::~IoUringRing() { (void)Release(); }

// One SQE on buffer index 0, address 0 of it, 8 bytes, file offset 0; waits for its CQE.
absl::Status IoUringRing::Submit(std::uint8_t opcode) {
  if (ring_fd_ < 0) return absl::FailedPreconditionError("the ring was released");
  auto* tail = At<std::atomic<std::uint32_t>>(sq_ring_, sq_tail_);
  const std::uint32_t mask = *At<std::uint32_t>(sq_ring_, sq_mask_);
  const std::uint32_t t = tail->load(std::memory_order_relaxed);
  const std::uint32_t index = t & mask;
  io_uring_sqe* sqe = static_cast<io_uring_sqe*>(sqes_) + index;
  std::memset(sqe, 0, sizeof(*sqe));
  sqe->opcode = opcode;
  sqe->fd = memfd_;
  sqe->off = 0;
  // The registered buffer's own address: the agent registered it at the same virtual address,
  // and fixed-buffer I/O checks the range against the registration, not the caller's mm.
  sqe->addr = buffer_address_;
  sqe->len = 8;
  sqe->buf_index = 0;
  sqe->user_data = 1;
  At<std::uint32_t>(sq_ring_, sq_array_)[index] = index;
  tail->store(t + 1, std::memory_order_release);
  if (syscall(SYS_io_uring_enter, ring_fd_, 1, 1, IORING_ENTER_GETEVENTS, nullptr, 0) < 0) {
    return Errno("io_uring_enter");
  }
  auto* head = At<std::atomic<std::uint32_t>>(cq_ring_, cq_head_);
  auto* ctail = At<std::atomic<std::uint32_t>>(cq_ring_, cq_tail_);
  const std::uint32_t cmask = *At<std::uint32_t>(cq_ring_, cq_mask_);
  const std::uint32_t h = head->load(std::memory_order_relaxed);
  if (ctail->load(std::memory_order_acquire) == h) {
    return absl::InternalError("io_uring_enter returned without a completion");
  }
  const io_uring_cqe cqe = At<io_uring_cqe>(cq_ring_, cqes_)[h & cmask];
  head->store(h + 1, std::memory_order_release);
  if (cqe.res < 0) {
    return absl::ErrnoToStatus(-cqe.res, opcode == IORING_OP_WRITE_FIXED ? "IORING_OP_WRITE_FIXED"
                                                                         : "IORING_OP_READ_FIXED");
  }
  if (cqe.res != 8) return absl::InternalError(absl::StrCat("short fixed I/O: ", cqe.res));
  return absl::OkStatus();
}

absl::StatusOr<std::uint64_t> IoUringRing::Read() {
  if (absl::Status s = Submit(IORING_OP_WRITE_FIXED); !s.ok()) return s;
  std::uint64_t value = 0;
  if (pread(memfd_, &value, sizeof value, 0) != sizeof value) return Errno("pread(memfd)");
  return value;
}

absl::Status IoUringRing::Write(std::uint64_t value) {
  if (ring_fd_ < 0) return absl::FailedPreconditionError("the ring was released");
  if (pwrite(memfd_, &value, sizeof value, 0) != sizeof value) return Errno("pwrite(memfd)");
  return Submit(IORING_OP_READ_FIXED);
}

void IoUringRing::Unmap() {
  if (sqes_ != nullptr) munmap(sqes_, sqes_size_);
  if (cq_ring_ != nullptr && cq_ring_ != sq_ring_) munmap(cq_ring_, cq_ring_size_);
  if (sq_ring_ != nullptr) munmap(sq_ring_, sq_ring_size_);
  sqes_ = cq_ring_ = sq_ring_ = nullptr;
}

absl::Status IoUringRing::Release() {
  absl::Status status;
  if (ring_fd_ >= 0 &&
      syscall(SYS_io_uring_register, ring_fd_, IORING_UNREGISTER_BUFFERS, nullptr, 0) < 0) {
    status = Errno("IORING_UNREGISTER_BUFFERS");
  }
  Unmap();
  if (ring_fd_ >= 0) close(ring_fd_);
  if (memfd_ >= 0) close(memfd_);
  ring_fd_ = memfd_ = -1;
  return status;
}

}  // namespace pinsplit::host
