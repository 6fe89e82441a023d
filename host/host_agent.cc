// SPDX-License-Identifier: MIT
#include "host_agent.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "absl/time/time.h"
#include "gup_test_pin.h"
#include "host/fuse_pin_daemon.h"
#include "io_uring_ring.h"

namespace pinsplit::host {
namespace {

constexpr int kAgentSocket = 3;

struct AgentState {
  std::uintptr_t base = kDefaultAgentBase;
  // Held FUSE calls by pin id. On the heap and never destroyed by a fork's child: the threads
  // that would end them exist only in the process that started them.
  std::map<std::uint32_t, std::unique_ptr<HeldFuseIo>>* fuse =
      new std::map<std::uint32_t, std::unique_ptr<HeldFuseIo>>();
  std::uint64_t mapped = 0;
  std::uint64_t writable = 0;
  pid_t controller = 0;
};

volatile std::uint64_t* Slot(const AgentState& s, std::uint32_t addr) {
  // NOLINTNEXTLINE(performance-no-int-to-ptr): the script's address space is at a fixed address
  return reinterpret_cast<volatile std::uint64_t*>(s.base + std::uintptr_t{addr} * 4096);
}

void Refuse(AgentReply& r, const char* text) {
  r.error = -1;
  std::snprintf(r.message, sizeof r.message, "%s", text);
}

void Fail(AgentReply& r, const char* what) {
  r.error = errno;
  std::snprintf(r.message, sizeof r.message, "%s: %s", what, std::strerror(errno));
}

bool Mapped(const AgentState& s, std::uint32_t addr) {
  return addr < kAgentPages && ((s.mapped >> addr) & 1) != 0;
}

long MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Receives one command and, when the controller sent one, a file descriptor.
bool Receive(int sock, AgentCommand& cmd, int& fd) {
  fd = -1;
  iovec iov{&cmd, sizeof cmd};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n != sizeof cmd) return false;  // end of file: the controller is gone
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    }
  }
  return true;
}

void Answer(int sock, AgentState& s, AgentReply& r) {
  r.mapped = s.mapped;
  if (r.error == 0) {
    if (absl::Status st = ReadPageFacts(s.base, kAgentPages, r.facts); !st.ok()) {
      r.error = -1;
      std::snprintf(r.message, sizeof r.message, "%s", std::string(st.message()).c_str());
    }
  }
  send(sock, &r, sizeof r, MSG_NOSIGNAL);
}

void Map(AgentState& s, const AgentCommand& c, AgentReply& r) {
  if (c.addr > c.last || c.last >= kAgentPages) return Refuse(r, "bad address range");
  for (std::uint32_t a = c.addr; a <= c.last; ++a) {
    if (Mapped(s, a)) return Refuse(r, "address already mapped");
  }
  const std::size_t length = std::size_t{c.last - c.addr + 1} * 4096;
  void* want = const_cast<std::uint64_t*>(Slot(s, c.addr));
  void* got = mmap(want, length, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (got == MAP_FAILED) return Fail(r, "mmap");
  if (got != want) {
    munmap(got, length);
    return Refuse(r, "mmap ignored MAP_FIXED_NOREPLACE (kernel older than 4.17)");
  }
  // EINVAL: a kernel without transparent huge pages (the trial's UML), nothing to turn off.
  if (madvise(got, length, MADV_NOHUGEPAGE) != 0 && errno != EINVAL) {
    return Fail(r, "madvise(MADV_NOHUGEPAGE)");
  }
  for (std::uint32_t a = c.addr; a <= c.last; ++a) {
    *Slot(s, a) = 0;  // the model's map gives a present, exclusive, zero-filled page
    s.mapped |= std::uint64_t{1} << a;
    s.writable |= std::uint64_t{1} << a;
  }
}

void Fork(AgentState& s, int child_socket, AgentReply& r) {
  if (child_socket < 0) return Refuse(r, "fork without a socket for the child");
  // A real fork of this mm whose parent is the controller (see host_agent.h).
  const long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid < 0) {
    close(child_socket);
    return Fail(r, "clone(CLONE_PARENT)");
  }
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != s.controller) _exit(127);
    for (auto& [id, io] : *s.fuse) (void)io.release();  // the parent's calls, not ours
    s.fuse->clear();
    dup2(child_socket, kAgentSocket);
    close(child_socket);
    return;  // the child serves its own socket from now on; the reply is its parent's
  }
  close(child_socket);
  r.pid = static_cast<std::int32_t>(pid);
}

void Pin(AgentState& s, const AgentCommand& c, AgentReply& r) {
  if (!Mapped(s, c.addr)) return Refuse(r, "nothing is mapped there");
  if (((s.writable >> c.addr) & 1) == 0) {
    return Refuse(r, "the page is mapped read-only, and an io_uring buffer must be writable");
  }
  absl::StatusOr<RingSetup> ring =
      RegisterPinInCaller(reinterpret_cast<std::uintptr_t>(Slot(s, c.addr)), 4096);
  if (!ring.ok()) {
    r.error = -1;
    std::snprintf(r.message, sizeof r.message, "%s", std::string(ring.status().message()).c_str());
    return;
  }
  r.fd = ring->fd;
  r.ring = ring->params;
}

void FusePin(AgentState& s, const AgentCommand& c, AgentReply& r) {
  if (!Mapped(s, c.addr)) return Refuse(r, "nothing is mapped there");
  if (s.fuse->count(c.count) != 0) return Refuse(r, "that FUSE pin id is in use");
  absl::StatusOr<std::unique_ptr<HeldFuseIo>> io =
      StartHeldFuseIo(std::string(c.path, strnlen(c.path, sizeof c.path)),
                      const_cast<std::uint64_t*>(Slot(s, c.addr)), 4096, c.value != 0);
  if (!io.ok()) {
    r.error = -1;
    std::snprintf(r.message, sizeof r.message, "%s", std::string(io.status().message()).c_str());
    return;
  }
  (*s.fuse)[c.count] = *std::move(io);
}

void FuseJoin(AgentState& s, const AgentCommand& c, AgentReply& r) {
  auto it = s.fuse->find(c.count);
  if (it == s.fuse->end()) return Refuse(r, "no FUSE call with that pin id");
  absl::StatusOr<std::size_t> done = it->second->Join(absl::Seconds(10));
  if (absl::IsDeadlineExceeded(done.status())) return Refuse(r, "the FUSE call did not return");
  s.fuse->erase(it);
  r.value = done.ok() ? *done : 0;
}

// The controller's gup_test file, START over one page of this mm; the caller closes `fd`, so
// the set stays held by the controller's copy alone.
void GupPin(AgentState& s, const AgentCommand& c, int fd, AgentReply& r) {
  if (fd < 0) return Refuse(r, "gup_test pin without the file");
  if (!Mapped(s, c.addr)) return Refuse(r, "nothing is mapped there");
  const absl::Status st = GupTestStart(fd, reinterpret_cast<std::uintptr_t>(Slot(s, c.addr)), 4096,
                                       (c.value & 1) != 0, (c.value & 2) != 0);
  if (!st.ok()) {
    r.error = -1;
    std::snprintf(r.message, sizeof r.message, "%s", std::string(st.message()).c_str());
  }
}

void Ref(AgentState& s, const AgentCommand& c, int pipe_fd, AgentReply& r) {
  if (pipe_fd < 0) return Refuse(r, "ref without a pipe");
  if (!Mapped(s, c.addr)) {
    close(pipe_fd);
    return Refuse(r, "nothing is mapped there");
  }
  for (std::uint32_t i = 0; i < c.count; ++i) {
    iovec iov{const_cast<std::uint64_t*>(Slot(s, c.addr)), 1};
    if (vmsplice(pipe_fd, &iov, 1, 0) != 1) {
      Fail(r, "vmsplice");
      break;
    }
    r.value = i + 1;
  }
  close(pipe_fd);
}

}  // namespace

std::uintptr_t ChooseAgentBase() {
  constexpr std::size_t kLength = std::size_t{kAgentPages} * 4096;
  for (const std::uintptr_t base : {kDefaultAgentBase, kLowAgentBase}) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr): a fixed address, probed
    void* want = reinterpret_cast<void*>(base);
    void* got = mmap(want, kLength, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == MAP_FAILED) continue;
    munmap(got, kLength);
    if (got == want) return base;
  }
  return kDefaultAgentBase;
}

[[noreturn]] void RunAgent(int socket_fd, pid_t controller, pid_t group, std::uintptr_t base) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != controller) _exit(127);
  if (setpgid(0, group) != 0 && setpgid(0, 0) != 0) _exit(127);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) signal(sig, SIG_DFL);
  if (socket_fd != kAgentSocket) {
    dup2(socket_fd, kAgentSocket);
    close(socket_fd);
  }
  syscall(SYS_close_range, kAgentSocket + 1, ~0U, 0);
  AgentState s;
  s.base = base;
  s.controller = controller;
  for (;;) {
    AgentCommand c;
    int fd = -1;
    if (!Receive(kAgentSocket, c, fd)) _exit(0);
    AgentReply r;
    const long faults_before = MinorFaults();
    int reply_socket = kAgentSocket;
    switch (c.op) {
      case AgentOp::kMap:
        Map(s, c, r);
        break;
      case AgentOp::kUnmap:
        if (!Mapped(s, c.addr)) {
          Refuse(r, "nothing is mapped there");
        } else if (munmap(const_cast<std::uint64_t*>(Slot(s, c.addr)), 4096) != 0) {
          Fail(r, "munmap");
        } else {
          s.mapped &= ~(std::uint64_t{1} << c.addr);
          s.writable &= ~(std::uint64_t{1} << c.addr);
        }
        break;
      case AgentOp::kRead:
        if (!Mapped(s, c.addr)) {
          Refuse(r, "nothing is mapped there");
        } else {
          r.value = *Slot(s, c.addr);
        }
        break;
      case AgentOp::kWrite:
        if (!Mapped(s, c.addr)) {
          Refuse(r, "nothing is mapped there");
        } else if (((s.writable >> c.addr) & 1) == 0) {
          Refuse(r, "the address is mapped read-only");
        } else {
          *Slot(s, c.addr) = c.value;
        }
        break;
      case AgentOp::kProtect:
        if (!Mapped(s, c.addr)) {
          Refuse(r, "nothing is mapped there");
        } else if (mprotect(const_cast<std::uint64_t*>(Slot(s, c.addr)), 4096,
                            c.value != 0 ? PROT_READ | PROT_WRITE : PROT_READ) != 0) {
          Fail(r, "mprotect");
        } else if (c.value != 0) {
          s.writable |= std::uint64_t{1} << c.addr;
        } else {
          s.writable &= ~(std::uint64_t{1} << c.addr);
        }
        break;
      case AgentOp::kFork: {
        const pid_t me = getpid();
        Fork(s, fd, r);
        if (getpid() != me) continue;  // the child: its parent answers for the fork
        break;
      }
      case AgentOp::kPin:
        Pin(s, c, r);
        break;
      case AgentOp::kCloseFd:
        if (close(static_cast<int>(c.value)) != 0) Fail(r, "close");
        break;
      case AgentOp::kRef:
        Ref(s, c, fd, r);
        fd = -1;
        break;
      case AgentOp::kFacts:
        break;
      case AgentOp::kFusePin:
        FusePin(s, c, r);
        break;
      case AgentOp::kFuseJoin:
        FuseJoin(s, c, r);
        break;
      case AgentOp::kGupPin:
        GupPin(s, c, fd, r);
        break;
      case AgentOp::kExit:
        Answer(reply_socket, s, r);
        _exit(0);
    }
    if (fd >= 0 && c.op != AgentOp::kFork) close(fd);
    r.minor_faults = MinorFaults() - faults_before;
    Answer(reply_socket, s, r);
  }
}

}  // namespace pinsplit::host
