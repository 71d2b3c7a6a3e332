/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the libFuzzer harnesses in fuzz/ (one file per target, each defining
 * LLVMFuzzerTestOneInput): an assertion that reports and aborts (libFuzzer then saves the
 * input as a crash), and a NUL-terminated copy of the input for the string APIs.
 *
 * Harnesses call the public functions of the modules they exercise, as the server does; they
 * are built with clang, -fsanitize=fuzzer,address,undefined against build-fuzz/libspoold.a
 * (`make fuzz-build`).
 */
#ifndef SPOOLD_FUZZ_FUZZ_H
#define SPOOLD_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property every input must keep; a violation is a crash for libFuzzer. */
#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* A malloc'd NUL-terminated copy of data[0..size) (embedded NULs stay; the caller frees). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) abort();
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

#endif
