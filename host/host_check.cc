// SPDX-License-Identifier: MIT
#include "host_check.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gup_test_pin.h"
#include "io_uring_ring.h"
#include "kernel_page_facts.h"

namespace pinsplit::host {
namespace {

std::string ReadSysctl(const char* path) {
  std::ifstream in(path);
  std::string v;
  if (!(in >> v)) return "absent";
  return v;
}

void ProbeIoUring(HostCapabilities& caps) {
  caps.io_uring_detail =
      absl::StrCat("kernel.io_uring_disabled=", ReadSysctl("/proc/sys/kernel/io_uring_disabled"));
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return;
  *static_cast<volatile char*>(page) = 1;
  absl::StatusOr<RingSetup> ring =
      RegisterPinInCaller(reinterpret_cast<std::uintptr_t>(page), 4096);
  if (!ring.ok()) {
    absl::StrAppend(&caps.io_uring_detail, "; ", ring.status().message());
    munmap(page, 4096);
    return;
  }
  caps.io_uring = true;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  if (pidfd >= 0) {
    const int copy = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, ring->fd, 0));
    caps.pidfd_getfd = copy >= 0;
    if (copy >= 0) close(copy);
    close(pidfd);
  }
  syscall(SYS_io_uring_register, ring->fd, IORING_UNREGISTER_BUFFERS, nullptr, 0);
  close(ring->fd);
  munmap(page, 4096);
}

void ProbePageFacts(HostCapabilities& caps) {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return;
  const auto base = reinterpret_cast<std::uintptr_t>(page);
  // Read fault first: the zero page, where the kernel has one.
  (void)*static_cast<volatile char*>(page);
  KernelPageFact fact;
  absl::Status s = ReadPageFacts(base, 1, &fact);
  if (s.ok() && fact.present) caps.shared_zero_page = (fact.flags >> kKpfZeroPage) & 1;
  *static_cast<volatile char*>(page) = 1;
  if (s.ok()) s = ReadPageFacts(base, 1, &fact);
  caps.page_facts = s.ok() && fact.present && fact.pfn != 0 && fact.mapcount == 1;
  caps.page_facts_detail =
      s.ok() ? absl::StrFormat("written page: pfn %#x mapcount %d anon-exclusive %d", fact.pfn,
                               fact.mapcount, fact.exclusive())
             : std::string(s.message());
  munmap(page, 4096);
}

void ProbeODirect(HostCapabilities& caps) {
  std::vector<std::string> dirs;
  if (const char* t = std::getenv("TMPDIR")) dirs.push_back(t);
  for (const char* d : {"/var/tmp", "/tmp", "."}) dirs.push_back(d);
  for (const std::string& dir : dirs) {
    // O_TMPFILE: a file with no name, gone when closed.
    const int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_DIRECT | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    struct statfs fs {};
    fstatfs(fd, &fs);
    close(fd);
    const bool tmpfs = fs.f_type == TMPFS_MAGIC;
    const char* type = tmpfs                            ? "tmpfs"
                       : fs.f_type == EXT4_SUPER_MAGIC  ? "ext4"
                       : fs.f_type == XFS_SUPER_MAGIC   ? "xfs"
                       : fs.f_type == BTRFS_SUPER_MAGIC ? "btrfs"
                                                        : "other";
    if (caps.odirect_fs.empty() || (!tmpfs && !caps.odirect_pins)) {
      caps.odirect_fs = absl::StrCat(type, " at ", dir);
      caps.odirect_pins = !tmpfs;
    }
    if (!tmpfs) break;
  }
}

}  // namespace

HostCapabilities ProbeHost() {
  HostCapabilities caps;
  utsname u{};
  if (uname(&u) == 0) caps.kernel = u.release;
  caps.root = geteuid() == 0;
  ProbeIoUring(caps);
  ProbePageFacts(caps);
  const int fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  caps.fuse = fuse >= 0;
  if (fuse >= 0) close(fuse);
  ProbeODirect(caps);
  const absl::Status gup_test = ProbeGupTest(kGupTestPath);
  caps.gup_test = gup_test.ok();
  caps.gup_test_detail = gup_test.ok() ? "a long-term R/O pin taken, read through and released"
                                       : std::string(gup_test.message());
  return caps;
}

absl::Status BackendUsable(const HostCapabilities& caps) {
  if (!caps.io_uring) {
    return absl::FailedPreconditionError(
        absl::StrCat("io_uring unavailable (", caps.io_uring_detail, ")"));
  }
  if (!caps.pidfd_getfd) return absl::FailedPreconditionError("pidfd_getfd refused");
  if (!caps.page_facts) {
    return absl::FailedPreconditionError(
        absl::StrCat("page facts unreadable (", caps.page_facts_detail, "; needs root)"));
  }
  return absl::OkStatus();
}

std::string FormatCapabilities(const HostCapabilities& caps) {
  const auto yn = [](bool b) { return b ? "yes" : "no"; };
  std::string out;
  absl::StrAppendFormat(&out, "%-22s %s\n", "kernel", caps.kernel);
  absl::StrAppendFormat(&out, "%-22s %s\n", "root", yn(caps.root));
  absl::StrAppendFormat(&out, "%-22s %s (%s)\n", "io_uring fixed buffers", yn(caps.io_uring),
                        caps.io_uring_detail);
  absl::StrAppendFormat(&out, "%-22s %s\n", "pidfd_getfd", yn(caps.pidfd_getfd));
  absl::StrAppendFormat(&out, "%-22s %s (%s)\n", "pagemap/kpage* facts", yn(caps.page_facts),
                        caps.page_facts_detail);
  absl::StrAppendFormat(&out, "%-22s %s\n", "FUSE (/dev/fuse)", yn(caps.fuse));
  absl::StrAppendFormat(
      &out, "%-22s %s\n", "O_DIRECT file system",
      caps.odirect_fs.empty()
          ? std::string("none found")
          : absl::StrCat(caps.odirect_fs,
                         caps.odirect_pins ? " (pins)" : " (copies, does not pin)"));
  absl::StrAppendFormat(&out, "%-22s %s\n", "shared zero page",
                        caps.page_facts ? yn(caps.shared_zero_page) : "unknown (no page facts)");
  absl::StrAppendFormat(&out, "%-22s %s (%s)\n", "gup_test (R/O longterm)", yn(caps.gup_test),
                        caps.gup_test_detail);
  return out;
}

}  // namespace pinsplit::host
