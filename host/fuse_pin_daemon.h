// FusePinDaemon: real short-term GUP pins on anonymous pages, held for as long as the caller
// wants, through a FUSE file system whose daemon is a thread of the calling (controller)
// process. See /work/shared/research/host-kernel.md, "Held short-term pins through FUSE".
//
// How a pin comes about. Every file of the mount is opened with FOPEN_DIRECT_IO, so FUSE direct
// I/O hands the caller's buffer to the daemon through iov_iter_extract_pages, which takes a
// FOLL_PIN on each page for as long as the request is outstanding:
//   - a pwrite() FROM a page is a R/O pin (an anon page shared COW is unshared first);
//   - a pread() INTO a page is a R/W pin (COW is broken first).
// The pin is dropped when the daemon answers the request (or the kernel ends it: see below).
// StartHeldFuseIo() issues such a call from a thread of the process that owns the page (in the
// host backend: an agent) and blocks in it until the daemon answers.
//
// Reading through a R/O pin without copying at pin time. The kernel copies a WRITE request's
// data into the daemon's buffer when the daemon read()s the request, and /dev/fuse is a FIFO,
// so holding one request unread would block every request behind it (other pins, and the
// FLUSH an exiting process must have answered). The daemon therefore never read()s requests: it
// splice()s each one into a pipe of its own. For splice, FUSE puts a reference to the pinned
// user page itself into the pipe instead of copying it; the header is read from the pipe at
// once, the data stay there. ReadThroughPin() tee()s that data into a scratch pipe and reads
// it: the bytes are copied from the pinned page at that moment, as a device's DMA would read
// them, and may be read again (each call sees the page's current contents). Consequence: while
// a R/O pin is held, its page also has one extra ordinary reference (the pipe buffer's), which
// is dropped before the request is answered. Whether the kernel really defers the copy is
// checked by the tests (a write after the pin is seen through it).
//
// States, per pin id (each id is one file, PathFor(id)):
//   idle --(the agent's pwrite/pread arrives)--> read-pinned / write-pinned
//   read-pinned  --Release()----------------------------------------------> idle (pwrite returns
//                                                                          the full length)
//   write-pinned --WriteThroughPinAndRelease(d)---------------------------> idle (pread returns
//                                                                          d.size(); d is in the
//                                                                          page)
//   write-pinned --Release()----------------------------------------------> idle (pread returns 0)
//   *-pinned --the pinner is killed / its process exits (FUSE_INTERRUPT)--> idle, "cancelled"
//   *-pinned --held longer than Options::pin_watchdog----------------------> idle, "cancelled"
//                                                                          (the call fails EIO)
// A FUSE pin never outlives its process: the exiting kernel interrupts the request and the daemon
// ends it with EINTR, which drops the pin, as the kernel does for a request still queued.
//
// Thread safety: every public method may be called from any thread of the controller; they
// take one mutex shared with the daemon thread, never held while blocking in a system call for
// longer than the call itself. Memory ordering: a state change made by the daemon thread is
// visible to a method that observes it (mutex + condition variable).
//
// Misuse and what it does (never a hang, never UB in the daemon):
//   - a second pwrite/pread on a pin id that is already pinned fails in the caller with EBUSY;
//   - I/O larger than kMaxPinBytes, or not at offset 0, fails with EINVAL;
//   - ReadThroughPin on a write pin, WriteThroughPinAndRelease on a read pin, or any of them on
//     an idle id: FailedPrecondition ("cancelled" in the message when the pinner exited);
//   - WriteThroughPinAndRelease with more bytes than the pinner asked for: InvalidArgument,
//     nothing written;
//   - every wait takes a timeout; DeadlineExceeded when it passes, with the state left as is.
// The destructor ends every outstanding request (the pinners' calls fail with ENOTCONN or EIO),
// aborts the connection (umount2 MNT_FORCE, then MNT_DETACH), joins the daemon thread and
// removes the mount point. Processes forked from the controller inherit the /dev/fuse file
// descriptor; the forced unmount aborts the connection for them too.
//
// Requirements: Linux with CONFIG_FUSE_FS, /dev/fuse openable and mount(2) of type "fuse"
// permitted (root, or CAP_SYS_ADMIN in the mount namespace). Mount() returns an error whose
// message starts with "skipped: " when the kernel or the container forbids any of these.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pinsplit::host {

// The largest single pinning I/O: 16 pages (one request; FUSE's default max_pages is 32).
inline constexpr std::size_t kMaxPinBytes = 16 * 4096;

class FusePinDaemon {
 public:
  struct Options {
    // A pin held longer than this is ended by the daemon (the pinner's call fails with EIO), so
    // a forgotten pin cannot hang a run. Zero: no watchdog.
    absl::Duration pin_watchdog = absl::Seconds(60);
  };

  // Creates a mount point under $TMPDIR (default /tmp), mounts, and starts the daemon thread.
  // Error messages start with "skipped: " when /dev/fuse or mount(2) is not permitted here.
  static absl::StatusOr<std::unique_ptr<FusePinDaemon>> Mount(Options options);
  static absl::StatusOr<std::unique_ptr<FusePinDaemon>> Mount() { return Mount(Options{}); }

  ~FusePinDaemon();
  FusePinDaemon(const FusePinDaemon&) = delete;
  FusePinDaemon& operator=(const FusePinDaemon&) = delete;

  const std::string& mount_point() const { return mount_point_; }
  // The file whose I/O takes pin `pin_id` (any id >= 0; files exist for every id).
  std::string PathFor(int pin_id) const;

  // Waits until the pinner's request has reached the daemon: the pages are pinned.
  absl::Status AwaitPinned(int pin_id, absl::Duration timeout);
  // Waits until pin `pin_id` is idle (released, answered, or cancelled by its pinner's exit).
  absl::Status AwaitUnpinned(int pin_id, absl::Duration timeout);
  bool IsPinned(int pin_id) const;
  // How many pins the kernel cancelled (pinner exit) or the watchdog ended, since Mount.
  int cancelled_count() const;

  // Read pin (the agent's pwrite): the bytes of the pinned page(s), copied now. Repeatable.
  absl::StatusOr<std::string> ReadThroughPin(int pin_id);
  // Write pin (the agent's pread): `data` lands in the pinned page(s), then the pin is dropped.
  absl::Status WriteThroughPinAndRelease(int pin_id, std::string_view data);
  // Either kind: drop the pin without a transfer.
  absl::Status Release(int pin_id);

 private:
  class Impl;
  FusePinDaemon(std::string mount_point, std::unique_ptr<Impl> impl);
  std::string mount_point_;
  std::unique_ptr<Impl> impl_;
};

// The pinner's side: a thread of the calling process does one pwrite (read pin, from `page`) or
// pread (write pin, into `page`) of `length` bytes at offset 0 of `path`, and blocks until the
// daemon answers. `page` must stay mapped until Join() returns.
//
// Misuse: destroying a HeldFuseIo whose call has not returned waits for it up to 30 s (the
// daemon's release, its watchdog, or its destruction ends the call), then aborts the process
// with a message rather than leave a thread writing into memory that may be gone.
class HeldFuseIo {
 public:
  ~HeldFuseIo();
  HeldFuseIo(const HeldFuseIo&) = delete;
  HeldFuseIo& operator=(const HeldFuseIo&) = delete;

  // The call's result: bytes transferred, or the errno as a status. DeadlineExceeded if the call
  // has not returned within `timeout` (the thread keeps waiting; Join may be called again).
  absl::StatusOr<std::size_t> Join(absl::Duration timeout);
  bool done() const;

 private:
  friend absl::StatusOr<std::unique_ptr<HeldFuseIo>> StartHeldFuseIo(const std::string&, void*,
                                                                     std::size_t, bool);
  class Impl;
  explicit HeldFuseIo(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Opens `path` (O_RDWR; a failure is returned here, no thread started) and starts the call.
absl::StatusOr<std::unique_ptr<HeldFuseIo>> StartHeldFuseIo(const std::string& path, void* page,
                                                            std::size_t length, bool write_pin);
inline absl::StatusOr<std::unique_ptr<HeldFuseIo>> StartHeldFuseIo(const std::string& path,
                                                                   void* page, bool write_pin) {
  return StartHeldFuseIo(path, page, 4096, write_pin);
}

}  // namespace pinsplit::host
