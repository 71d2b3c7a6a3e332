/* SPDX-License-Identifier: Apache-2.0 */
/* Checks made off the test's own thread (see thread-check.h). */
#include "thread-check.h"

#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t g_fail_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_fail[512];

void test_check_failed(int line, const char *what) {
  pthread_mutex_lock(&g_fail_mu);
  if (!g_fail[0]) snprintf(g_fail, sizeof g_fail, "line %d: CHECK(%s) failed", line, what);
  pthread_mutex_unlock(&g_fail_mu);
}

const char *test_check_failure(void) { return g_fail; }
