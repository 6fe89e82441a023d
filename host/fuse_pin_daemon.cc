// SPDX-License-Identifier: MIT
// The FUSE pin daemon on the raw /dev/fuse protocol (<linux/fuse.h>). See the header for the
// states and guarantees; this file says why each step is done the way it is.
#include "host/fuse_pin_daemon.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pinsplit::host {
namespace {

// Node ids of every connection: 1 is the root directory (FUSE_ROOT_ID).
constexpr std::uint64_t kReadPinNode = 2;
constexpr std::uint64_t kWritePinNode = 3;
// A read buffer for one request: the largest WRITE plus its headers, and at least what
// fuse_dev_do_read demands of every reader (FUSE_MIN_READ_BUFFER).
constexpr std::size_t kRequestBytes = kMaxPinBytes + 8192;

std::string ErrnoText(int err) { return absl::StrCat(std::strerror(err), " (errno ", err, ")"); }

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

fuse_attr AttrFor(std::uint64_t node) {
  fuse_attr a{};
  a.ino = node;
  a.uid = getuid();
  a.gid = getgid();
  a.blksize = 4096;
  if (node == FUSE_ROOT_ID) {
    a.mode = S_IFDIR | 0755;
    a.nlink = 2;
  } else {
    a.mode = S_IFREG | 0600;
    a.nlink = 1;
    a.size = kMaxPinBytes;
    a.blocks = kMaxPinBytes / 512;
  }
  return a;
}

}  // namespace

class FusePinDaemon::Impl {
 public:
  enum class Kind { kIdle, kReadUnread, kReadTaken, kWrite };
  // One pin id: its mount, its /dev/fuse queue and the pin it holds.
  struct Connection {
    std::string dir;
    int fd = -1;
    bool mounted = false;
    bool arm_on_open = false;    // warm-up is over: opening read_pin arms the connection
    bool armed = false;          // read_pin is open: the daemon leaves this queue unread
    std::uint64_t armed_fh = 0;  // the pinner's open file, whose RELEASE means it gave up
    Kind kind = Kind::kIdle;
    std::uint64_t unique = 0;               // the pinner's request, once read
    std::uint32_t size = 0;                 // bytes the pinner's call transfers
    absl::Time since;                       // when the pin was first seen (for the watchdog)
    std::string last_end = "never pinned";  // how the previous pin ended, for error messages
  };

  Impl(std::string base, Options options) : base_(std::move(base)), options_(options) {
    conns_.resize(static_cast<std::size_t>(std::max(options.pins, 0)));
  }

  // Mounts every connection; on failure the caller runs Unmount().
  absl::Status MountAll() {
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      Connection& c = conns_[i];
      c.dir = absl::StrCat(base_, "/", i);
      if (mkdir(c.dir.c_str(), 0755) != 0) {
        return absl::InternalError(absl::StrCat("mkdir ", c.dir, ": ", ErrnoText(errno)));
      }
      c.fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
      if (c.fd < 0) {
        return absl::UnavailableError(
            absl::StrCat("skipped: cannot open /dev/fuse: ", ErrnoText(errno)));
      }
      const std::string opts = absl::StrFormat(
          "fd=%d,rootmode=40000,user_id=%d,group_id=%d,allow_other", c.fd, getuid(), getgid());
      if (mount("pinsplit", c.dir.c_str(), "fuse.pinsplit", MS_NOSUID | MS_NODEV | MS_NOATIME,
                opts.c_str()) != 0) {
        const int err = errno;
        const bool forbidden = err == EPERM || err == EACCES || err == ENODEV;
        return absl::UnavailableError(absl::StrCat(forbidden ? "skipped: " : "", "mount fuse on ",
                                                   c.dir, ": ", ErrnoText(err)));
      }
      c.mounted = true;
    }
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return absl::InternalError(absl::StrCat("eventfd: ", ErrnoText(errno)));
    thread_ = std::thread([this] { Serve(); });
    return absl::OkStatus();
  }

  // The first open, FLUSH, write and read of each connection, answered eagerly: the kernel
  // learns that FLUSH is not implemented (so no close ever waits behind an unread WRITE), and
  // names and attributes are cached. Then opening read_pin arms the connection. The I/O runs in
  // a thread of its own with a deadline: if the daemon does not answer, every connection is
  // aborted (a forced unmount), which ends the I/O, rather than hang Mount().
  absl::Status WarmUp(absl::Duration deadline) {
    std::mutex done_mu;
    std::condition_variable done_cv;
    bool done = false;
    absl::Status status;
    std::thread warm([&] {
      absl::Status s = WarmUpIo();
      std::lock_guard<std::mutex> lock(done_mu);
      status = s;
      done = true;
      done_cv.notify_all();
    });
    {
      std::unique_lock<std::mutex> lock(done_mu);
      if (!done_cv.wait_for(lock, absl::ToChronoNanoseconds(deadline), [&] { return done; })) {
        lock.unlock();
        for (Connection& c : conns_) {
          if (c.mounted) umount2(c.dir.c_str(), MNT_FORCE);
        }
        lock.lock();
        done_cv.wait(lock, [&] { return done; });
        status = absl::DeadlineExceededError(
            absl::StrFormat("the FUSE daemon did not answer its warm-up within %s",
                            absl::FormatDuration(deadline)));
      }
    }
    warm.join();
    if (!status.ok()) return status;
    std::lock_guard<std::mutex> lock(mu_);
    for (Connection& c : conns_) c.arm_on_open = true;
    return absl::OkStatus();
  }

  absl::Status WarmUpIo() {
    char byte = 0;
    for (Connection& c : conns_) {
      for (const char* file : {"read_pin", "write_pin"}) {
        const std::string path = absl::StrCat(c.dir, "/", file);
        int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", ErrnoText(errno)));
        const ssize_t r = file[0] == 'r' ? pwrite(fd, &byte, 1, 0) : pread(fd, &byte, 1, 0);
        const int err = errno;
        close(fd);
        if (r < 0) {
          return absl::InternalError(absl::StrCat("warm-up I/O on ", path, ": ", ErrnoText(err)));
        }
      }
    }
    return absl::OkStatus();
  }

  // Stops the daemon thread, answers what it has read, aborts and unmounts every connection
  // and removes the directories. Safe on a partly mounted set.
  void Unmount() {
    if (thread_.joinable()) {
      std::uint64_t one = 1;
      if (write(wake_fd_, &one, sizeof(one)) < 0) {
        // Only fails on overflow; the thread also polls with a timeout.
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
      }
      thread_.join();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (Connection& c : conns_) {
        if (c.kind == Kind::kReadTaken || c.kind == Kind::kWrite) {
          EndLocked(c, -EIO, "ended: the daemon was destroyed");
        } else if (c.kind == Kind::kReadUnread) {
          c.kind = Kind::kIdle;  // the forced unmount ends it with ENOTCONN
          ++cancelled_;
        }
      }
      stopped_ = true;
      cv_.notify_all();
    }
    for (Connection& c : conns_) {
      if (c.mounted && umount2(c.dir.c_str(), MNT_FORCE) != 0) umount2(c.dir.c_str(), MNT_DETACH);
      c.mounted = false;
      CloseFd(c.fd);
      if (!c.dir.empty()) rmdir(c.dir.c_str());
    }
    CloseFd(wake_fd_);
    rmdir(base_.c_str());
  }

  absl::StatusOr<Connection*> Find(int pin_id) {
    if (pin_id < 0 || static_cast<std::size_t>(pin_id) >= conns_.size()) {
      return absl::OutOfRangeError(
          absl::StrFormat("pin id %d: this daemon has ids 0 .. %d", pin_id, conns_.size() - 1));
    }
    return &conns_[static_cast<std::size_t>(pin_id)];
  }

  std::string PathFor(int pin_id) const { return absl::StrCat(base_, "/", pin_id); }

  absl::Status AwaitState(int pin_id, bool pinned, absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    absl::StatusOr<Connection*> c = Find(pin_id);
    if (!c.ok()) return c.status();
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      if (IsPinnedLocked(**c) == pinned) return absl::OkStatus();
      if (!pinned && (*c)->kind == Kind::kReadUnread) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "pin %d is a read pin whose request is still unread: whether the kernel cancelled it "
            "is only learned by taking it (ReadThroughPin or Release)",
            pin_id));
      }
      if (stopped_) {
        return absl::FailedPreconditionError(
            absl::StrFormat("pin %d: the FUSE daemon has stopped (%s)", pin_id, stop_reason_));
      }
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(absl::StrFormat("pin %d: not %s after %s", pin_id,
                                                           pinned ? "pinned" : "unpinned",
                                                           absl::FormatDuration(timeout)));
      }
      // Armed connections are polled here, not by the daemon thread: wake up often.
      cv_.wait_for(lock, absl::ToChronoNanoseconds(std::min(left, absl::Milliseconds(5))));
    }
  }

  bool IsPinned(int pin_id) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<Connection*> c = Find(pin_id);
    return c.ok() && IsPinnedLocked(**c);
  }

  int cancelled_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

  absl::StatusOr<std::string> ReadThroughPin(int pin_id) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<Connection*> found = Find(pin_id);
    if (!found.ok()) return found.status();
    Connection& c = **found;
    if (c.kind == Kind::kReadTaken) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "pin %d was read through once already: FUSE copies a pinned page once, when the "
          "daemon takes the pinner's request",
          pin_id));
    }
    if (c.kind == Kind::kWrite) {
      return absl::FailedPreconditionError(absl::StrFormat("pin %d is a write pin", pin_id));
    }
    return TakeReadPinLocked(pin_id, c);
  }

  absl::Status WriteThroughPinAndRelease(int pin_id, std::string_view data) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<Connection*> found = Find(pin_id);
    if (!found.ok()) return found.status();
    Connection& c = **found;
    if (c.kind != Kind::kWrite) {
      return absl::FailedPreconditionError(
          absl::StrFormat("pin %d is not a held write pin (%s)", pin_id,
                          c.kind == Kind::kIdle ? c.last_end : std::string("it is a read pin")));
    }
    if (data.size() > c.size) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "pin %d: %u bytes do not fit the %u the pinner reads", pin_id, data.size(), c.size));
    }
    const int err = ReplyLocked(c, c.unique, 0, data.data(), data.size());
    EndLocked(c, 0, "released after a write through it");
    return RefusedReply(pin_id, err);
  }

  absl::Status Release(int pin_id) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<Connection*> found = Find(pin_id);
    if (!found.ok()) return found.status();
    Connection& c = **found;
    if (c.kind == Kind::kIdle || c.kind == Kind::kReadUnread) {
      if (!c.armed && c.kind == Kind::kIdle) {
        return absl::FailedPreconditionError(
            absl::StrFormat("pin %d is not held (%s)", pin_id, c.last_end));
      }
      absl::StatusOr<std::string> taken = TakeReadPinLocked(pin_id, c);
      if (!taken.ok()) return taken.status();
    }
    int err;
    if (c.kind == Kind::kReadTaken) {
      fuse_write_out out{};
      out.size = c.size;  // the pinner's pwrite wrote everything
      err = ReplyLocked(c, c.unique, 0, &out, sizeof(out));
    } else {
      err = ReplyLocked(c, c.unique, 0, nullptr, 0);  // the pinner's pread reads 0 bytes
    }
    EndLocked(c, 0, "released");
    return RefusedReply(pin_id, err);
  }

 private:
  static absl::Status RefusedReply(int pin_id, int err) {
    if (err == 0) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrFormat("pin %d: the kernel refused the answer (%s): the request was cancelled",
                        pin_id, ErrnoText(err)));
  }

  // A queued request on an armed connection is the pinner's pwrite (see the header).
  bool IsPinnedLocked(Connection& c) {
    if (c.kind != Kind::kIdle) return true;
    if (!c.armed || c.fd < 0) return false;
    pollfd p = {c.fd, POLLIN, 0};
    if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
      c.kind = Kind::kReadUnread;
      c.since = absl::Now();
      return true;
    }
    return false;
  }

  // Reads the armed connection's queue up to the pinner's WRITE: its data are copied from the
  // pinned page now. Anything else met on the way is served (a RELEASE there means the pinner
  // closed its file: its WRITE was cancelled, or never sent).
  absl::StatusOr<std::string> TakeReadPinLocked(int pin_id, Connection& c) {
    if (!c.armed) {
      return absl::FailedPreconditionError(
          absl::StrFormat("pin %d is not held (%s)", pin_id, c.last_end));
    }
    bool released = false;
    while (true) {
      absl::StatusOr<Request> req = ReadRequest(c);
      if (!req.ok()) return req.status();
      if (req->none) break;
      if (req->in.opcode == FUSE_WRITE && req->in.nodeid == kReadPinNode) {
        fuse_write_in w{};
        std::memcpy(&w, req->args.data(), std::min(sizeof(w), req->args.size()));
        c.armed = false;
        if (w.offset != 0 || w.size > kMaxPinBytes || req->args.size() < sizeof(w) + w.size) {
          ReplyLocked(c, req->in.unique, -EINVAL, nullptr, 0);
          c.last_end = "refused: not one write at offset 0";
          return absl::FailedPreconditionError(absl::StrFormat(
              "pin %d: the pinner's pwrite was not a pin (%s)", pin_id, c.last_end));
        }
        c.kind = Kind::kReadTaken;
        c.unique = req->in.unique;
        c.size = w.size;
        if (c.since == absl::Time()) c.since = absl::Now();
        return req->args.substr(sizeof(w), w.size);
      }
      if (req->in.opcode == FUSE_RELEASE && ArgsAs<fuse_release_in>(req->args).fh == c.armed_fh) {
        released = true;  // the pinner closed its file (or died) without a pending pwrite
      }
      HandleLocked(c, *req);
    }
    if (!released) {
      c.kind = Kind::kIdle;  // nothing is queued: the pinner has not written yet
      return absl::FailedPreconditionError(absl::StrFormat(
          "pin %d is not held: read_pin is open but nothing was written to it yet", pin_id));
    }
    c.armed = false;
    const bool was_pinned = c.kind == Kind::kReadUnread;
    c.kind = Kind::kIdle;
    c.last_end = "cancelled: its pinner closed the file or exited before the daemon read it";
    if (was_pinned) ++cancelled_;
    cv_.notify_all();
    return absl::FailedPreconditionError(
        absl::StrFormat("pin %d is not held (%s)", pin_id, c.last_end));
  }

  struct Request {
    bool none = false;  // nothing queued
    fuse_in_header in{};
    std::string args;  // everything after the header
  };

  // One request off the connection, or none. An error means the connection is gone.
  absl::StatusOr<Request> ReadRequest(Connection& c) {
    Request req;
    buffer_.resize(kRequestBytes);
    while (true) {
      ssize_t n = read(c.fd, buffer_.data(), buffer_.size());
      if (n < 0 && (errno == EINTR || errno == ENOENT)) continue;  // ENOENT: interrupted meanwhile
      if (n < 0 && errno == EAGAIN) {
        req.none = true;
        return req;
      }
      if (n < 0) return absl::UnavailableError(absl::StrCat("read /dev/fuse: ", ErrnoText(errno)));
      if (static_cast<std::size_t>(n) < sizeof(fuse_in_header)) continue;
      std::memcpy(&req.in, buffer_.data(), sizeof(req.in));
      req.args.assign(buffer_.data() + sizeof(req.in),
                      std::min<std::size_t>(n, req.in.len) - sizeof(req.in));
      return req;
    }
  }

  // Makes the pin idle. A negative `error` fails the pinner's call with it (a cancellation); 0
  // means the caller has answered the request already.
  void EndLocked(Connection& c, int error, std::string how) {
    if (error < 0) {
      ReplyLocked(c, c.unique, error, nullptr, 0);
      ++cancelled_;
    }
    c.kind = Kind::kIdle;
    c.size = 0;
    c.unique = 0;
    c.since = absl::Time();
    c.last_end = std::move(how);
    cv_.notify_all();
  }

  // Answers request `unique`; returns 0 or the errno of the write to /dev/fuse (ENOENT: the
  // kernel no longer waits for it).
  int ReplyLocked(Connection& c, std::uint64_t unique, int error, const void* payload,
                  std::size_t size) {
    fuse_out_header out{};
    out.len = static_cast<std::uint32_t>(sizeof(out) + (error == 0 ? size : 0));
    out.error = error;
    out.unique = unique;
    iovec iov[2] = {{&out, sizeof(out)}, {const_cast<void*>(payload), error == 0 ? size : 0}};
    while (true) {
      ssize_t w = writev(c.fd, iov, iov[1].iov_len > 0 ? 2 : 1);
      if (w >= 0) return 0;
      if (errno != EINTR) return errno;
    }
  }

  template <typename T>
  void ReplyWith(Connection& c, std::uint64_t unique, const T& out) {
    ReplyLocked(c, unique, 0, &out, sizeof(out));
  }

  template <typename T>
  static T ArgsAs(const std::string& args) {
    T t{};
    std::memcpy(&t, args.data(), std::min(sizeof(T), args.size()));
    return t;
  }

  void Serve() {
    std::string why = "stopped by its owner";
    std::vector<pollfd> fds;
    std::vector<Connection*> polled;
    while (true) {
      fds.clear();
      polled.clear();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) break;
        for (Connection& c : conns_) {
          if (c.fd >= 0 && !c.armed) {
            fds.push_back({c.fd, POLLIN, 0});
            polled.push_back(&c);
          }
        }
      }
      fds.push_back({wake_fd_, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 20) < 0 && errno != EINTR) {
        why = absl::StrCat("poll: ", ErrnoText(errno));
        break;
      }
      if (fds.back().revents & POLLIN) break;
      bool gone = false;
      std::lock_guard<std::mutex> lock(mu_);
      for (std::size_t i = 0; i < polled.size(); ++i) {
        if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) gone = true;
        if (!(fds[i].revents & POLLIN)) continue;
        Connection& c = *polled[i];
        // Serve until empty, stopping as soon as an OPEN of read_pin arms the connection.
        while (!c.armed) {
          absl::StatusOr<Request> req = ReadRequest(c);
          if (!req.ok()) gone = true;
          if (!req.ok() || req->none) break;
          HandleLocked(c, *req);
        }
      }
      if (gone) {
        why = "a connection was aborted";
        break;
      }
      WatchdogLocked();
    }
    std::lock_guard<std::mutex> lock(mu_);
    stop_reason_ = why;
    if (why != "stopped by its owner") stopped_ = true;
    cv_.notify_all();
  }

  void WatchdogLocked() {
    if (options_.pin_watchdog <= absl::ZeroDuration()) return;
    const absl::Time now = absl::Now();
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      Connection& c = conns_[i];
      IsPinnedLocked(c);  // notices queued pwrites on armed connections
      if (c.kind == Kind::kIdle || now - c.since <= options_.pin_watchdog) continue;
      const std::string how = absl::StrCat("cancelled by the watchdog after ",
                                           absl::FormatDuration(options_.pin_watchdog));
      if (c.kind == Kind::kReadUnread && !TakeReadPinLocked(static_cast<int>(i), c).ok()) {
        continue;  // it was cancelled already, and counted
      }
      EndLocked(c, -EIO, how);
    }
  }

  // Every request read eagerly, and those met while taking a read pin.
  void HandleLocked(Connection& c, const Request& req) {
    const fuse_in_header& in = req.in;
    const std::string& args = req.args;
    const std::uint64_t node = in.nodeid;
    switch (in.opcode) {
      case FUSE_INIT: {
        const auto init = ArgsAs<fuse_init_in>(args);
        fuse_init_out out{};
        out.major = FUSE_KERNEL_VERSION;
        out.minor = FUSE_KERNEL_MINOR_VERSION;
        out.max_readahead = init.max_readahead;
        // No FUSE_ASYNC_DIO: a pinner's direct I/O is one synchronous request that holds its
        // pin until answered. No writeback cache.
        out.flags = 0;
        out.max_background = 16;
        out.congestion_threshold = 12;
        out.max_write = kMaxPinBytes;
        out.time_gran = 1;
        ReplyWith(c, in.unique, out);
        return;
      }
      case FUSE_LOOKUP: {
        std::string_view name(args.data(), strnlen(args.data(), args.size()));
        const std::uint64_t found = node != FUSE_ROOT_ID  ? 0
                                    : name == "read_pin"  ? kReadPinNode
                                    : name == "write_pin" ? kWritePinNode
                                                          : 0;
        if (found == 0) {
          ReplyLocked(c, in.unique, -ENOENT, nullptr, 0);
          return;
        }
        fuse_entry_out out{};
        out.nodeid = found;
        out.generation = 1;
        out.entry_valid = 3600;
        out.attr_valid = 3600;
        out.attr = AttrFor(found);
        ReplyWith(c, in.unique, out);
        return;
      }
      case FUSE_GETATTR:
      case FUSE_SETATTR: {  // truncation and the like change nothing: files have a fixed size
        fuse_attr_out out{};
        out.attr_valid = 3600;
        out.attr = AttrFor(node);
        ReplyWith(c, in.unique, out);
        return;
      }
      case FUSE_OPEN:
      case FUSE_OPENDIR: {
        fuse_open_out out{};
        out.fh = ++next_fh_;
        // FOPEN_NOFLUSH (5.17): close() returns before the flush path. On 6.12 that path takes
        // the inode lock before it looks at no_flush, and a held direct WRITE (a read pin) holds
        // that lock: a fork's child closing its copy of the file at exit would wait for the pin.
        out.open_flags = in.opcode == FUSE_OPEN ? FOPEN_DIRECT_IO | FOPEN_NOFLUSH : 0;
        ReplyWith(c, in.unique, out);
        // The pinner opened read_pin: its pwrite comes next and must stay unread.
        if (in.opcode == FUSE_OPEN && node == kReadPinNode && c.arm_on_open &&
            c.kind == Kind::kIdle) {
          c.armed = true;
          c.armed_fh = out.fh;
        }
        return;
      }
      case FUSE_READDIR:  // an empty listing: the files are found by name
        ReplyLocked(c, in.unique, 0, nullptr, 0);
        return;
      case FUSE_READ: {
        const auto r = ArgsAs<fuse_read_in>(args);
        if (node != kWritePinNode || r.offset != 0 || r.size > kMaxPinBytes) {
          ReplyLocked(c, in.unique,
                      node == kWritePinNode || node == kReadPinNode ? -EINVAL : -EISDIR, nullptr,
                      0);
          return;
        }
        if (!c.arm_on_open) {  // warm-up
          ReplyLocked(c, in.unique, 0, nullptr, 0);
          return;
        }
        if (c.kind != Kind::kIdle) {
          ReplyLocked(c, in.unique, -EBUSY, nullptr, 0);
          return;
        }
        c.kind = Kind::kWrite;
        c.unique = in.unique;
        c.size = r.size;
        c.since = absl::Now();
        cv_.notify_all();
        return;
      }
      case FUSE_WRITE: {
        // Only warm-up writes, or a pwrite to read_pin that was not armed, get here: answered
        // as written. A WRITE to write_pin is refused.
        const auto w = ArgsAs<fuse_write_in>(args);
        if (node != kReadPinNode) {
          ReplyLocked(c, in.unique, -EINVAL, nullptr, 0);
          return;
        }
        fuse_write_out out{};
        out.size = w.size;
        ReplyWith(c, in.unique, out);
        return;
      }
      case FUSE_INTERRUPT: {
        // The pinner got a signal; when it is dying, the kernel waits for this request's answer
        // before the process can exit. End the pin as the kernel ends a request still queued.
        const auto intr = ArgsAs<fuse_interrupt_in>(args);
        // Request ids are per connection, and a connection holds at most one pin.
        if (c.kind != Kind::kIdle && c.unique == intr.unique) {
          EndLocked(c, -EINTR, "cancelled: its pinner was interrupted or exited");
        }
        return;  // an interrupt itself is never answered
      }
      case FUSE_FORGET:
      case FUSE_BATCH_FORGET:
      case FUSE_DESTROY:
        return;  // no answer expected
      case FUSE_FLUSH:
        // ENOSYS sets the connection's no_flush: from then on close() sends nothing that could
        // wait behind an unread WRITE (an exiting pinner would deadlock otherwise).
        ReplyLocked(c, in.unique, -ENOSYS, nullptr, 0);
        return;
      case FUSE_RELEASE:
      case FUSE_RELEASEDIR:
      case FUSE_FSYNC:
      case FUSE_FSYNCDIR:
        ReplyLocked(c, in.unique, 0, nullptr, 0);
        return;
      case FUSE_STATFS: {
        fuse_statfs_out out{};
        out.st.bsize = 4096;
        out.st.frsize = 4096;
        out.st.namelen = 255;
        ReplyWith(c, in.unique, out);
        return;
      }
      default:
        ReplyLocked(c, in.unique, -ENOSYS, nullptr, 0);
        return;
    }
  }

  const std::string base_;
  const Options options_;
  std::vector<Connection> conns_;  // sized once
  int wake_fd_ = -1;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t next_fh_ = 0;  // every open gets its own file handle
  std::string buffer_;         // one request; used under mu_
  int cancelled_ = 0;
  bool stopping_ = false;
  bool stopped_ = false;
  std::string stop_reason_;
};

absl::StatusOr<std::unique_ptr<FusePinDaemon>> FusePinDaemon::Mount(Options options) {
  if (options.pins < 1 || options.pins > 1024) {
    return absl::InvalidArgumentError(absl::StrFormat("pins = %d (1 .. 1024)", options.pins));
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string base = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/pinsplit-fuse-XXXXXX");
  if (mkdtemp(base.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", base, ": ", ErrnoText(errno)));
  }
  auto impl = std::make_unique<Impl>(base, options);
  absl::Status status = impl->MountAll();
  if (status.ok()) status = impl->WarmUp(absl::Seconds(20));
  if (!status.ok()) {
    impl->Unmount();
    return status;
  }
  return std::unique_ptr<FusePinDaemon>(new FusePinDaemon(std::move(base), std::move(impl)));
}

FusePinDaemon::FusePinDaemon(std::string mount_point, std::unique_ptr<Impl> impl)
    : mount_point_(std::move(mount_point)), impl_(std::move(impl)) {}

FusePinDaemon::~FusePinDaemon() { impl_->Unmount(); }

std::string FusePinDaemon::PathFor(int pin_id) const { return impl_->PathFor(pin_id); }
absl::Status FusePinDaemon::AwaitPinned(int pin_id, absl::Duration timeout) {
  return impl_->AwaitState(pin_id, true, timeout);
}
absl::Status FusePinDaemon::AwaitUnpinned(int pin_id, absl::Duration timeout) {
  return impl_->AwaitState(pin_id, false, timeout);
}
bool FusePinDaemon::IsPinned(int pin_id) const { return impl_->IsPinned(pin_id); }
int FusePinDaemon::cancelled_count() const { return impl_->cancelled_count(); }
absl::StatusOr<std::string> FusePinDaemon::ReadThroughPin(int pin_id) {
  return impl_->ReadThroughPin(pin_id);
}
absl::Status FusePinDaemon::WriteThroughPinAndRelease(int pin_id, std::string_view data) {
  return impl_->WriteThroughPinAndRelease(pin_id, data);
}
absl::Status FusePinDaemon::Release(int pin_id) { return impl_->Release(pin_id); }

// ---------------------------------------------------------------------------------------------

class HeldFuseIo::Impl {
 public:
  Impl(int fd, void* page, std::size_t length, bool write_pin)
      : fd_(fd), page_(page), length_(length), write_pin_(write_pin) {
    thread_ = std::thread([this] { Run(); });
  }

  ~Impl() {
    if (!Wait(absl::Seconds(30))) {
      std::fprintf(stderr,
                   "HeldFuseIo: the pinning %s has not returned after 30 s; aborting rather than "
                   "leave it running\n",
                   write_pin_ ? "pread" : "pwrite");
      std::abort();
    }
    thread_.join();
    close(fd_);
  }

  bool Wait(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return done_; });
  }

  absl::StatusOr<std::size_t> Join(absl::Duration timeout) {
    if (!Wait(timeout)) {
      return absl::DeadlineExceededError(absl::StrFormat("the pinning %s has not returned after %s",
                                                         write_pin_ ? "pread" : "pwrite",
                                                         absl::FormatDuration(timeout)));
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (result_ < 0) {
      return absl::UnavailableError(
          absl::StrFormat("pinning %s: %s", write_pin_ ? "pread" : "pwrite", ErrnoText(errno_)));
    }
    return static_cast<std::size_t>(result_);
  }

  bool done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

 private:
  void Run() {
    // Not retried on EINTR: that is the daemon ending a cancelled pin, reported to Join.
    const ssize_t r = write_pin_ ? pread(fd_, page_, length_, 0) : pwrite(fd_, page_, length_, 0);
    const int err = errno;
    std::lock_guard<std::mutex> lock(mu_);
    result_ = r;
    errno_ = err;
    done_ = true;
    cv_.notify_all();
  }

  const int fd_;
  void* const page_;
  const std::size_t length_;
  const bool write_pin_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  ssize_t result_ = 0;
  int errno_ = 0;
};

HeldFuseIo::HeldFuseIo(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HeldFuseIo::~HeldFuseIo() = default;
absl::StatusOr<std::size_t> HeldFuseIo::Join(absl::Duration timeout) {
  return impl_->Join(timeout);
}
bool HeldFuseIo::done() const { return impl_->done(); }

absl::StatusOr<std::unique_ptr<HeldFuseIo>> StartHeldFuseIo(const std::string& path, void* page,
                                                            std::size_t length, bool write_pin) {
  if (length == 0 || length > kMaxPinBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("a pinning I/O of %u bytes (1 .. %u)", length, kMaxPinBytes));
  }
  const std::string file = absl::StrCat(path, write_pin ? "/write_pin" : "/read_pin");
  int fd = open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("open ", file, ": ", ErrnoText(errno)));
  }
  return std::unique_ptr<HeldFuseIo>(
      new HeldFuseIo(std::make_unique<HeldFuseIo::Impl>(fd, page, length, write_pin)));
}

}  // namespace pinsplit::host
