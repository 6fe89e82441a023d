// SPDX-License-Identifier: MIT
#include "kernel_page_facts.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace pinsplit::host {
namespace {

constexpr std::uint64_t kPagemapPresent = std::uint64_t{1} << 63;
constexpr std::uint64_t kPagemapPfnMask = (std::uint64_t{1} << 55) - 1;

// One 8-byte entry of a /proc file indexed by page or PFN.
absl::Status ReadEntry(int fd, std::uint64_t index, std::uint64_t& out, const char* what) {
  if (pread(fd, &out, sizeof out, static_cast<off_t>(index * sizeof out)) != sizeof out) {
    return absl::ErrnoToStatus(errno, absl::StrCat("reading ", what));
  }
  return absl::OkStatus();
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

absl::Status ReadPageFacts(std::uintptr_t base, int count, KernelPageFact* out) {
  Fd pagemap{open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)};
  Fd kcount{open("/proc/kpagecount", O_RDONLY | O_CLOEXEC)};
  Fd kflags{open("/proc/kpageflags", O_RDONLY | O_CLOEXEC)};
  if (pagemap.fd < 0 || kcount.fd < 0 || kflags.fd < 0) {
    return absl::ErrnoToStatus(errno,
                               "opening /proc/self/pagemap, /proc/kpagecount, /proc/kpageflags");
  }
  for (int i = 0; i < count; ++i) {
    KernelPageFact& f = out[i];
    f = KernelPageFact{};
    std::uint64_t entry = 0;
    if (absl::Status s = ReadEntry(pagemap.fd, base / 4096 + i, entry, "pagemap"); !s.ok())
      return s;
    if ((entry & kPagemapPresent) == 0) continue;
    f.present = true;
    f.pfn = entry & kPagemapPfnMask;
    if (f.pfn == 0) return absl::PermissionDeniedError("pagemap hides PFNs (needs CAP_SYS_ADMIN)");
    std::uint64_t mapcount = 0;
    if (absl::Status s = ReadEntry(kcount.fd, f.pfn, mapcount, "kpagecount"); !s.ok()) return s;
    f.mapcount = static_cast<std::uint32_t>(mapcount);
    if (absl::Status s = ReadEntry(kflags.fd, f.pfn, f.flags, "kpageflags"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace pinsplit::host
