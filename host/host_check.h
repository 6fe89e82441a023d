// SPDX-License-Identifier: MIT
// What the running kernel offers the host backend, probed without side effects that outlive the
// call (no mount, no file left behind: the O_DIRECT probe uses O_TMPFILE).
//
// The backend needs: io_uring (io_uring_setup, IORING_REGISTER_BUFFERS and pidfd_getfd on a
// ring), PFNs in /proc/self/pagemap and readable /proc/kpagecount and /proc/kpageflags (root).
// FUSE, an O_DIRECT-capable file system, the shared zero page and gup_test (a true long-term R/O
// pin, gup_test_pin.h; probed by taking and releasing one on a page of the caller) are reported,
// not required.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace pinsplit::host {

struct HostCapabilities {
  std::string kernel;           // uname release
  bool root = false;            // effective uid 0
  bool io_uring = false;        // a ring could be set up, a buffer registered, the fd taken
  std::string io_uring_detail;  // why not, or the io_uring_disabled sysctl
  bool pidfd_getfd = false;
  bool fuse = false;        // /dev/fuse opens
  bool page_facts = false;  // pagemap PFNs, kpagecount, kpageflags readable
  std::string page_facts_detail;
  std::string odirect_fs;         // "ext4 at /var/tmp", or empty when none was found
  bool odirect_pins = false;      // that file system pins (a block device), not tmpfs's copy
  bool shared_zero_page = false;  // a read fault on anon memory maps the zero page
  bool gup_test = false;          // /sys/kernel/debug/gup_test took and released a R/O pin
  std::string gup_test_detail;    // why not
};

HostCapabilities ProbeHost();

// OK when the backend can run; else FailedPrecondition naming what is missing.
absl::Status BackendUsable(const HostCapabilities& caps);

// The probe as the `pinsplit host-check` table.
std::string FormatCapabilities(const HostCapabilities& caps);

}  // namespace pinsplit::host
