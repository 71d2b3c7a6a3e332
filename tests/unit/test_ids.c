/* SPDX-License-Identifier: Apache-2.0 */
/* util/ids: GUID shapes and the per-thread request ids. */
#include "util/ids.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#define N_IDS 2000

Test(ids, request_guids_are_v4_shaped_and_distinct) {
  static char ids[N_IDS][ID_GUID_LEN + 1];
  for (int i = 0; i < N_IDS; i++) {
    id_request_guid(ids[i]);
    cr_assert(id_is_guid(ids[i]), "not a GUID: %s", ids[i]);
    cr_assert_eq(ids[i][14], '4', "version nibble of %s", ids[i]);
    cr_assert(strchr("89ab", ids[i][19]), "variant nibble of %s", ids[i]);
  }
  for (int i = 0; i < N_IDS; i++)
    for (int k = i + 1; k < N_IDS; k++) cr_assert_str_neq(ids[i], ids[k]);
}

static void *one_id(void *arg) {
  id_request_guid(arg);
  return NULL;
}

Test(ids, request_guids_of_other_threads_differ) {
  char a[ID_GUID_LEN + 1], b[ID_GUID_LEN + 1], mine[ID_GUID_LEN + 1];
  pthread_t ta, tb;
  cr_assert_eq(pthread_create(&ta, NULL, one_id, a), 0);
  cr_assert_eq(pthread_create(&tb, NULL, one_id, b), 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  id_request_guid(mine);
  cr_assert_str_neq(a, b);
  cr_assert_str_neq(a, mine);
  cr_assert_str_neq(b, mine);
}

Test(ids, guid_is_random_v4) {
  char a[ID_GUID_LEN + 1], b[ID_GUID_LEN + 1];
  id_guid(a);
  id_guid(b);
  cr_assert(id_is_guid(a));
  cr_assert_eq(a[14], '4');
  cr_assert_str_neq(a, b);
}

/* Time-ordered GUIDs: version 7, RFC 4122 variant, every id greater than the one before (as
 * text), also when many are made within one millisecond and from several threads. */
Test(ids, ordered_guids_are_v7_and_increase) {
  static char ids[N_IDS][ID_GUID_LEN + 1];
  for (int i = 0; i < N_IDS; i++) {
    id_guid_ordered(ids[i]);
    cr_assert(id_is_guid(ids[i]), "not a GUID: %s", ids[i]);
    cr_assert_eq(ids[i][14], '7', "version nibble of %s", ids[i]);
    cr_assert(strchr("89ab", ids[i][19]), "variant nibble of %s", ids[i]);
    if (i > 0) cr_assert_gt(strcmp(ids[i], ids[i - 1]), 0, "%s after %s", ids[i], ids[i - 1]);
  }
}

#define N_THREAD_IDS 500

static void *ordered_ids(void *arg) {
  char(*out)[ID_GUID_LEN + 1] = arg;
  for (int i = 0; i < N_THREAD_IDS; i++) id_guid_ordered(out[i]);
  return NULL;
}

Test(ids, ordered_guids_of_threads_are_distinct_and_increase_per_thread) {
  static char ids[2][N_THREAD_IDS][ID_GUID_LEN + 1];
  pthread_t th[2];
  for (int t = 0; t < 2; t++) cr_assert_eq(pthread_create(&th[t], NULL, ordered_ids, ids[t]), 0);
  for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < 2; t++)
    for (int i = 1; i < N_THREAD_IDS; i++) cr_assert_gt(strcmp(ids[t][i], ids[t][i - 1]), 0);
  for (int i = 0; i < N_THREAD_IDS; i++)
    for (int k = 0; k < N_THREAD_IDS; k++) cr_assert_str_neq(ids[0][i], ids[1][k]);
}
