// SPDX-License-Identifier: MIT
#include "host_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pinsplit::host {
namespace {

using mm::MmOp;
using mm::MmOpKind;

std::atomic<bool> g_stop{false};
struct sigaction g_old_int, g_old_term;

void OnStopSignal(int) { g_stop.store(true, std::memory_order_relaxed); }

absl::Status Errno(absl::string_view what) { return absl::ErrnoToStatus(errno, what); }

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

std::string Hex(std::uint64_t v) { return absl::StrFormat("%#x", v); }

// Sends a command, with an fd as SCM_RIGHTS when given.
absl::Status SendCommand(int sock, const AgentCommand& cmd, int fd) {
  iovec iov{const_cast<AgentCommand*>(&cmd), sizeof cmd};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) != sizeof cmd) return Errno("sending to the agent");
  return absl::OkStatus();
}

}  // namespace

void InstallHostStopHandlers() {
  ClearHostStop();
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

void RestoreHostStopHandlers() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

void RequestHostStop() { g_stop.store(true, std::memory_order_relaxed); }
void ClearHostStop() { g_stop.store(false, std::memory_order_relaxed); }
bool HostStopRequested() { return g_stop.load(std::memory_order_relaxed); }

namespace {

std::string IoUringStandIn(const MmOp& op) {
  if (op.pin == PinKind::kWrite) {
    return "pin write (short-term) -> io_uring long-term R/W pin (held until unpin)";
  }
  return absl::StrCat("pin read", op.longterm ? " longterm" : "",
                      " -> io_uring long-term R/W pin (FOLL_WRITE breaks COW where a R/O pin "
                      "unshares; the copy is counted as the unshare)");
}

// Why a FUSE pin cannot serve handle `op.name` as the rest of the script uses it, or "".
std::string FuseMisfit(const std::vector<MmOp>& ops, std::size_t k) {
  const MmOp& pin = ops[k];
  int reads = 0;
  bool written = false;
  for (std::size_t j = k + 1; j < ops.size(); ++j) {
    const MmOp& o = ops[j];
    const bool mine = o.name == pin.name;
    if (o.kind == MmOpKind::kUnpin && mine) return "";
    if (written && !(o.kind == MmOpKind::kRead || o.kind == MmOpKind::kPinRead)) {
      return "operations between its write and its unpin, and a FUSE write ends the pin";
    }
    if (o.kind == MmOpKind::kPinRead && mine) {
      if (pin.pin == PinKind::kWrite) return "read through, and a FUSE R/W pin cannot be read";
      if (++reads > 1) return "read twice, and a FUSE R/O pin gives its data once";
    }
    if (o.kind == MmOpKind::kPinWrite && mine) written = true;
    if (o.kind == MmOpKind::kExit && o.process == pin.process) {
      return absl::StrCat(pin.process,
                          " exits while it is held, and a FUSE pin ends with its process");
    }
  }
  return "";
}

}  // namespace

std::map<std::string, PinPlan> PlanPins(const mm::MmScript& script,
                                        const PinMechanisms& mechanisms) {
  std::map<std::string, PinPlan> plan;
  // gup_test holds one set of pages per system: the pin holding it, and the op index from which
  // it is free again (past the holder's unpin; never, if the script does not unpin it).
  std::size_t gup_free_from = 0;
  std::string gup_busy;
  for (std::size_t k = 0; k < script.ops.size(); ++k) {
    const MmOp& op = script.ops[k];
    if (op.kind != MmOpKind::kPin) continue;
    PinPlan p;
    if (op.pin == PinKind::kWrite && op.longterm) {
      plan[op.name] = p;  // io_uring: the real thing
      continue;
    }
    const std::string misfit =
        mechanisms.fuse ? FuseMisfit(script.ops, k) : "the FUSE daemon is not used";
    // Why gup_test does not take this read pin, or "" when it may.
    std::string no_gup;
    if (!mechanisms.gup_test) {
      no_gup = mechanisms.no_gup_test;
    } else if (k < gup_free_from) {
      no_gup = gup_busy;
    }
    const auto take_gup = [&] {
      p.mechanism = PinMechanism::kGupTest;
      gup_free_from = script.ops.size();
      for (std::size_t j = k + 1; j < script.ops.size(); ++j) {
        if (script.ops[j].kind == MmOpKind::kUnpin && script.ops[j].name == op.name) {
          gup_free_from = j + 1;
          break;
        }
      }
      gup_busy = absl::StrCat("gup_test holds one set of pages per system, and ", op.name,
                              " (line ", op.line, ") holds it");
    };
    if (op.pin == PinKind::kRead && op.longterm && no_gup.empty()) {
      take_gup();  // the real thing
    } else if (misfit.empty()) {
      p.mechanism = op.pin == PinKind::kRead ? PinMechanism::kFuseRead : PinMechanism::kFuseWrite;
      if (op.longterm) {
        p.stand_in = absl::StrCat(
            "pin read longterm -> FUSE short-term R/O pin (no long-term R/O pin: ", no_gup,
            "; the anon unshare rules are the same for any FOLL_PIN)");
      }
    } else if (op.pin == PinKind::kRead && no_gup.empty()) {
      take_gup();  // a short-term read pin FUSE cannot follow
      p.stand_in = absl::StrCat(
          "pin read -> gup_test long-term R/O pin (short-term and long-term R/O pins follow the "
          "same anon unshare rules) (",
          op.name, " is ", misfit, ")");
    } else {
      p.stand_in = absl::StrCat(IoUringStandIn(op), " (", op.name, " is ", misfit,
                                op.pin == PinKind::kRead ? absl::StrCat("; ", no_gup) : "", ")");
    }
    plan[op.name] = p;
  }
  return plan;
}

std::map<std::string, PinPlan> PlanPins(const mm::MmScript& script, bool fuse) {
  PinMechanisms mechanisms;
  mechanisms.fuse = fuse;
  mechanisms.no_gup_test = "gup_test is not used";
  return PlanPins(script, mechanisms);
}

HostSession::HostSession(const HostOptions& options) : options_(options), controller_(getpid()) {}

absl::StatusOr<std::unique_ptr<HostSession>> HostSession::Create(const HostOptions& options) {
  signal(SIGPIPE, SIG_IGN);  // a dead agent's socket must give EPIPE, not kill the controller
  HostOptions o = options;
  if (o.base == kDefaultAgentBase) o.base = ChooseAgentBase();  // user-mode Linux: lower
  return std::unique_ptr<HostSession>(new HostSession(o));
}

HostSession::~HostSession() { (void)Shutdown(); }

std::vector<pid_t> HostSession::agent_pids() const {
  std::vector<pid_t> pids;
  for (const auto& [name, agent] : agents_) pids.push_back(agent.pid);
  return pids;
}

// The agent is gone (its pidfd is readable, or its socket refused a command): reap it and say
// how it ended.
absl::Status HostSession::Died(const std::string& name, Agent& agent) {
  pollfd p{agent.pidfd, POLLIN, 0};
  poll(&p, 1, options_.timeout_ms);
  siginfo_t info{};
  if (waitid(static_cast<idtype_t>(P_PIDFD), agent.pidfd, &info, WEXITED | WNOHANG) != 0 ||
      info.si_pid == 0) {
    return absl::InternalError(absl::StrCat("agent ", name, " stopped answering"));
  }
  agent.pid = -1;
  if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
    return absl::InternalError(absl::StrCat("agent ", name, " died by signal ", info.si_status));
  }
  return absl::InternalError(absl::StrCat("agent ", name, " exited with ", info.si_status));
}

absl::StatusOr<AgentReply> HostSession::Await(const std::string& name, Agent& agent) {
  int waited = 0;
  for (;;) {
    if (HostStopRequested()) return absl::CancelledError("stopped by a signal");
    pollfd p[2] = {{agent.socket, POLLIN, 0}, {agent.pidfd, POLLIN, 0}};
    const int n = poll(p, 2, 100);
    if (n < 0 && errno != EINTR) return Errno("poll");
    if (n > 0 && (p[0].revents & POLLIN) != 0) break;
    if (n > 0 && (p[1].revents & POLLIN) != 0 && (p[0].revents & POLLIN) == 0) {
      return Died(name, agent);
    }
    if (n > 0 && (p[0].revents & (POLLHUP | POLLERR)) != 0) {
      return absl::InternalError(absl::StrCat("agent ", name, " hung up"));
    }
    waited += 100;
    if (waited >= options_.timeout_ms) {
      return absl::DeadlineExceededError(
          absl::StrCat("agent ", name, " did not answer within ", options_.timeout_ms, " ms"));
    }
  }
  AgentReply reply;
  const ssize_t got = recv(agent.socket, &reply, sizeof reply, 0);
  if (got <= 0) return Died(name, agent);  // end of file or reset: the agent is gone
  if (got != sizeof reply) {
    return absl::InternalError(absl::StrCat("agent ", name, " sent a short reply (", got, ")"));
  }
  return reply;
}

absl::StatusOr<AgentReply> HostSession::Call(const std::string& name, const AgentCommand& cmd,
                                             int fd) {
  auto it = agents_.find(name);
  if (it == agents_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(name, " is not a live process"));
  }
  if (!SendCommand(it->second.socket, cmd, fd).ok()) {
    broken_ = true;
    return Died(name, it->second);  // only a dying agent closes its socket
  }
  absl::StatusOr<AgentReply> reply = Await(name, it->second);
  if (!reply.ok()) {
    broken_ = true;
    return reply.status();
  }
  if (reply->error != 0) {
    return absl::FailedPreconditionError(reply->message);
  }
  return reply;
}

absl::Status HostSession::Spawn(const std::string& name) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return Errno("socketpair");
  const pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return Errno("fork");
  }
  if (pid == 0) {
    close(sv[0]);
    RunAgent(sv[1], controller_, group_, options_.base);
  }
  close(sv[1]);
  if (group_ == 0) group_ = pid;
  // The child joins the group itself; doing it here too closes the race with a kill of the group.
  setpgid(pid, group_);
  Agent agent{pid, PidfdOpen(pid), sv[0]};
  if (agent.pidfd < 0) {
    absl::Status s = Errno("pidfd_open");
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(sv[0]);
    return s;
  }
  agents_[name] = agent;
  return absl::OkStatus();
}

absl::Status HostSession::Fork(const std::string& parent, const std::string& child,
                               AgentReply& reply) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return Errno("socketpair");
  AgentCommand cmd;
  cmd.op = AgentOp::kFork;
  absl::StatusOr<AgentReply> r = Call(parent, cmd, sv[1]);
  close(sv[1]);
  if (!r.ok()) {
    close(sv[0]);
    return r.status();
  }
  Agent agent{r->pid, PidfdOpen(r->pid), sv[0]};
  if (agent.pidfd < 0) {
    absl::Status s = Errno("pidfd_open");
    kill(r->pid, SIGKILL);  // our child (CLONE_PARENT): its pid is ours until we reap it
    waitpid(r->pid, nullptr, 0);
    close(sv[0]);
    return s;
  }
  agents_[child] = agent;
  reply = *r;
  return absl::OkStatus();
}

// Waits for an agent to be gone and reaps it; kills it first when asked.
absl::Status HostSession::Reap(const std::string& name, bool kill_first) {
  auto it = agents_.find(name);
  if (it == agents_.end()) return absl::OkStatus();
  Agent agent = it->second;
  agents_.erase(it);
  absl::Status status;
  if (agent.pid > 0) {
    if (kill_first) syscall(SYS_pidfd_send_signal, agent.pidfd, SIGKILL, nullptr, 0);
    pollfd p{agent.pidfd, POLLIN, 0};
    int waited = 0;
    while (poll(&p, 1, 100) == 0 && waited < options_.timeout_ms) waited += 100;
    if (waited >= options_.timeout_ms) {
      syscall(SYS_pidfd_send_signal, agent.pidfd, SIGKILL, nullptr, 0);
      status = absl::DeadlineExceededError(absl::StrCat("agent ", name, " did not exit; killed"));
    }
    siginfo_t info{};
    if (waitid(static_cast<idtype_t>(P_PIDFD), agent.pidfd, &info, WEXITED) != 0 &&
        errno != ECHILD) {
      status.Update(Errno(absl::StrCat("reaping agent ", name)));
    }
  }
  if (agent.pidfd >= 0) close(agent.pidfd);
  if (agent.socket >= 0) close(agent.socket);
  return status;
}

absl::Status HostSession::Shutdown() {
  absl::Status status;
  while (!agents_.empty()) status.Update(Reap(agents_.begin()->first, /*kill_first=*/true));
  for (auto& [name, pin] : pins_) {
    status.Update(pin.ring.Release());
    status.Update(ReleaseGup(pin));
  }
  pins_.clear();
  fuse_.reset();  // after the agents: their calls are cancelled; unmounts, removes its folder
  for (auto& [name, fd] : refs_) close(fd);
  refs_.clear();
  DropBulkRefs();
  return status;
}

void HostSession::Record(const std::string& name, const AgentReply& reply) {
  auto& facts = snapshot_.processes[name];
  facts.clear();
  for (int a = 0; a < kAgentPages; ++a) {
    if (((reply.mapped >> a) & 1) == 0 || !reply.facts[a].present) continue;
    facts[a] = HostPageFact{reply.facts[a].pfn, static_cast<int>(reply.facts[a].mapcount),
                            reply.facts[a].exclusive()};
  }
}

absl::Status HostSession::Refresh() {
  snapshot_.processes.clear();
  AgentCommand cmd;
  cmd.op = AgentOp::kFacts;
  for (const auto& [name, agent] : agents_) {
    absl::StatusOr<AgentReply> r = Call(name, cmd);
    if (!r.ok()) return r.status();
    Record(name, *r);
  }
  snapshot_.pins.clear();
  for (const auto& [name, pin] : pins_) snapshot_.pins[name] = pin.pfn;
  return absl::OkStatus();
}

absl::Status HostSession::Plan(const mm::MmScript& script) {
  PinMechanisms mechanisms;
  mechanisms.fuse = options_.fuse;
  const bool read_pins = std::any_of(script.ops.begin(), script.ops.end(), [](const MmOp& op) {
    return op.kind == MmOpKind::kPin && op.pin == PinKind::kRead;
  });
  if (!options_.gup_test) {
    mechanisms.no_gup_test = "gup_test is not used (--gup_test=false)";
  } else if (read_pins) {
    if (!gup_test_probe_) gup_test_probe_ = ProbeGupTest(options_.gup_test_path);
    mechanisms.gup_test = gup_test_probe_->ok();
    if (!mechanisms.gup_test) {
      mechanisms.no_gup_test =
          absl::StrCat("no usable gup_test here (", gup_test_probe_->message(), ")");
    }
  }
  plan_ = PlanPins(script, mechanisms);
  int fuse_pins = 0;
  for (const auto& [name, p] : plan_) fuse_pins += p.mechanism != PinMechanism::kIoUring;
  if (fuse_pins == 0 || fuse_ != nullptr) return absl::OkStatus();
  FusePinDaemon::Options fuse_options;
  fuse_options.pins = fuse_pins;
  fuse_options.pin_watchdog = absl::Milliseconds(options_.timeout_ms) * 6;
  absl::StatusOr<std::unique_ptr<FusePinDaemon>> daemon = FusePinDaemon::Mount(fuse_options);
  if (!daemon.ok()) {  // every pin through gup_test or io_uring then, each saying why
    mechanisms.fuse = false;
    plan_ = PlanPins(script, mechanisms);
    for (auto& [name, p] : plan_) {
      if (p.stand_in) absl::StrAppend(&*p.stand_in, "; FUSE: ", daemon.status().message());
    }
    return absl::OkStatus();
  }
  fuse_ = *std::move(daemon);
  return absl::OkStatus();
}

absl::Status HostSession::FusePinOp(const MmOp& op, PinMechanism mechanism, HostStep& step) {
  if (fuse_ == nullptr) return absl::InternalError("the FUSE daemon is not mounted");
  const int id = next_fuse_id_++;
  const std::string path = fuse_->PathFor(id);
  AgentCommand cmd;
  cmd.op = AgentOp::kFusePin;
  cmd.addr = op.addr;
  cmd.count = static_cast<std::uint32_t>(id);
  cmd.value = mechanism == PinMechanism::kFuseWrite ? 1 : 0;
  if (path.size() >= sizeof cmd.path) return absl::InternalError("FUSE mount path too long");
  std::memcpy(cmd.path, path.data(), path.size());
  absl::StatusOr<AgentReply> r = Call(op.process, cmd);
  if (!r.ok()) return r.status();
  if (absl::Status s = fuse_->AwaitPinned(id, absl::Milliseconds(options_.timeout_ms)); !s.ok()) {
    broken_ = true;
    return s;
  }
  Pin pin;
  pin.mechanism = mechanism;
  pin.fuse_id = id;
  pin.pinner = op.process;
  cmd.op = AgentOp::kFacts;
  absl::StatusOr<AgentReply> facts = Call(op.process, cmd);
  if (!facts.ok()) return facts.status();
  pin.pfn = facts->facts[op.addr].pfn;
  pins_.emplace(op.name, std::move(pin));
  step.got = "pinned";
  step.events.push_back(absl::StrCat("FUSE ", mechanism == PinMechanism::kFuseRead ? "R/O" : "R/W",
                                     " pin held by a thread of ", op.process, " (id ", id, ")"));
  return absl::OkStatus();
}

absl::Status HostSession::GupPinOp(const MmOp& op, HostStep& step) {
  absl::StatusOr<int> fd = OpenGupTest(options_.gup_test_path);
  if (!fd.ok()) return absl::InternalError(fd.status().message());
  AgentCommand cmd;
  cmd.op = AgentOp::kGupPin;
  cmd.addr = op.addr;
  cmd.value = (op.pin == PinKind::kWrite ? 1 : 0) | (op.fast ? 2 : 0);
  absl::StatusOr<AgentReply> r = Call(op.process, cmd, *fd);  // the agent closes its copy
  if (!r.ok()) {
    close(*fd);  // releases a set, should the agent have died after taking it
    if (absl::IsFailedPrecondition(r.status())) {
      // The model allows this pin; gup_test would not take it (held by another program?).
      return absl::UnimplementedError(
          absl::StrCat("'", mm::Format(op), "': gup_test cannot: ", r.status().message()));
    }
    return r.status();
  }
  Pin pin;
  pin.mechanism = PinMechanism::kGupTest;
  pin.gup_fd = *fd;
  pin.pfn = r->facts[op.addr].pfn;
  pins_.emplace(op.name, std::move(pin));
  step.got = "pinned";
  step.events.push_back(absl::StrCat("gup_test long-term ",
                                     op.pin == PinKind::kWrite ? "R/W" : "R/O",
                                     " pin (PIN_LONGTERM_TEST_START in ", op.process, ")"));
  if (op.fast) {
    step.events.push_back(
        "PIN_LONGTERM_TEST_FLAG_USE_FAST: pin_user_pages_fast (the slow path where the kernel "
        "has no GUP-fast)");
  }
  return absl::OkStatus();
}

absl::Status HostSession::ReleaseGup(Pin& pin) {
  if (pin.gup_fd < 0) return absl::OkStatus();
  absl::Status s = GupTestStop(pin.gup_fd);
  close(pin.gup_fd);  // the last copy: its release would unpin the set too
  pin.gup_fd = -1;
  return s;
}

// Waits for the agent's FUSE call to return once its pin is over.
absl::Status HostSession::JoinFuse(Pin& pin) {
  AgentCommand cmd;
  cmd.op = AgentOp::kFuseJoin;
  cmd.count = static_cast<std::uint32_t>(pin.fuse_id);
  return Call(pin.pinner, cmd).status();
}

absl::Status HostSession::HandleOp(const MmOp& op, HostStep& step) {
  auto it = pins_.find(op.name);
  if (it == pins_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("pin ", op.name, " is not held"));
  }
  Pin& pin = it->second;
  if (pin.mechanism == PinMechanism::kGupTest) {
    if (op.kind == MmOpKind::kPinRead) {
      absl::StatusOr<std::uint64_t> v = GupTestReadFirstWord(pin.gup_fd, 1);
      if (!v.ok()) return v.status();
      step.got = absl::StrCat(*v);
      return absl::OkStatus();
    }
    if (op.kind == MmOpKind::kPinWrite) {
      return absl::FailedPreconditionError("gup_test cannot write through its pin");
    }
    absl::Status s = ReleaseGup(pin);
    pins_.erase(it);
    return s;
  }
  if (pin.mechanism == PinMechanism::kIoUring) {
    if (op.kind == MmOpKind::kPinRead) {
      absl::StatusOr<std::uint64_t> v = pin.ring.Read();
      if (!v.ok()) return v.status();
      step.got = absl::StrCat(*v);
      return absl::OkStatus();
    }
    if (op.kind == MmOpKind::kPinWrite) return pin.ring.Write(op.value);
    absl::Status s = pin.ring.Release();
    pins_.erase(it);
    return s;
  }
  if (op.kind == MmOpKind::kPinRead) {
    absl::StatusOr<std::string> data = fuse_->ReadThroughPin(pin.fuse_id);
    if (!data.ok()) return data.status();
    std::uint64_t v = 0;
    std::memcpy(&v, data->data(), std::min(data->size(), sizeof v));
    step.got = absl::StrCat(v);
    return absl::OkStatus();
  }
  if (op.kind == MmOpKind::kPinWrite) {
    const std::string data(reinterpret_cast<const char*>(&op.value), sizeof op.value);
    if (absl::Status s = fuse_->WriteThroughPinAndRelease(pin.fuse_id, data); !s.ok()) return s;
    pin.fuse_ended = true;
    step.events.push_back("the daemon's answer filled the page and ended the FUSE pin");
    return JoinFuse(pin);
  }
  absl::Status s = pin.fuse_ended ? absl::OkStatus() : fuse_->Release(pin.fuse_id);
  if (s.ok() && !pin.fuse_ended) s = JoinFuse(pin);
  pins_.erase(it);
  return s;
}

absl::Status HostSession::PinOp(const MmOp& op, HostStep& step) {
  auto planned = plan_.find(op.name);
  const PinPlan p =
      planned != plan_.end() ? planned->second : PlanPins(mm::MmScript{{op}}, false)[op.name];
  step.stand_in = p.stand_in;
  if (step.stand_in && !options_.stand_ins) {
    return absl::UnimplementedError(absl::StrCat(
        "'", mm::Format(op), "': the host backend has no faithful mechanism for this pin ",
        "(stand-ins are off): ", *step.stand_in));
  }
  if (step.stand_in) stand_ins_.push_back(*step.stand_in);
  if (p.mechanism == PinMechanism::kGupTest) return GupPinOp(op, step);
  if (p.mechanism != PinMechanism::kIoUring) return FusePinOp(op, p.mechanism, step);
  auto agent = agents_.find(op.process);
  if (agent == agents_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(op.process, " is not a live process"));
  }
  AgentCommand cmd;
  cmd.op = AgentOp::kPin;
  cmd.addr = op.addr;
  absl::StatusOr<AgentReply> r = Call(op.process, cmd);
  if (!r.ok() && step.stand_in && absl::IsFailedPrecondition(r.status())) {
    // The model allows this pin; only the stand-in cannot take it: the host cannot run it.
    return absl::UnimplementedError(absl::StrCat("'", mm::Format(op), "': the stand-in (",
                                                 *step.stand_in,
                                                 ") cannot: ", r.status().message()));
  }
  if (!r.ok()) return r.status();
  const int fd = static_cast<int>(syscall(SYS_pidfd_getfd, agent->second.pidfd, r->fd, 0));
  absl::Status got_fd = fd < 0 ? Errno("pidfd_getfd") : absl::OkStatus();
  // The agent's copy goes either way: the ring must not follow the agent into a fork.
  cmd.op = AgentOp::kCloseFd;
  cmd.value = static_cast<std::uint64_t>(r->fd);
  absl::StatusOr<AgentReply> closed = Call(op.process, cmd);
  if (!got_fd.ok()) return got_fd;
  absl::StatusOr<IoUringRing> ring =
      IoUringRing::Adopt(fd, r->ring, options_.base + std::uintptr_t{op.addr} * 4096);
  if (!ring.ok()) {
    close(fd);
    return ring.status();
  }
  if (!closed.ok()) return closed.status();
  Pin pin;
  pin.ring = *std::move(ring);
  pin.pfn = closed->facts[op.addr].pfn;
  pins_.emplace(op.name, std::move(pin));
  step.got = "pinned";
  if (op.fast) step.events.push_back("GUP-fast is the kernel's choice: it always tries it first");
  return absl::OkStatus();
}

absl::Status HostSession::TakeBulkRefs(const std::string& process, std::uint32_t addr,
                                       std::uint32_t count) {
  // One pipe buffer per vmsplice'd byte. A pipe holds 16 by default; grow each to 256 (1 MiB,
  // the default pipe-max-size) where allowed, and use as many pipes as it takes.
  while (count > 0) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return Errno("pipe2");
    std::uint32_t slots = 16;
    if (count > 16 && fcntl(p[1], F_SETPIPE_SZ, 256 * 4096) >= 0) slots = 256;
    AgentCommand cmd;
    cmd.op = AgentOp::kRef;
    cmd.addr = addr;
    cmd.count = std::min(count, slots);
    absl::StatusOr<AgentReply> r = Call(process, cmd, p[1]);
    close(p[1]);
    if (!r.ok()) {
      close(p[0]);
      return r.status();
    }
    bulk_refs_.push_back(p[0]);
    count -= cmd.count;
  }
  return absl::OkStatus();
}

void HostSession::DropBulkRefs() {
  for (int fd : bulk_refs_) close(fd);
  bulk_refs_.clear();
}

absl::Status HostSession::Apply(const MmOp& op, HostStep& step) {
  step.got = "ok";
  AgentCommand cmd;
  cmd.addr = op.addr;
  const auto call = [&](AgentOp kind) -> absl::StatusOr<AgentReply> {
    cmd.op = kind;
    return Call(op.process, cmd);
  };
  absl::StatusOr<AgentReply> r = AgentReply{};
  switch (op.kind) {
    case MmOpKind::kSpawn:
      return Spawn(op.process);
    case MmOpKind::kMap:
      cmd.last = op.last;
      r = call(AgentOp::kMap);
      break;
    case MmOpKind::kUnmap:
      r = call(AgentOp::kUnmap);
      break;
    case MmOpKind::kRead:
      r = call(AgentOp::kRead);
      if (r.ok()) step.got = absl::StrCat(r->value);
      break;
    case MmOpKind::kWrite:
      cmd.value = op.value;
      r = call(AgentOp::kWrite);
      break;
    case MmOpKind::kProtect:
      cmd.value = op.writable ? 1 : 0;
      r = call(AgentOp::kProtect);
      break;
    case MmOpKind::kFork: {
      AgentReply reply;
      if (absl::Status s = Fork(op.process, op.name, reply); !s.ok()) return s;
      r = reply;
      break;
    }
    case MmOpKind::kExit:
      r = call(AgentOp::kExit);
      if (r.ok()) {
        if (absl::Status s = Reap(op.process, /*kill_first=*/false); !s.ok()) return s;
      }
      break;
    case MmOpKind::kPin:
      return PinOp(op, step);
    case MmOpKind::kPinRead:
    case MmOpKind::kPinWrite:
    case MmOpKind::kUnpin:
      return HandleOp(op, step);
    case MmOpKind::kRef: {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) return Errno("pipe2");
      cmd.op = AgentOp::kRef;
      cmd.count = 1;
      r = Call(op.process, cmd, p[1]);
      close(p[1]);
      if (!r.ok()) {
        close(p[0]);
        return r.status();
      }
      refs_[op.name] = p[0];
      break;
    }
    case MmOpKind::kDrop: {
      auto it = refs_.find(op.name);
      if (it == refs_.end()) {
        return absl::FailedPreconditionError(absl::StrCat("reference ", op.name, " is not held"));
      }
      close(it->second);
      refs_.erase(it);
      return absl::OkStatus();
    }
  }
  if (!r.ok()) return r.status();
  step.faulted = r->minor_faults > 0;
  stats_.faults += static_cast<std::uint64_t>(r->minor_faults);
  return absl::OkStatus();
}

// Turns PFN changes between two snapshots into the model's counters and words.
void HostSession::Derive(const MmOp& op, const HostSnapshot& before, HostStep& step) {
  const auto fact = [](const HostSnapshot& s, const std::string& p,
                       std::uint32_t a) -> const HostPageFact* {
    auto pi = s.processes.find(p);
    if (pi == s.processes.end()) return nullptr;
    auto ai = pi->second.find(a);
    return ai == pi->second.end() ? nullptr : &ai->second;
  };
  std::string explained_process;
  std::uint32_t explained_addr = UINT32_MAX;
  if (op.kind == MmOpKind::kFork) {
    for (const auto& [a, child] : snapshot_.processes[op.name]) {
      const HostPageFact* parent = fact(snapshot_, op.process, a);
      if (parent != nullptr && parent->pfn != child.pfn) {
        ++stats_.copies_at_fork;
        step.events.push_back(absl::StrCat("fork: copy pfn ", Hex(parent->pfn), " -> pfn ",
                                           Hex(child.pfn), " at ", a));
      }
    }
  }
  if (op.kind == MmOpKind::kWrite || op.kind == MmOpKind::kPin) {
    explained_process = op.process;
    explained_addr = op.addr;
    const HostPageFact* was = fact(before, op.process, op.addr);
    const HostPageFact* now = fact(snapshot_, op.process, op.addr);
    if (was != nullptr && now != nullptr && was->pfn != now->pfn) {
      const bool unshare = op.kind == MmOpKind::kPin && op.pin == PinKind::kRead;
      ++(unshare ? stats_.unshares : stats_.copies_at_fault);
      step.events.push_back(absl::StrCat(unshare ? "unshare" : "copy", " pfn ", Hex(was->pfn),
                                         " -> pfn ", Hex(now->pfn), " for address ", op.addr));
    } else if (op.kind == MmOpKind::kWrite && step.faulted && now != nullptr) {
      step.events.push_back(
          absl::StrCat("write fault at ", op.addr, ": reuse pfn ", Hex(now->pfn)));
    }
  }
  for (const auto& [p, pages] : before.processes) {
    for (const auto& [a, f] : pages) {
      const HostPageFact* now = fact(snapshot_, p, a);
      if (now == nullptr || now->pfn == f.pfn) continue;
      if (p == explained_process && a == explained_addr) continue;
      ++stats_.unexplained_pfn_changes;
      step.events.push_back(absl::StrCat("unexplained: ", p, "@", a, " moved from pfn ", Hex(f.pfn),
                                         " to pfn ", Hex(now->pfn)));
    }
  }
}

absl::Status HostSession::Step(const MmOp& op, HostStep* out) {
  if (broken_) return absl::FailedPreconditionError("an earlier step broke this session");
  HostStep step;
  const HostSnapshot before = snapshot_;
  absl::Status status = Apply(op, step);
  if (status.ok()) status = Refresh();
  if (!status.ok()) {
    if (!absl::IsFailedPrecondition(status) && !absl::IsUnimplemented(status)) broken_ = true;
    return absl::Status(status.code(), absl::StrCat("line ", op.line, ": ", mm::Format(op), ": ",
                                                    status.message()));
  }
  Derive(op, before, step);
  if (op.result && *op.result != step.got) {
    failures_.push_back(absl::StrCat("line ", op.line, ": ", mm::Format(op), ": expected ",
                                     *op.result, ", got ", step.got,
                                     *op.result == "full" ? " (a kernel never refuses a pin "
                                                            "for counting reasons)"
                                                          : ""));
  }
  if (out != nullptr) *out = std::move(step);
  return absl::OkStatus();
}

}  // namespace pinsplit::host
