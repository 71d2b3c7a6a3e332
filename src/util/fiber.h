/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fibers: a function run on a stack of its own (switched in assembly on x86-64, by ucontext
 * elsewhere) by whichever thread calls fiber_run, which can give its thread back while it
 * waits and be run again later from where it stopped.
 *
 * The HTTP server runs a write request's handler on a fiber: when the handler's store write
 * queues its closure for the group commit, the fiber suspends the request's connection and
 * gives the worker thread back (fiber_wait); the store writer's completion calls fiber_wake,
 * which resumes the connection, and the worker runs the fiber again to answer. A waiting
 * request so holds no thread, and more writes than threads join one commit.
 *
 * Rules for code that may run on a fiber: fiber_wait is reached only from a store write (the
 * SQLite writer's hand-off), never while a mutex is held or inside a read transaction; thread
 * state that must follow the request rather than the thread is registered with
 * fiber_register_local (the store's last-failure notes), and is swapped in and out with the
 * fiber.
 */
#ifndef SPOOLD_UTIL_FIBER_H
#define SPOOLD_UTIL_FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fiber fiber_t;
typedef struct fiber_pool fiber_pool_t;

/* A pool of fiber stacks of stack_size bytes each (rounded up to pages, plus a guard page),
 * keeping at most keep unused stacks for reuse. fiber_pool_free frees it (NULL is fine); every
 * fiber made from it must have been freed. fiber_pool_live is the number of fibers made from
 * it and not yet freed. */
fiber_pool_t *fiber_pool_new(size_t stack_size, unsigned keep);
void          fiber_pool_free(fiber_pool_t *p);
unsigned      fiber_pool_live(fiber_pool_t *p);

/* A fiber that will run fn(arg) on a stack from p. NULL when no stack could be mapped (the
 * caller then runs fn on its own thread). The caller frees it with fiber_free once
 * fiber_run returned true (a fiber that started and has not finished must not be freed). */
fiber_t *fiber_new(fiber_pool_t *p, void (*fn)(void *arg), void *arg);
void     fiber_free(fiber_t *f);
/* Runs f on the calling thread until fn returns (true) or f waits in fiber_wait (false). Never
 * called on a fiber. */
bool     fiber_run(fiber_t *f);

/* The hooks of f's waits: before_wait(ctx) runs on f's thread inside fiber_prepare_wait, before
 * the wait is announced to whoever will end it (the server suspends the connection there);
 * wake(ctx) is what fiber_wake calls from any thread (the server resumes the connection, and
 * the worker that then handles it calls fiber_run). A fiber without hooks never waits. */
void     fiber_set_wait_hooks(fiber_t *f, void (*before_wait)(void *ctx), void (*wake)(void *ctx),
                              void *ctx);
/* The fiber running on the calling thread when it has wait hooks; NULL on a plain thread (the
 * caller then waits the usual way, blocking its thread). */
fiber_t *fiber_waitable(void);
/* The clients the calling thread serves: its owner counts them (the HTTP server, each
 * connection opened and closed on its worker thread, fiber_thread_clients_add +1 and -1);
 * 0 on a thread that counts none. Blocking a thread that serves others holds them up for as
 * long as it blocks: the SQLite store commits a lone write on its caller's thread only where
 * this is at most 1 (store/sqlite.c, "A lone writer commits inline"). */
void     fiber_thread_clients_add(int delta);
unsigned fiber_thread_clients(void);
/* A wait in three steps: fiber_prepare_wait(f) (on f, before the event that ends the wait can
 * happen: before the closure is queued), then fiber_wait(f) gives the thread back until the
 * owner runs f again; from another thread, fiber_wake(f) once the event happened (f must not
 * be touched by the waker after it). */
void     fiber_prepare_wait(fiber_t *f);
void     fiber_wait(fiber_t *f);
void     fiber_wake(fiber_t *f);

/* Registers a block of thread-local state (addr() gives its address on the calling thread,
 * size its size) that a fiber carries with it: a fiber starts with the values of the thread
 * that first runs it, and while it waits the thread gets back the values it had before. At
 * most a few blocks, registered before the first fiber runs (a process-wide registry). */
void     fiber_register_local(void *(*addr)(void), size_t size);

#endif
