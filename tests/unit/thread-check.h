/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks made off the test's own thread. cr_assert may only fail on the test's thread (it
 * longjmps), but store write closures run on the SQLite writer thread and some tests start
 * threads of their own: those use CHECK(cond), which records the first failure, and the test
 * ends with CHECKS_PASSED() on its own thread, which fails it with that record. Criterion runs
 * each test in a process of its own, so the record starts empty in every test.
 */
#ifndef SPOOLD_TESTS_THREAD_CHECK_H
#define SPOOLD_TESTS_THREAD_CHECK_H

/* Records "line LINE: CHECK(WHAT) failed" unless a failure is recorded already (any thread). */
void test_check_failed(int line, const char *what);
/* The first failure recorded, or "" when none was (valid until the test ends). */
const char *test_check_failure(void);

#define CHECK(cond)                                     \
  do {                                                  \
    if (!(cond)) test_check_failed(__LINE__, #cond);    \
  } while (0)
#define CHECKS_PASSED() cr_assert_eq(test_check_failure()[0], '\0', "%s", test_check_failure())

#endif
