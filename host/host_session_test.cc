// SPDX-License-Identifier: MIT
// The host backend on the running kernel. Where the backend cannot run (no root, io_uring
// disabled), every test prints "skipped: <reason>" and is reported as skipped by CTest.
#include "host_session.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "false_pin.h"
#include "fidelity.h"
#include "gtest/gtest.h"
#include "gup_test_pin.h"
#include "host_check.h"
#include "pinsplit/mm/mm_script.h"

namespace pinsplit::host {
namespace {

#define SKIP_UNLESS_HOST_CAN_RUN()                               \
  do {                                                           \
    const absl::Status usable = BackendUsable(ProbeHost());      \
    if (!usable.ok()) {                                          \
      std::cout << "skipped: " << usable.message() << std::endl; \
      GTEST_SKIP() << usable.message();                          \
    }                                                            \
  } while (0)

// gup_test (the trial kernels' CONFIG_GUP_TEST) is not on every kernel: absent, the test says
// so and is skipped.
#define SKIP_UNLESS_GUP_TEST()                                                    \
  do {                                                                            \
    const absl::Status gup = ProbeGupTest(kGupTestPath);                          \
    if (!gup.ok()) {                                                              \
      std::cout << "skipped: no usable gup_test: " << gup.message() << std::endl; \
      GTEST_SKIP() << gup.message();                                              \
    }                                                                             \
  } while (0)

mm::MmScript Parse(const std::string& text) {
  absl::StatusOr<mm::MmScript> s = mm::ParseMmScript(text);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : mm::MmScript{};
}

// Runs every op; returns the first error.
absl::Status RunAll(HostSession& session, const mm::MmScript& script,
                    std::vector<HostStep>* steps = nullptr) {
  for (const mm::MmOp& op : script.ops) {
    HostStep step;
    if (absl::Status s = session.Step(op, &step); !s.ok()) return s;
    if (steps != nullptr) steps->push_back(step);
  }
  return absl::OkStatus();
}

// Feeds a script to a session a piece at a time (names must be defined in an earlier piece).
class Feeder {
 public:
  explicit Feeder(HostSession& session) : session_(session) {}
  absl::Status Feed(const std::string& more, std::vector<HostStep>* steps = nullptr) {
    text_ += more;
    absl::StatusOr<mm::MmScript> script = mm::ParseMmScript(text_);
    if (!script.ok()) return script.status();
    mm::MmScript tail;
    tail.ops.assign(script->ops.begin() + static_cast<std::ptrdiff_t>(done_), script->ops.end());
    done_ = script->ops.size();
    return RunAll(session_, tail, steps);
  }

 private:
  HostSession& session_;
  std::string text_;
  std::size_t done_ = 0;
};

std::unique_ptr<HostSession> NewSession(const HostOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<HostSession>> s = HostSession::Create(options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

// What a run may leave behind: children, fds (rings, pipes, memfds, sockets), mounts, files in
// the temp folder.
struct Leftovers {
  int children = 0, fds = 0, mounts = 0, temp_files = 0;
  friend bool operator==(const Leftovers&, const Leftovers&) = default;
};

int CountDir(const std::string& path) {
  int n = 0;
  if (DIR* d = opendir(path.c_str())) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n;
}

// Mounts and temp files are counted in a private $TMPDIR (other programs on the machine mount
// and create temp files too); children and fds are this process's own.
const std::string& PrivateTmp() {
  static const std::string dir = [] {
    std::string templ = "/tmp/pinsplit-host-test-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) std::abort();
    setenv("TMPDIR", templ.c_str(), 1);
    return templ;
  }();
  return dir;
}

Leftovers Count() {
  Leftovers l;
  // Children by their parent pid in /proc (the task's `children` file needs
  // CONFIG_PROC_CHILDREN, which the trial's user-mode Linux lacks).
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
      std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      const std::size_t close = text.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(text.substr(close + 1));
      std::string state;
      pid_t ppid = 0;
      rest >> state >> ppid;
      l.children += ppid == getpid();
    }
    closedir(d);
  }
  l.fds = CountDir("/proc/self/fd");
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mounts, line)) l.mounts += line.find(PrivateTmp()) != std::string::npos;
  l.temp_files = CountDir(PrivateTmp());
  return l;
}

std::ostream& operator<<(std::ostream& o, const Leftovers& l) {
  return o << "children " << l.children << " fds " << l.fds << " mounts " << l.mounts
           << " temp files " << l.temp_files;
}

TEST(HostSession, ForkSharesAndTheWriterCopies) {
  SKIP_UNLESS_HOST_CAN_RUN();
  auto session = NewSession();
  ASSERT_NE(session, nullptr);
  std::vector<HostStep> steps;
  Feeder f{*session};
  ASSERT_TRUE(f.Feed("spawn A\nA map 0..1\nA write 0 10\nfork A B\n", &steps).ok());
  const HostSnapshot after_fork = session->snapshot();
  ASSERT_EQ(after_fork.processes.at("A").at(0).pfn, after_fork.processes.at("B").at(0).pfn);
  EXPECT_EQ(after_fork.processes.at("A").at(0).mapcount, 2);
  EXPECT_FALSE(after_fork.processes.at("A").at(0).exclusive);
  EXPECT_EQ(session->stats().copies_at_fork, 0u);
  ASSERT_TRUE(f.Feed("A write 0 11\nB read 0 => 10\nA read 0 => 11\n", &steps).ok());
  EXPECT_EQ(session->stats().copies_at_fault, 1u);
  EXPECT_NE(session->snapshot().processes.at("A").at(0).pfn,
            after_fork.processes.at("A").at(0).pfn);
  EXPECT_TRUE(session->snapshot().processes.at("A").at(0).exclusive);
  EXPECT_TRUE(session->failures().empty()) << session->failures()[0];
  EXPECT_TRUE(session->Shutdown().ok());
}

TEST(HostSession, LongtermWritePinMakesForkCopyAndStaysCoherent) {
  SKIP_UNLESS_HOST_CAN_RUN();
  auto session = NewSession();
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(RunAll(*session, Parse("spawn A\nA map 0\nA write 0 1\n"
                                     "A pin write longterm 0 as dma\nfork A B\nA write 0 2\n"
                                     "dma read => 2\ndma write 3\nA read 0 => 3\nB read 0 => 1\n"
                                     "A exit\ndma read => 3\nunpin dma\nB exit\n"))
                  .ok());
  EXPECT_EQ(session->stats().copies_at_fork, 1u);
  EXPECT_EQ(session->stats().copies_at_fault, 0u);
  EXPECT_TRUE(session->failures().empty()) << session->failures()[0];
  EXPECT_TRUE(session->stand_ins().empty());
}

TEST(HostSession, AFailedAssertionIsRecordedAndFullNeverHolds) {
  SKIP_UNLESS_HOST_CAN_RUN();
  auto session = NewSession();
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(RunAll(*session, Parse("spawn A\nA map 0\nA write 0 5\nA read 0 => 6\n"
                                     "A pin write longterm 0 as p => full\n"))
                  .ok());
  ASSERT_EQ(session->failures().size(), 2u);
  EXPECT_NE(session->failures()[1].find("never refuses"), std::string::npos);
}

TEST(HostSession, PinsWithoutAMechanismAreRefusedWhenStandInsAreOff) {
  SKIP_UNLESS_HOST_CAN_RUN();
  HostOptions options;
  options.stand_ins = false;
  auto session = NewSession(options);
  ASSERT_NE(session, nullptr);
  absl::Status s = RunAll(*session, Parse("spawn A\nA map 0\nA pin read longterm 0 as r\n"));
  EXPECT_TRUE(absl::IsUnimplemented(s)) << s;
  EXPECT_NE(s.message().find("A pin read longterm 0 as r"), std::string::npos) << s;
  // With stand-ins on, the same op runs and is listed.
  auto with = NewSession();
  ASSERT_TRUE(RunAll(*with, Parse("spawn A\nA map 0\nA pin read longterm 0 as r\n")).ok());
  ASSERT_EQ(with->stand_ins().size(), 1u);
  EXPECT_NE(with->stand_ins()[0].find("pin read longterm"), std::string::npos);
}

TEST(HostSession, RefusalsLeaveTheSessionUsable) {
  SKIP_UNLESS_HOST_CAN_RUN();
  auto session = NewSession();
  ASSERT_NE(session, nullptr);
  Feeder f{*session};
  ASSERT_TRUE(f.Feed("spawn A\nA map 0\nA protect 0 ro\nspawn B\n").ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(f.Feed("B write 3 1\n")));
  EXPECT_TRUE(absl::IsFailedPrecondition(f.Feed("A write 0 1\n")));
  EXPECT_TRUE(f.Feed("A read 0 => 0\n").ok());
  EXPECT_TRUE(session->failures().empty());
}

TEST(HostHygiene, NothingOutlivesARunEvenAKilledAgentOrAHungOne) {
  SKIP_UNLESS_HOST_CAN_RUN();
  const Leftovers before = Count();
  ASSERT_EQ(before.temp_files, 2);  // . and ..
  {
    auto session = NewSession();
    ASSERT_NE(session, nullptr);
    Feeder f{*session};
    ASSERT_TRUE(f.Feed("spawn A\nA map 0..2\nA write 0 1\nA pin write longterm 1 as h\n"
                       "A ref 0 as r\nfork A B\nfork B C\n")
                    .ok());
    EXPECT_EQ(session->agent_pids().size(), 3u);
    EXPECT_EQ(Count().children, before.children + 3);
    // Kill B behind the session's back: the next step on B reports it, the rest is released.
    const pid_t victim = session->agent_pids()[1];  // agents in name order: B
    ASSERT_EQ(kill(victim, SIGKILL), 0);
    // Every step asks every agent for its page facts, so the next step finds B gone.
    absl::Status s = f.Feed("A read 0 => 1\n");
    EXPECT_TRUE(absl::IsInternal(s)) << s;
    EXPECT_NE(s.message().find("agent B died by signal 9"), std::string::npos) << s;
    EXPECT_TRUE(absl::IsFailedPrecondition(f.Feed("spawn Y\n")));  // broken, but releasable
    EXPECT_TRUE(session->Shutdown().ok());
    EXPECT_EQ(Count(), before);
  }
  {
    HostOptions options;
    options.timeout_ms = 300;
    auto session = NewSession(options);
    Feeder f{*session};
    ASSERT_TRUE(f.Feed("spawn A\nA map 0\n").ok());
    ASSERT_EQ(kill(session->agent_pids()[0], SIGSTOP), 0);  // a hung agent: the watchdog
    absl::Status s = f.Feed("A read 0\n");
    EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  }  // the destructor kills and reaps
  EXPECT_EQ(Count(), before);
  {
    auto session = NewSession();
    Feeder f{*session};
    ASSERT_TRUE(f.Feed("spawn A\nA map 0\nA pin write longterm 0 as h\n").ok());
    RequestHostStop();  // what SIGINT/SIGTERM do
    absl::Status s = f.Feed("A read 0\n");
    ClearHostStop();
    EXPECT_TRUE(absl::IsCancelled(s)) << s;
  }
  EXPECT_EQ(Count(), before);
  {  // FUSE pins: the daemon's mounts live in $TMPDIR; kill the agent whose thread holds one
    auto session = NewSession();
    const mm::MmScript script = Parse(
        "spawn A\nA map 0..1\nA write 0 1\nfork A B\nA pin read 0 as r\nA pin write 1 as w\n"
        "B read 0 => 1\nr read => 1\nunpin r\nunpin w\nA exit\nB exit\n");
    ASSERT_TRUE(session->Plan(script).ok());
    std::vector<HostStep> steps;
    mm::MmScript head;
    head.ops.assign(script.ops.begin(), script.ops.begin() + 6);
    ASSERT_TRUE(RunAll(*session, head, &steps).ok());
    ASSERT_EQ(steps.size(), 6u);
    EXPECT_FALSE(steps[4].stand_in.has_value()) << *steps[4].stand_in;  // a real FUSE R/O pin
    EXPECT_EQ(session->stats().unshares, 1u);  // it unshared the page A shares with B
    const Leftovers held = Count();
    EXPECT_EQ(held.mounts - before.mounts, 2) << "one FUSE mount per pin";
    ASSERT_EQ(kill(session->agent_pids()[0], SIGKILL), 0);  // A, holding both pins
    mm::MmScript tail;
    tail.ops.assign(script.ops.begin() + 6, script.ops.end());
    absl::Status s = RunAll(*session, tail);
    EXPECT_TRUE(absl::IsInternal(s)) << s;
    EXPECT_TRUE(session->Shutdown().ok());
    EXPECT_EQ(Count(), before);
  }
  rmdir(PrivateTmp().c_str());
}

TEST(HostSession, FusePinsWhereTheScriptFitsThemIoUringStandInsElsewhere) {
  const mm::MmScript script = Parse(
      "spawn A\nA map 0..3\nA pin read 0 as once\nA pin read 1 as twice\n"
      "A pin write 2 as dio\nA pin write longterm 3 as dma\nA pin read longterm 0 as lt\n"
      "once read\ntwice read\ntwice read\ndio write 5\nunpin dio\nunpin once\nunpin twice\n"
      "unpin lt\nA exit\n");
  const std::map<std::string, PinPlan> plan = PlanPins(script, /*fuse=*/true);
  EXPECT_EQ(plan.at("once").mechanism, PinMechanism::kFuseRead);
  EXPECT_FALSE(plan.at("once").stand_in.has_value());
  EXPECT_EQ(plan.at("twice").mechanism, PinMechanism::kIoUring);
  EXPECT_NE(plan.at("twice").stand_in->find("read twice"), std::string::npos);
  EXPECT_EQ(plan.at("dio").mechanism, PinMechanism::kFuseWrite);
  EXPECT_EQ(plan.at("dma").mechanism, PinMechanism::kIoUring);
  EXPECT_FALSE(plan.at("dma").stand_in.has_value());
  EXPECT_EQ(plan.at("lt").mechanism, PinMechanism::kFuseRead);
  EXPECT_NE(plan.at("lt").stand_in->find("FUSE short-term R/O pin"), std::string::npos);
  const std::map<std::string, PinPlan> no_fuse = PlanPins(script, /*fuse=*/false);
  EXPECT_EQ(no_fuse.at("once").mechanism, PinMechanism::kIoUring);
  EXPECT_TRUE(no_fuse.at("once").stand_in.has_value());
  SKIP_UNLESS_HOST_CAN_RUN();
  auto session = NewSession();
  ASSERT_TRUE(session->Plan(script).ok());
  std::vector<HostStep> steps;
  ASSERT_TRUE(RunAll(*session, script, &steps).ok());
  EXPECT_EQ(steps[7].got, "0");
  EXPECT_EQ(steps[8].got, "0");
  EXPECT_EQ(steps[9].got, "0");  // the io_uring stand-in reads as often as asked
  EXPECT_TRUE(session->failures().empty());
}

TEST(HostSession, GupTestTakesOneReadPinAtATimeAndTheOthersSayWhy) {
  const mm::MmScript script = Parse(
      "spawn A\nA map 0..2\nA pin read longterm 0 as first\nA pin read longterm 1 as second\n"
      "unpin first\nA pin read longterm 2 as third\nA pin read 0 as twice\ntwice read\n"
      "twice read\nunpin third\nA pin read 1 as later\nlater read\nlater read\nunpin second\n"
      "unpin twice\nunpin later\nA pin read longterm 0 as kept\nA exit\n");
  PinMechanisms with;
  with.gup_test = true;
  const std::map<std::string, PinPlan> plan = PlanPins(script, with);
  EXPECT_EQ(plan.at("first").mechanism, PinMechanism::kGupTest);
  EXPECT_FALSE(plan.at("first").stand_in.has_value());
  // Taken while `first` holds gup_test's one set: the FUSE stand-in, saying so.
  EXPECT_EQ(plan.at("second").mechanism, PinMechanism::kFuseRead);
  EXPECT_NE(plan.at("second").stand_in->find("first (line 3) holds it"), std::string::npos)
      << *plan.at("second").stand_in;
  EXPECT_EQ(plan.at("third").mechanism, PinMechanism::kGupTest);  // `first` is unpinned by then
  EXPECT_FALSE(plan.at("third").stand_in.has_value());
  // A short-term read pin FUSE cannot follow: io_uring while `third` holds the set ...
  EXPECT_EQ(plan.at("twice").mechanism, PinMechanism::kIoUring);
  EXPECT_NE(plan.at("twice").stand_in->find("third (line 6) holds it"), std::string::npos)
      << *plan.at("twice").stand_in;
  // ... and gup_test's R/O pin once it is free.
  EXPECT_EQ(plan.at("later").mechanism, PinMechanism::kGupTest);
  EXPECT_NE(plan.at("later").stand_in->find("gup_test long-term R/O pin"), std::string::npos);
  // `later` is unpinned: the set is free for `kept`, which the script never unpins.
  EXPECT_EQ(plan.at("kept").mechanism, PinMechanism::kGupTest);
  PinMechanisms without;
  without.no_gup_test = "no usable gup_test here (absent)";
  const std::map<std::string, PinPlan> old = PlanPins(script, without);
  EXPECT_EQ(old.at("first").mechanism, PinMechanism::kFuseRead);
  EXPECT_NE(old.at("first").stand_in->find("FUSE short-term R/O pin (no long-term R/O pin: no "
                                           "usable gup_test here (absent)"),
            std::string::npos)
      << *old.at("first").stand_in;
  EXPECT_EQ(old.at("later").mechanism, PinMechanism::kIoUring);
}

TEST(HostSession, WithoutGupTestALongtermReadPinIsAStandInThatSaysWhy) {
  SKIP_UNLESS_HOST_CAN_RUN();
  HostOptions options;
  options.gup_test_path = "/nonexistent/gup_test";
  auto session = NewSession(options);
  const mm::MmScript script = Parse("spawn A\nA map 0\nA pin read longterm 0 as r\nunpin r\n");
  ASSERT_TRUE(session->Plan(script).ok());
  ASSERT_TRUE(RunAll(*session, script).ok());
  ASSERT_EQ(session->stand_ins().size(), 1u);
  EXPECT_NE(session->stand_ins()[0].find("no usable gup_test here (/nonexistent/gup_test: No such "
                                         "file or directory)"),
            std::string::npos)
      << session->stand_ins()[0];
  ASSERT_TRUE(session->gup_test_probe().has_value());
  EXPECT_FALSE(session->gup_test_probe()->ok());
}

TEST(HostGupTest, ALongtermReadPinUnsharesStaysCoherentOutlivesItsProcessAndIsReleased) {
  SKIP_UNLESS_HOST_CAN_RUN();
  SKIP_UNLESS_GUP_TEST();
  const Leftovers before = Count();
  {
    auto session = NewSession();
    const mm::MmScript script = Parse(
        "spawn A\nA map 0..1\nA write 0 1\nfork A B\nA pin read longterm 0 as r\nA write 0 2\n"
        "r read => 2\nB read 0 => 1\nA exit\nr read => 2\nunpin r\n"
        "B pin read longterm fast 1 as s\nB exit\n");
    ASSERT_TRUE(session->Plan(script).ok());
    std::vector<HostStep> steps;
    ASSERT_TRUE(RunAll(*session, script, &steps).ok());
    EXPECT_TRUE(session->stand_ins().empty()) << session->stand_ins()[0];
    // A's page was shared with B: unshared. B's page 1, no longer shared once A is gone, is
    // reused by the unshare fault unless a transient reference makes it copy.
    EXPECT_GE(session->stats().unshares, 1u);
    EXPECT_LE(session->stats().unshares, 2u);
    EXPECT_EQ(session->stats().copies_at_fault, 0u);  // A's write reuses its pinned page
    EXPECT_EQ(session->stats().unexplained_pfn_changes, 0u);
    EXPECT_TRUE(session->failures().empty()) << session->failures()[0];
    EXPECT_EQ(steps[9].got, "2");  // through the pin, after its process exited
    // `s` is still held: Shutdown stops it, and the set is free again.
    EXPECT_TRUE(session->Shutdown().ok());
  }
  EXPECT_TRUE(ProbeGupTest(kGupTestPath).ok());
  EXPECT_EQ(Count(), before);
  {  // An agent killed while a gup_test pin of its page is held: still released.
    auto session = NewSession();
    const mm::MmScript script = Parse("spawn A\nA map 0\nA pin read longterm 0 as r\n");
    ASSERT_TRUE(session->Plan(script).ok());
    ASSERT_TRUE(RunAll(*session, script).ok());
    ASSERT_EQ(kill(session->agent_pids()[0], SIGKILL), 0);
  }  // the destructor
  EXPECT_TRUE(ProbeGupTest(kGupTestPath).ok());
  EXPECT_EQ(Count(), before);
}

TEST(HostGupTest, ASetHeldByAnotherProgramMakesTheStandInSaySo) {
  SKIP_UNLESS_HOST_CAN_RUN();
  SKIP_UNLESS_GUP_TEST();
  absl::StatusOr<int> fd = OpenGupTest(kGupTestPath);
  ASSERT_TRUE(fd.ok()) << fd.status();
  std::vector<char> page(8192);
  const auto addr = (reinterpret_cast<std::uintptr_t>(page.data()) + 4095) & ~std::uintptr_t{4095};
  ASSERT_TRUE(GupTestStart(*fd, addr, 4096, false, false).ok());
  {
    auto session = NewSession();
    const mm::MmScript script = Parse("spawn A\nA map 0\nA pin read longterm 0 as r\n");
    ASSERT_TRUE(session->Plan(script).ok());
    ASSERT_TRUE(RunAll(*session, script).ok());
    ASSERT_EQ(session->stand_ins().size(), 1u);
    EXPECT_NE(session->stand_ins()[0].find("START refused"), std::string::npos)
        << session->stand_ins()[0];
  }
  EXPECT_TRUE(GupTestStop(*fd).ok());
  close(*fd);
  EXPECT_TRUE(ProbeGupTest(kGupTestPath).ok());
}

TEST(HostFidelity, AgreesWithAnonExclusiveAndCatchesThe58To518Policy) {
  SKIP_UNLESS_HOST_CAN_RUN();
  const std::string mprotect_pinned =
      "spawn A\nA map 0\nA write 0 1\nA pin write longterm 0 as w\nA protect 0 ro\n"
      "A protect 0 rw\nA write 0 5\nw read => 5\nw write 6\nA read 0 => 6\nunpin w\nA exit\n";
  FidelityOptions options;
  absl::StatusOr<ScenarioFidelity> same = CompareOnHost("mprotect", mprotect_pinned, options);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->agree) << same->first_difference->model << "\n" << same->first_difference->host;
  options.model_policy = "refcount";  // copies at the write: the pin loses coherence
  absl::StatusOr<ScenarioFidelity> other = CompareOnHost("mprotect", mprotect_pinned, options);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->agree);
  ASSERT_TRUE(other->first_difference.has_value());
  EXPECT_EQ(other->first_difference->line, 7);
  EXPECT_EQ(other->first_difference->what, "copy decisions");
  options.model_policy = "mapcount";  // shares a pinned page at fork
  absl::StatusOr<ScenarioFidelity> leak = CompareOnHost(
      "fork", "spawn A\nA map 0\nA write 0 1\nA pin write longterm 0 as d\nfork A B\n", options);
  ASSERT_TRUE(leak.ok()) << leak.status();
  EXPECT_FALSE(leak->agree);
  EXPECT_EQ(leak->first_difference->line, 5);
  // The kernel copying where the model does not is rerun (transient references); a difference
  // that reproduces stays a difference: mapcount never unshares for the child's read pin.
  absl::StatusOr<ScenarioFidelity> vmsplice =
      CompareOnHost("vmsplice",
                    "spawn p\np map 0\np write 0 1\nfork p c\nc pin read 0 as pipe\nc unmap 0\n"
                    "p write 0 2\npipe read => 1\nunpin pipe\nc exit\np exit\n",
                    options);
  ASSERT_TRUE(vmsplice.ok()) << vmsplice.status();
  EXPECT_FALSE(vmsplice->agree);
  EXPECT_EQ(vmsplice->first_difference->line, 5);
  EXPECT_TRUE(vmsplice->first_difference->host_copied_more);
  EXPECT_EQ(vmsplice->runs, 3);
  EXPECT_FALSE(vmsplice->transient_difference.has_value());
}

TEST(HostFalsePin, TheKernelCopiesNoLaterThanTheBiasCounterPredicts) {
  SKIP_UNLESS_HOST_CAN_RUN();
  absl::StatusOr<FalsePinResult> r = MeasureFalsePin(HostOptions{}, 1100, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  // The model: 1 mapping reference + N >= 1024 (GUP_PIN_COUNTING_BIAS).
  EXPECT_EQ(r->bias_model_threshold, std::optional<std::uint32_t>(1023));
  EXPECT_FALSE(r->split_model_threshold.has_value());  // the exact word never confuses them
  ASSERT_TRUE(r->host_copy_threshold.has_value());
  ASSERT_TRUE(r->host_first_copy.has_value());
  // Transient references can only make the kernel copy earlier than the count predicts.
  EXPECT_LE(*r->host_copy_threshold, 1023u);
  EXPECT_LE(*r->host_first_copy, *r->host_copy_threshold);
  EXPECT_GE(*r->host_first_copy, 1000u);  // the research measured shares at 1000
  EXPECT_EQ(r->edge.size(), 6u);
  EXPECT_FALSE(r->host_control_copied);  // no MMF_HAS_PINNED: fork never copies
}

}  // namespace
}  // namespace pinsplit::host
