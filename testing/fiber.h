// SPDX-License-Identifier: MIT
// Fiber: a user-space execution context with its own stack, switched to and from on one OS
// thread without the kernel. The deterministic scheduler runs its logical threads as fibers.
//
// Guarantees:
//   - Switch(from, to) saves the caller's registers and stack pointer in `from` and resumes
//     `to`; it returns when some later Switch(..., from) resumes the caller. Only the
//     callee-saved registers travel (x86-64: a few instructions, no system call; elsewhere
//     swapcontext, which also saves the signal mask).
//   - A fiber made with a stack starts in its entry function on its first resumption. The entry
//     must never return: it ends with a Switch away marked `finished`, after which the fiber
//     may be Prepare()d again to run a new entry on the same stack.
//   - The sanitizers are told of every switch, so ASan keeps its stack bookkeeping and reports
//     on fiber stacks, and TSan keeps one shadow context per fiber
//     (__sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber,
//     __tsan_create_fiber / __tsan_switch_to_fiber / __tsan_destroy_fiber). TSan switches
//     synchronise (happens-before from the switcher to the resumed fiber), as the mutex hand-off
//     of a baton between OS threads would.
//     On the portable path (swapcontext) ASan's own swapcontext interceptor clears the shadow of
//     the stack switched to, and a stack-buffer overflow inside a fiber went unreported there
//     in our test (clang 14); the x86-64 switch keeps ASan's stack checks.
//
// Misuse: switching to a fiber that is running, or from a fiber other than the running one, or
// resuming a finished fiber that was not Prepare()d again, is undefined (not checked here; the
// scheduler is the only caller). Not thread-safe: all switches of a set of fibers happen on the
// OS thread that owns the `ForThisThread` context they return to.
#pragma once

#include <cstddef>

namespace pinsplit {

class Fiber {
 public:
  // The context of the calling OS thread's own stack (no stack is allocated).
  Fiber();
  // A context with its own stack of `stack_bytes` (rounded up to pages, plus a guard page).
  explicit Fiber(std::size_t stack_bytes);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Sets the fiber to start `entry(arg)` at its next resumption. Only for fibers with a stack
  // that are not running.
  void Prepare(void (*entry)(void*), void* arg);

  // Saves the running context into `from` and resumes `to`. `from_finished`: `from` will never
  // be resumed again before the next Prepare (lets ASan drop its fake stack).
  static void Switch(Fiber& from, Fiber& to, bool from_finished = false);

 private:
  static void Start();  // first code run on a prepared fiber's stack
  void AfterResume();   // sanitizer bookkeeping once a fiber runs again

  void* stack_ = nullptr;  // mapping base (guard page first); null for a thread's own context
  std::size_t mapped_bytes_ = 0;
  void* context_ = nullptr;  // saved stack pointer (x86-64) or a ucontext_t
  void (*entry_)(void*) = nullptr;
  void* arg_ = nullptr;
  // Sanitizer state: the usable stack, ASan's fake stack, TSan's fiber.
  const void* stack_bottom_ = nullptr;
  std::size_t stack_size_ = 0;
  void* fake_stack_ = nullptr;
  [[maybe_unused]] void* tsan_fiber_ = nullptr;
  [[maybe_unused]] bool owns_tsan_fiber_ = false;
};

}  // namespace pinsplit
