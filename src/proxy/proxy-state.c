/* SPDX-License-Identifier: Apache-2.0 */
/* The proxy's per-printer state file: the jobs it took from spoold and how far they got
 * (proxy-private.h). Written whole to a temporary file, fsynced and renamed over the old one,
 * so a crash leaves either the old or the new state, never half of one. */
#include "proxy/proxy-private.h"
#include "util/buf.h"
#include "util/ids.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes data to path durably: temporary file, fsync, rename, fsync of the directory. */
int proxy_state_write_file(const char *path, const char *data, size_t len) {
  buf_t tmp = BUF_INIT;
  buf_printf(&tmp, "%s.tmp", path);
  int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int rc = -1;
  if (fd >= 0) {
    if (write(fd, data, len) == (ssize_t)len && fsync(fd) == 0) rc = 0;
    close(fd);
  }
  if (rc == 0) rc = rename(tmp.data, path);
  if (rc == 0) {
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    free(dir);
  }
  buf_free(&tmp);
  return rc;
}

static int save(proxy_state_t *st) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "# spoold proxy: jobs taken from spoold (job-id stage printer-job-id)\n");
  for (size_t i = 0; i < st->njobs; i++)
    buf_printf(&b, "%d %d %d\n", st->jobs[i].id, (int)st->jobs[i].stage, st->jobs[i].device_job);
  int rc = proxy_state_write_file(st->path, b.data, b.len);
  buf_free(&b);
  return rc;
}

int proxy_state_open(proxy_state_t *st, const char *dir, const char *printer_id, char *err,
                     size_t errlen) {
  memset(st, 0, sizeof *st);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "cannot create the state directory %s: %s", dir, strerror(errno));
    return -1;
  }
  /* The device uuid: made once, then kept, so spoold sees the same output device. */
  buf_t p = BUF_INIT;
  buf_printf(&p, "%s/%s.uuid", dir, printer_id);
  FILE *f = fopen(p.data, "r");
  if (f) {
    if (!fgets(st->uuid, sizeof st->uuid, f)) st->uuid[0] = '\0';
    st->uuid[strcspn(st->uuid, "\r\n")] = '\0';
    fclose(f);
  }
  if (strncmp(st->uuid, "urn:uuid:", 9)) {
    char guid[ID_GUID_LEN + 1];
    id_guid(guid);
    snprintf(st->uuid, sizeof st->uuid, "urn:uuid:%s", guid);
    buf_t line = BUF_INIT;
    buf_printf(&line, "%s\n", st->uuid);
    int rc = proxy_state_write_file(p.data, line.data, line.len);
    buf_free(&line);
    if (rc != 0) {
      snprintf(err, errlen, "cannot write %s: %s", p.data, strerror(errno));
      buf_free(&p);
      return -1;
    }
  }
  buf_free(&p);

  buf_t j = BUF_INIT;
  buf_printf(&j, "%s/%s.jobs", dir, printer_id);
  st->path = buf_detach(&j);
  f = fopen(st->path, "r");
  if (!f) {
    if (errno != ENOENT) {
      snprintf(err, errlen, "cannot read %s: %s", st->path, strerror(errno));
      return -1;
    }
    return 0;
  }
  char line[128];
  while (fgets(line, sizeof line, f) && st->njobs < PROXY_MAX_JOBS) {
    int id, stage, dev;
    if (line[0] == '#' || sscanf(line, "%d %d %d", &id, &stage, &dev) != 3) continue;
    if (id <= 0 || stage < PROXY_JOB_ACKED || stage > PROXY_JOB_SENT) continue;
    st->jobs[st->njobs++] = (proxy_job_t){id, (proxy_job_stage_t)stage, dev};
  }
  fclose(f);
  return 0;
}

void proxy_state_close(proxy_state_t *st) {
  free(st->path);
  memset(st, 0, sizeof *st);
}

proxy_job_t *proxy_state_find(proxy_state_t *st, int id) {
  for (size_t i = 0; i < st->njobs; i++)
    if (st->jobs[i].id == id) return &st->jobs[i];
  return NULL;
}

int proxy_state_set(proxy_state_t *st, int id, proxy_job_stage_t stage, int device_job) {
  proxy_job_t *j = proxy_state_find(st, id);
  if (!j) {
    if (st->njobs == PROXY_MAX_JOBS) return -1;
    j = &st->jobs[st->njobs++];
  }
  *j = (proxy_job_t){id, stage, device_job};
  return save(st);
}

int proxy_state_drop(proxy_state_t *st, int id) {
  for (size_t i = 0; i < st->njobs; i++) {
    if (st->jobs[i].id != id) continue;
    st->jobs[i] = st->jobs[--st->njobs];
    return save(st);
  }
  return 0;
}
