// SPDX-License-Identifier: MIT
// FusePinDaemon: real short-term GUP pins on anonymous pages, held for as long as the caller
// wants, through FUSE file systems whose daemon is a thread of the calling (controller)
// process. See /work/shared/research/host-kernel.md, "Held short-term pins through FUSE".
//
// How a pin comes about. Files are opened with FOPEN_DIRECT_IO, so FUSE direct I/O hands the
// caller's buffer to the daemon through iov_iter_extract_pages, which takes a FOLL_PIN on each
// page for as long as the request is outstanding:
//   - a pwrite() FROM a page is a R/O pin (an anon page shared COW is unshared first);
//   - a pread() INTO a page is a R/W pin (COW is broken first).
// The pin is dropped when the daemon answers the request, or when the kernel ends it (below).
// StartHeldFuseIo() issues such a call from a thread of the process that owns the page (in the
// host backend: an agent) and blocks in it until the daemon answers.
//
// One connection per pin id. The kernel copies a WRITE request's data out of the pinned page
// when the daemon reads the request (splice does not help: splicing the request out of
// /dev/fuse copied the page at splice time too, measured on 6.18.44 while writing this). To
// read through a R/O pin later than the pin was taken, the daemon must leave that request
// unread, and /dev/fuse is a FIFO: everything queued behind it would wait. So every pin id is
// its own FUSE mount with its own /dev/fuse queue, `Options::pins` of them, mounted by Mount():
//   PathFor(id)/read_pin   pwrite() at offset 0 takes a R/O pin
//   PathFor(id)/write_pin  pread() at offset 0 takes a R/W pin
// Nothing else may be queued behind an unread WRITE: each connection is warmed up at Mount (the
// first FLUSH is answered ENOSYS, so closing a file, even in an exiting process, never waits for
// the daemon; attributes and names are cached for an hour), and once a read_pin file is opened
// the daemon stops reading that connection until ReadThroughPin() or Release(). The pinner's
// open() is answered first, so the next request on the connection is its pwrite.
//
// States, per pin id:
//   idle --open(read_pin)--> armed --pwrite queued--> read-pinned (request unread)
//        read-pinned (unread) --ReadThroughPin()--> read-pinned (read: the data were copied
//                                                   from the page at that moment, ONCE)
//        read-pinned --Release()--> idle (the pwrite returns the full length)
//   idle --pread queued (read at once)--> write-pinned
//        write-pinned --WriteThroughPinAndRelease(d)--> idle (the pread returns d.size())
//        write-pinned --Release()--> idle (the pread returns 0)
//   any pinned state --the pinner's process exits or is killed--> idle, "cancelled":
//        - an unread WRITE is dequeued by the kernel (the pin is dropped at once); the daemon
//          learns it only when it next reads the connection (ReadThroughPin/Release report
//          "cancelled"), so IsPinned() stays true until then;
//        - a request already read is interrupted (FUSE_INTERRUPT) and the daemon ends it with
//          EINTR at once, which drops the pin. A FUSE pin never outlives its process.
//   any pinned state --held longer than Options::pin_watchdog--> idle, "cancelled" (EIO).
//
// Thread safety: every public method may be called from any thread of the controller; they
// share one mutex with the daemon thread and never hold it across a blocking system call.
// Memory ordering: what the daemon thread changes is visible to a method that observes it
// (mutex + condition variable).
//
// Misuse and what it does (never a hang, never UB in the daemon):
//   - a pin id outside 0 .. Options::pins - 1: PathFor() names a directory that does not exist
//     (opening it fails with ENOENT); the methods return OutOfRange;
//   - reusing a pin id before the previous pinner's HeldFuseIo returned from Join() is fine
//     (each open has its own file handle, so its close is not mistaken for the new pinner's);
//   - a second pread on a write-pinned id fails in the caller with EBUSY; a second open of an
//     armed read_pin, a stat or a listing on an armed id is queued behind the unread pwrite and
//     waits until that pin ends (do not: one pinner per id at a time);
//   - I/O larger than kMaxPinBytes or not at offset 0: EINVAL; pread of read_pin or pwrite of
//     write_pin: EINVAL;
//   - ReadThroughPin a second time: FailedPrecondition (the kernel gave its copy once);
//     ReadThroughPin on a write pin, WriteThroughPinAndRelease on a read pin, either on an idle
//     id: FailedPrecondition ("cancelled" in the message when the pinner died);
//   - WriteThroughPinAndRelease with more bytes than the pinner asked for: InvalidArgument;
//   - every wait takes a timeout; DeadlineExceeded when it passes, with the state left as is.
// The destructor answers what it has read (EIO), aborts every connection (umount2 MNT_FORCE,
// which also ends unread requests with ENOTCONN; MNT_DETACH if files are still open), joins the
// daemon thread and removes the directories. Processes forked from the controller inherit the
// /dev/fuse descriptors; the forced unmount aborts the connections for them too. If the
// controller itself is killed, the mounts stay until `umount -f` (nothing can run then).
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

// The largest single pinning I/O: 16 pages, one FUSE request.
inline constexpr std::size_t kMaxPinBytes = std::size_t{16} * 4096;

class FusePinDaemon {
 public:
  struct Options {
    // Pin ids 0 .. pins-1, one FUSE mount each (a script may hold this many FUSE pins at once).
    int pins = 32;
    // A pin held longer than this is ended by the daemon (the pinner's call fails with EIO), so
    // a forgotten pin cannot hang a run. Zero: no watchdog.
    absl::Duration pin_watchdog = absl::Seconds(60);
  };

  // Creates a directory under $TMPDIR (default /tmp), mounts one FUSE connection per pin id in
  // it, starts the daemon thread and warms every connection up. Error messages start with
  // "skipped: " when /dev/fuse or mount(2) is not permitted here.
  static absl::StatusOr<std::unique_ptr<FusePinDaemon>> Mount(Options options);
  static absl::StatusOr<std::unique_ptr<FusePinDaemon>> Mount() { return Mount(Options{}); }

  ~FusePinDaemon();
  FusePinDaemon(const FusePinDaemon&) = delete;
  FusePinDaemon& operator=(const FusePinDaemon&) = delete;

  // The directory holding every mount.
  const std::string& mount_point() const { return mount_point_; }
  // The mount of pin `pin_id`: a directory holding `read_pin` and `write_pin`. StartHeldFuseIo
  // takes this path.
  std::string PathFor(int pin_id) const;

  // Waits until the pinner's request is queued or read: the pages are pinned.
  absl::Status AwaitPinned(int pin_id, absl::Duration timeout);
  // Waits until pin `pin_id` is idle. For a read pin whose request is still unread this cannot
  // be known without taking the request: FailedPrecondition then (use ReadThroughPin/Release).
  absl::Status AwaitUnpinned(int pin_id, absl::Duration timeout);
  bool IsPinned(int pin_id) const;
  // How many pins ended without being released: pinner exit or kill, watchdog, destruction.
  int cancelled_count() const;

  // Read pin (the agent's pwrite): the bytes of the pinned page(s), copied from the page now.
  // Once per pin.
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

// The pinner's side: opens PathFor(id)/read_pin (write_pin = false) or PathFor(id)/write_pin,
// then a thread of the calling process does one pwrite from `page` (a R/O pin) or pread into
// `page` (a R/W pin) of `length` bytes at offset 0, and blocks until the daemon answers.
// `page` must stay mapped until Join() returns.
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

// `path` is FusePinDaemon::PathFor(id). Opening fails here (no thread started) with the errno.
absl::StatusOr<std::unique_ptr<HeldFuseIo>> StartHeldFuseIo(const std::string& path, void* page,
                                                            std::size_t length, bool write_pin);
inline absl::StatusOr<std::unique_ptr<HeldFuseIo>> StartHeldFuseIo(const std::string& path,
                                                                   void* page, bool write_pin) {
  return StartHeldFuseIo(path, page, 4096, write_pin);
}

}  // namespace pinsplit::host
