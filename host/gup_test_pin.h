// SPDX-License-Identifier: MIT
// The kernel's gup_test debugfs file (CONFIG_GUP_TEST, mm/gup_test.c) as a long-term pin: the
// one mechanism that takes a true long-term R/O pin (FOLL_PIN | FOLL_LONGTERM without
// FOLL_WRITE) from user space. The trial kernels have it; the 6.18 development host does not.
//
//   PIN_LONGTERM_TEST_START  _IOW('g', 7, {u64 addr; u64 size; u32 flags})  pin_user_pages() on
//                            the caller's mm over [addr, addr + size); flags: USE_WRITE (1)
//                            adds FOLL_WRITE, USE_FAST (2) uses pin_user_pages_fast
//   PIN_LONGTERM_TEST_STOP   _IO('g', 8)           unpin the held set
//   PIN_LONGTERM_TEST_READ   _IOW('g', 9, u64)     copy every held page to the user address
//
// The held set is global to the kernel, not per file: one START holds its pages until STOP or
// the release of the file (its last close), and a second START fails with EINVAL while a set is
// held - by this process or any other. So at most one gup_test pin exists at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pinsplit::host {

inline constexpr const char* kGupTestPath = "/sys/kernel/debug/gup_test";

// Opens the file read-write, close-on-exec. FailedPrecondition "PATH: why" when it cannot be.
absl::StatusOr<int> OpenGupTest(const std::string& path);

// START over [addr, addr + size) of the calling process's mm; `fast`: pin_user_pages_fast (which
// falls back to the slow path where the architecture has no GUP-fast, as UML).
absl::Status GupTestStart(int fd, std::uintptr_t addr, std::size_t size, bool write, bool fast);
// The first 8 bytes of the held set's first page (READ copies every held page).
absl::StatusOr<std::uint64_t> GupTestReadFirstWord(int fd, std::size_t pages);
absl::Status GupTestStop(int fd);

// Whether gup_test can serve a pin here: opens `path`, pins a page of the caller R/O, reads it
// back through the pin, unpins and closes. OK, or FailedPrecondition saying why not (absent,
// no permission, another program holds the set).
absl::Status ProbeGupTest(const std::string& path);

}  // namespace pinsplit::host
