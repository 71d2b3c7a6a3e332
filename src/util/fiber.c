/* SPDX-License-Identifier: Apache-2.0 */
/* Fibers on ucontext stacks; see fiber.h. */
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
  ucontext_t    self;       /* where the fiber stopped (fiber_wait) */
  ucontext_t    caller;     /* where fiber_run was called */
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
    setcontext(&f->caller); /* the fiber's stack is not used again */
  } else {
    swapcontext(&f->self, &f->caller);
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
    getcontext(&f->self);
    f->self.uc_stack.ss_sp = (char *)f->stack->map + (f->stack->len - f->pool->stack_size);
    f->self.uc_stack.ss_size = f->pool->stack_size;
    f->self.uc_link = NULL;
    makecontext(&f->self, trampoline, 0);
  }
#ifdef FIBER_ASAN
  void *fake = NULL;
  __sanitizer_start_switch_fiber(&fake, (char *)f->stack->map + (f->stack->len - f->pool->stack_size),
                                 f->pool->stack_size);
#endif
  swapcontext(&f->caller, &f->self);
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
