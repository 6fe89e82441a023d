// SPDX-License-Identifier: MIT
#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

// The hand-written switch on x86-64; swapcontext elsewhere, or when PINSPLIT_FIBER_UCONTEXT is
// defined (a CTest build of the scheduler tests keeps that path tested on x86-64 too).
#if defined(__x86_64__) && !defined(PINSPLIT_FIBER_UCONTEXT)
#define PINSPLIT_FIBER_ASM 1
#else
#include <ucontext.h>
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PINSPLIT_FIBER_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define PINSPLIT_FIBER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(PINSPLIT_FIBER_ASAN)
#define PINSPLIT_FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(PINSPLIT_FIBER_TSAN)
#define PINSPLIT_FIBER_TSAN 1
#endif

#if defined(PINSPLIT_FIBER_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(PINSPLIT_FIBER_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

#if defined(PINSPLIT_FIBER_ASM)
// pinsplit_fiber_switch(save, load): pushes the System V callee-saved registers, stores the stack
// pointer in *save, loads `load` as the stack pointer, pops the registers saved there and
// returns into that context. Floating-point control words are not switched: nothing here
// changes them.
extern "C" void pinsplit_fiber_switch(void** save, void* load);
asm(R"(
  .text
  .p2align 4
  .globl pinsplit_fiber_switch
  .hidden pinsplit_fiber_switch
  .type pinsplit_fiber_switch,@function
pinsplit_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size pinsplit_fiber_switch, .-pinsplit_fiber_switch
)");
#endif

namespace pinsplit {
namespace {

// The fiber being resumed and the one that switched to it, for Start and AfterResume.
thread_local Fiber* resuming = nullptr;
thread_local Fiber* switching_from = nullptr;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "Fiber: %s\n", what);
  std::abort();
}

std::size_t PageSize() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

}  // namespace

Fiber::Fiber() {
#if !defined(PINSPLIT_FIBER_ASM)
  context_ = new ucontext_t;
#endif
#if defined(PINSPLIT_FIBER_TSAN)
  tsan_fiber_ = __tsan_get_current_fiber();
#endif
}

Fiber::Fiber(std::size_t stack_bytes) {
  const std::size_t page = PageSize();
  const std::size_t usable = (stack_bytes + page - 1) / page * page;
  mapped_bytes_ = usable + page;
  stack_ = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (stack_ == MAP_FAILED) Fail("cannot map a fiber stack");
  if (mprotect(stack_, page, PROT_NONE) != 0) Fail("cannot protect a fiber stack's guard page");
  stack_bottom_ = static_cast<char*>(stack_) + page;
  stack_size_ = usable;
#if !defined(PINSPLIT_FIBER_ASM)
  context_ = new ucontext_t;
#endif
#if defined(PINSPLIT_FIBER_TSAN)
  tsan_fiber_ = __tsan_create_fiber(0);
  owns_tsan_fiber_ = true;
#endif
}

Fiber::~Fiber() {
#if defined(PINSPLIT_FIBER_TSAN)
  if (owns_tsan_fiber_) __tsan_destroy_fiber(tsan_fiber_);
#endif
#if !defined(PINSPLIT_FIBER_ASM)
  delete static_cast<ucontext_t*>(context_);
#endif
  if (stack_ != nullptr) munmap(stack_, mapped_bytes_);
}

void Fiber::Prepare(void (*entry)(void*), void* arg) {
  if (stack_ == nullptr) Fail("Prepare on a thread's own context");
  entry_ = entry;
  arg_ = arg;
  fake_stack_ = nullptr;
#if defined(PINSPLIT_FIBER_ASM)
  char* top = static_cast<char*>(stack_) + mapped_bytes_;
  // What pinsplit_fiber_switch pops: r15 r14 r13 r12 rbx rbp (zero: the frame chain ends
  // here), then the address it returns to (Start), above it a null return address for Start,
  // so that Start begins with the stack aligned as after a call (rsp % 16 == 8).
  const std::uintptr_t misalignment = reinterpret_cast<std::uintptr_t>(top) & 15u;
  auto* slots = reinterpret_cast<std::uintptr_t*>(top - misalignment);
  slots -= 8;
  for (int i = 0; i < 6; ++i) slots[i] = 0;
  slots[6] = reinterpret_cast<std::uintptr_t>(&Fiber::Start);
  slots[7] = 0;
  context_ = slots;
#else
  auto* uc = static_cast<ucontext_t*>(context_);
  if (getcontext(uc) != 0) Fail("getcontext failed");
  uc->uc_stack.ss_sp = const_cast<void*>(stack_bottom_);
  uc->uc_stack.ss_size = stack_size_;
  uc->uc_link = nullptr;
  makecontext(uc, &Fiber::Start, 0);
#endif
}

void Fiber::Switch(Fiber& from, Fiber& to, bool from_finished) {
  switching_from = &from;
  resuming = &to;
#if defined(PINSPLIT_FIBER_ASAN)
  __sanitizer_start_switch_fiber(from_finished ? nullptr : &from.fake_stack_, to.stack_bottom_,
                                 to.stack_size_);
#else
  (void)from_finished;
#endif
#if defined(PINSPLIT_FIBER_TSAN)
  __tsan_switch_to_fiber(to.tsan_fiber_, 0);
#endif
#if defined(PINSPLIT_FIBER_ASM)
  pinsplit_fiber_switch(&from.context_, to.context_);
#else
  if (swapcontext(static_cast<ucontext_t*>(from.context_), static_cast<ucontext_t*>(to.context_)) !=
      0) {
    Fail("swapcontext failed");
  }
#endif
  from.AfterResume();
}

void Fiber::Start() {
  Fiber* self = resuming;
  self->AfterResume();
  self->entry_(self->arg_);
  Fail("a fiber's entry returned");
}

void Fiber::AfterResume() {
#if defined(PINSPLIT_FIBER_ASAN)
  // Tells ASan this stack runs again and learns the bounds of the one left (how the thread's own
  // stack gets known: it is the first one left).
  const void* bottom = nullptr;
  std::size_t size = 0;
  __sanitizer_finish_switch_fiber(fake_stack_, &bottom, &size);
  if (switching_from != nullptr && switching_from->stack_ == nullptr) {
    switching_from->stack_bottom_ = bottom;
    switching_from->stack_size_ = size;
  }
#endif
}

}  // namespace pinsplit
