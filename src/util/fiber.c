/* SPDX-License-Identifier: Apache-2.0 */
/* Fibers on stacks of their own; see fiber.h. On x86-64 the switch is a few instructions of
 * assembly that keep the callee-saved registers; elsewhere it is ucontext, whose getcontext,
 * swapcontext and setcontext each make an rt_sigprocmask system call (five per write request
 * that waits once), which the fibers never need: they run with the thread's signal mask. */
#include "util/fiber.h"
#include "util/buf.h"
#include "util/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#endif
#ifdef FIBER_ASAN
/* AddressSanitizer must be told when the stack changes (compiler-rt's fiber interface). */
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
#endif

#define FIBER_MAX_LOCALS 4

#if defined(__x86_64__) && defined(__linux__)
#define FIBER_ASM 1
/* fiber_switch_x86(&from_sp, to_sp): pushes the callee-saved registers of the System V ABI
 * (rbp, rbx, r12-r15) and the SSE and x87 control words onto the current stack, stores the
 * stack pointer into from_sp, loads to_sp and pops what was pushed there, then returns into
 * the other stack. A new stack is laid out by stack_prime to look like one that switched out
 * just before entering trampoline. */
void spoold_fiber_switch_x86(void **from_sp, void *to_sp);
__asm__(".text\n"
        ".globl spoold_fiber_switch_x86\n"
        ".hidden spoold_fiber_switch_x86\n"
        ".type spoold_fiber_switch_x86,@function\n"
        "spoold_fiber_switch_x86:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n"
        "  fldcw 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size spoold_fiber_switch_x86, .-spoold_fiber_switch_x86\n"
        ".section .note.GNU-stack,\"\",@progbits\n"
        ".text\n");
#endif

typedef struct fiber_stack {
  struct fiber_stack *next;
  void         *map;   /* the mapping: guard page, then the stack */
  size_t        len;   /* of the mapping */
} fiber_stack_t;

struct fiber_pool {
  size_t          stack_size;
  unsigned        keep;
  pthread_mutex_t mu;
  fiber_stack_t       *free;    /* unused stacks kept for reuse */
  unsigned        nfree;
  atomic_uint     live;    /* fibers made and not freed */
};

struct fiber {
#ifdef FIBER_ASM
  void         *self_sp;    /* the fiber's saved stack pointer while it is switched out */
  void         *caller_sp;  /* the thread's, while the fiber runs (fiber_run) */
#else
  ucontext_t    self;       /* where the fiber stopped (fiber_wait) */
  ucontext_t    caller;     /* where fiber_run was called */
#endif
  fiber_pool_t *pool;
  fiber_stack_t     *stack;
  void        (*fn)(void *);
  void         *arg;
  bool          started, done;
  void        (*before_wait)(void *);
  void        (*wake)(void *);
  void         *hook_ctx;
  unsigned       nlocals;   /* registered blocks when locals was made */
  unsigned char *locals;    /* the fiber's copy of the registered thread-local blocks */
  unsigned char *thread_locals;  /* the thread's own copy while the fiber runs */
#ifdef FIBER_ASAN
  void         *asan_fake;      /* the fiber's fake stack while it is switched out */
  const void   *caller_bottom;  /* the caller's stack, for switching back */
  size_t        caller_size;
#endif
};

/* The registry of fiber-carried thread-local blocks: filled once at start, before any fiber
 * runs (fiber_register_local), read without a lock afterwards. */
static struct {
  void *(*addr)(void);
  size_t size;
} g_locals[FIBER_MAX_LOCALS];
static unsigned g_nlocals;
static size_t g_locals_size;
static pthread_mutex_t g_locals_mu = PTHREAD_MUTEX_INITIALIZER;

/* The fiber running on this thread (NULL on the thread's own stack). */
static _Thread_local fiber_t *tl_fiber;

void fiber_register_local(void *(*addr)(void), size_t size) {
  pthread_mutex_lock(&g_locals_mu);
  bool known = false;
  for (unsigned i = 0; i < g_nlocals; i++) known |= g_locals[i].addr == addr;
  if (!known && g_nlocals < FIBER_MAX_LOCALS) {
    g_locals[g_nlocals].addr = addr;
    g_locals[g_nlocals].size = size;
    g_nlocals++;
    g_locals_size += size;
  } else if (!known) {
    log_error("fiber: too many fiber-carried thread-local blocks");
  }
  pthread_mutex_unlock(&g_locals_mu);
}

/* Copies the registered blocks of this thread into dst. */
static void locals_save(unsigned char *dst) {
  for (unsigned i = 0; i < g_nlocals; i++) {
    memcpy(dst, g_locals[i].addr(), g_locals[i].size);
    dst += g_locals[i].size;
  }
}

/* Copies src into the registered blocks of this thread. */
static void locals_load(const unsigned char *src) {
  for (unsigned i = 0; i < g_nlocals; i++) {
    memcpy(g_locals[i].addr(), src, g_locals[i].size);
    src += g_locals[i].size;
  }
}

fiber_pool_t *fiber_pool_new(size_t stack_size, unsigned keep) {
  fiber_pool_t *p = xcalloc(1, sizeof *p);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  p->stack_size = (stack_size + page - 1) / page * page;
  p->keep = keep;
  pthread_mutex_init(&p->mu, NULL);
  return p;
}

void fiber_pool_free(fiber_pool_t *p) {
  if (!p) return;
  for (fiber_stack_t *s = p->free, *next; s; s = next) {
    next = s->next;
    munmap(s->map, s->len);
    free(s);
  }
  pthread_mutex_destroy(&p->mu);
  free(p);
}

unsigned fiber_pool_live(fiber_pool_t *p) { return p ? atomic_load(&p->live) : 0; }

/* A stack from the pool, or a new mapping (NULL when mmap fails). */
static fiber_stack_t *stack_get(fiber_pool_t *p) {
  pthread_mutex_lock(&p->mu);
  fiber_stack_t *s = p->free;
  if (s) {
    p->free = s->next;
    p->nfree--;
  }
  pthread_mutex_unlock(&p->mu);
  if (s) return s;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t len = p->stack_size + page;
  void *map = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (map == MAP_FAILED) return NULL;
  if (mprotect(map, page, PROT_NONE) != 0) { /* the guard page below the stack */
    munmap(map, len);
    return NULL;
  }
  s = xcalloc(1, sizeof *s);
  s->map = map;
  s->len = len;
  return s;
}

static void stack_put(fiber_pool_t *p, fiber_stack_t *s) {
  pthread_mutex_lock(&p->mu);
  if (p->nfree < p->keep) {
    s->next = p->free;
    p->free = s;
    p->nfree++;
    s = NULL;
  }
  pthread_mutex_unlock(&p->mu);
  if (s) {
    munmap(s->map, s->len);
    free(s);
  }
}

fiber_t *fiber_new(fiber_pool_t *p, void (*fn)(void *arg), void *arg) {
  if (!p || !fn) return NULL;
  fiber_stack_t *s = stack_get(p);
  if (!s) return NULL;
  fiber_t *f = xcalloc(1, sizeof *f);
  f->pool = p;
  f->stack = s;
  f->fn = fn;
  f->arg = arg;
  atomic_fetch_add(&p->live, 1);
  return f;
}

void fiber_free(fiber_t *f) {
  if (!f) return;
  if (f->started && !f->done) {
    /* Its stack may hold state others still point at (a queued store write): keep it. */
    log_error("fiber: freeing a fiber that has not finished; its stack is leaked");
  } else {
    stack_put(f->pool, f->stack);
  }
  atomic_fetch_sub(&f->pool->live, 1);
  free(f->locals);
  free(f->thread_locals);
  free(f);
}

/* Whether f carries the registered blocks (none registered, or registered after f was made:
 * then f leaves them to the thread). */
static bool carries_locals(const fiber_t *f) { return f->locals && f->nlocals == g_nlocals; }

/* Switches from the fiber back to the thread that ran it (fiber_run). */
static void switch_out(fiber_t *f) {
  if (carries_locals(f)) {
    locals_save(f->locals);
    locals_load(f->thread_locals);
  }
  tl_fiber = NULL;
#ifdef FIBER_ASAN
  __sanitizer_start_switch_fiber(f->done ? NULL : &f->asan_fake, f->caller_bottom,
                                 f->caller_size);
#endif
  if (f->done) {
#ifdef FIBER_ASM
    spoold_fiber_switch_x86(&f->self_sp, f->caller_sp); /* never comes back */
#else
    setcontext(&f->caller); /* the fiber's stack is not used again */
#endif
  } else {
#ifdef FIBER_ASM
    spoold_fiber_switch_x86(&f->self_sp, f->caller_sp);
#else
    swapcontext(&f->self, &f->caller);
#endif
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(f->asan_fake, &f->caller_bottom, &f->caller_size);
#endif
  }
}

/* The first frame on a fiber's stack: runs fn, then returns to the thread for good. */
static void trampoline(void) {
  fiber_t *f = tl_fiber;
#ifdef FIBER_ASAN
  __sanitizer_finish_switch_fiber(NULL, &f->caller_bottom, &f->caller_size);
#endif
  f->fn(f->arg);
  f->done = true;
  switch_out(f);
}

#ifdef FIBER_ASM
/* Lays out the top of a new stack (top: its end, page-aligned) as spoold_fiber_switch_x86
 * leaves a stack that switched out: the control words, six zeroed registers, trampoline as
 * the return address, and a zero return address above it, so trampoline starts with the stack
 * aligned as after a call. Returns the stack pointer to switch to. */
static void *stack_prime(char *top) {
  uint64_t *sp = (uint64_t *)(void *)top;
  *--sp = 0;                              /* trampoline's return address: it never returns */
  *--sp = (uint64_t)(uintptr_t)trampoline;
  for (int i = 0; i < 6; i++) *--sp = 0;  /* rbp, rbx, r12-r15 */
  *--sp = 0x1f80u | (uint64_t)0x037fu << 32; /* MXCSR and the x87 control word at reset */
  return sp;
}
#endif

bool fiber_run(fiber_t *f) {
  if (!f || f->done || tl_fiber) return true;
  if (!f->started && g_locals_size) {
    f->nlocals = g_nlocals;
    f->locals = xmalloc(g_locals_size);
    f->thread_locals = xmalloc(g_locals_size);
    locals_save(f->locals); /* the fiber starts with this thread's values */
  }
  if (carries_locals(f)) {
    locals_save(f->thread_locals);
    locals_load(f->locals);
  }
  tl_fiber = f;
  if (!f->started) {
    f->started = true;
#ifdef FIBER_ASM
    f->self_sp = stack_prime((char *)f->stack->map + f->stack->len);
#else
    getcontext(&f->self);
    f->self.uc_stack.ss_sp = (char *)f->stack->map + (f->stack->len - f->pool->stack_size);
    f->self.uc_stack.ss_size = f->pool->stack_size;
    f->self.uc_link = NULL;
    makecontext(&f->self, trampoline, 0);
#endif
  }
#ifdef FIBER_ASAN
  void *fake = NULL;
  __sanitizer_start_switch_fiber(&fake, (char *)f->stack->map + (f->stack->len - f->pool->stack_size),
                                 f->pool->stack_size);
#endif
#ifdef FIBER_ASM
  spoold_fiber_switch_x86(&f->caller_sp, f->self_sp);
#else
  swapcontext(&f->caller, &f->self);
#endif
#ifdef FIBER_ASAN
  __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
  return f->done;
}

void fiber_set_wait_hooks(fiber_t *f, void (*before_wait)(void *ctx), void (*wake)(void *ctx),
                          void *ctx) {
  if (!f) return;
  f->before_wait = before_wait;
  f->wake = wake;
  f->hook_ctx = ctx;
}

static _Thread_local unsigned tl_clients;

void fiber_thread_clients_add(int delta) {
  if (delta < 0 && tl_clients < (unsigned)-delta) tl_clients = 0;  /* a close on another thread */
  else tl_clients += (unsigned)delta;
}

unsigned fiber_thread_clients(void) { return tl_clients; }

fiber_t *fiber_waitable(void) {
  fiber_t *f = tl_fiber;
  return f && f->wake ? f : NULL;
}

void fiber_prepare_wait(fiber_t *f) {
  if (f && f->before_wait) f->before_wait(f->hook_ctx);
}

void fiber_wait(fiber_t *f) {
  if (f && f == tl_fiber) switch_out(f);
}

void fiber_wake(fiber_t *f) {
  if (!f || !f->wake) return;
  void (*wake)(void *) = f->wake;
  void *ctx = f->hook_ctx;
  wake(ctx); /* f may run, finish and be freed from here on */
}
