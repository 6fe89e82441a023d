// SPDX-License-Identifier: MIT
#include "gup_test_pin.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace pinsplit::host {
namespace {

// mm/gup_test.h (not a UAPI header).
struct PinLongtermTest {
  std::uint64_t addr;
  std::uint64_t size;
  std::uint32_t flags;
};
static_assert(sizeof(PinLongtermTest) == 24, "the kernel's struct pin_longterm_test");

constexpr std::uint32_t kUseWrite = 1;                           // PIN_LONGTERM_TEST_FLAG_USE_WRITE
constexpr std::uint32_t kUseFast = 2;                            // PIN_LONGTERM_TEST_FLAG_USE_FAST
constexpr unsigned long kStart = _IOW('g', 7, PinLongtermTest);  // NOLINT(google-runtime-int)
constexpr unsigned long kStop = _IO('g', 8);                     // NOLINT(google-runtime-int)
constexpr unsigned long kRead = _IOW('g', 9, std::uint64_t);     // NOLINT(google-runtime-int)

absl::Status Errno(int error, const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat(what, ": ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<int> OpenGupTest(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Errno(errno, path);
  return fd;
}

absl::Status GupTestStart(int fd, std::uintptr_t addr, std::size_t size, bool write, bool fast) {
  PinLongtermTest args{addr, size, (write ? kUseWrite : 0) | (fast ? kUseFast : 0)};
  if (ioctl(fd, kStart, &args) != 0) {
    const int error = errno;
    if (error == EINVAL) {
      return absl::FailedPreconditionError(
          "gup_test START refused (EINVAL: a set may be held already, here or by another program)");
    }
    return Errno(error, "gup_test PIN_LONGTERM_TEST_START");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::uint64_t> GupTestReadFirstWord(int fd, std::size_t pages) {
  std::vector<char> buffer(pages * 4096);
  std::uint64_t to = reinterpret_cast<std::uintptr_t>(buffer.data());
  if (ioctl(fd, kRead, &to) != 0) return Errno(errno, "gup_test PIN_LONGTERM_TEST_READ");
  std::uint64_t v = 0;
  std::memcpy(&v, buffer.data(), sizeof v);
  return v;
}

absl::Status GupTestStop(int fd) {
  if (ioctl(fd, kStop) != 0) return Errno(errno, "gup_test PIN_LONGTERM_TEST_STOP");
  return absl::OkStatus();
}

absl::Status ProbeGupTest(const std::string& path) {
  absl::StatusOr<int> fd = OpenGupTest(path);
  if (!fd.ok()) return fd.status();
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    const int error = errno;
    close(*fd);
    return Errno(error, "mmap");
  }
  constexpr std::uint64_t kMark = 0x70696e73706c6974;  // "pinsplit"
  *static_cast<volatile std::uint64_t*>(page) = kMark;
  absl::Status status =
      GupTestStart(*fd, reinterpret_cast<std::uintptr_t>(page), 4096, false, false);
  if (status.ok()) {
    absl::StatusOr<std::uint64_t> v = GupTestReadFirstWord(*fd, 1);
    status = !v.ok()       ? v.status()
             : *v != kMark ? absl::FailedPreconditionError(
                                 "gup_test: READ through the pin gave other data than the page")
                           : absl::OkStatus();
    status.Update(GupTestStop(*fd));
  }
  close(*fd);  // releases the set too, should STOP have failed
  munmap(page, 4096);
  return status;
}

}  // namespace pinsplit::host
