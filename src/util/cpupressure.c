/* SPDX-License-Identifier: Apache-2.0 */
/* CPU pressure stall information: see cpupressure.h. */
#include "util/cpupressure.h"
#include "util/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cpu_pressure {
  int                 fd;
  char               *path;
  cpu_pressure_gate_t gate;
};

int cpu_pressure_parse(const char *text, uint64_t *total_us) {
  for (const char *line = text; *line;) {
    const char *eol = strchr(line, '\n');
    if (!strncmp(line, "some ", 5)) {
      const char *t = strstr(line, " total=");
      if (!t || (eol && t > eol) || t[7] < '0' || t[7] > '9') return -1;
      char *end;
      errno = 0;
      unsigned long long v = strtoull(t + 7, &end, 10);
      if (errno || (*end && *end != '\n' && *end != ' ')) return -1;
      *total_us = v;
      return 0;
    }
    if (!eol) break;
    line = eol + 1;
  }
  return -1;
}

bool cpu_pressure_gate_feed(cpu_pressure_gate_t *g, uint64_t total_us, int64_t now_us) {
  if (g->at_us && now_us - g->at_us < CPU_PRESSURE_SAMPLE_US) return g->contended;
  if (!g->at_us || total_us < g->total_us || now_us <= g->at_us) {
    *g = (cpu_pressure_gate_t){.total_us = total_us, .at_us = now_us, .share = -1,
                               .contended = true};
    return true;
  }
  g->share = (double)(total_us - g->total_us) / (double)(now_us - g->at_us);
  g->total_us = total_us;
  g->at_us = now_us;
  /* hysteresis: a share between the two bounds keeps the decision of the window before (the
   * first measured window decides by the upper bound) */
  if (g->share > CPU_PRESSURE_CONTENDED_ABOVE) g->contended = true;
  else if (g->share < CPU_PRESSURE_FREE_BELOW || !g->known) g->contended = false;
  g->known = true;
  return g->contended;
}

/* One read of the file at offset 0 and its "some" total; -1 when it fails. */
static int read_total(int fd, uint64_t *total_us) {
  char text[256];
  ssize_t n = pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return -1;
  text[n] = '\0';
  return cpu_pressure_parse(text, total_us);
}

/* The process's cgroup v2 directory (the cgroup2 mount point and the "0::" path of
 * /proc/self/cgroup), or NULL (caller frees). */
static char *own_cgroup_dir(void) {
  char *cg = NULL, *dir = NULL, line[4096];
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f) return NULL;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "0::", 3)) {
      line[strcspn(line, "\n")] = '\0';
      cg = xstrdup(line + 3);
      break;
    }
  fclose(f);
  if (!cg || (f = fopen("/proc/self/mountinfo", "re")) == NULL) goto done;
  /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTS" */
  while (!dir && fgets(line, sizeof line, f)) {
    char root[1024], mnt[1024];
    const char *sep = strstr(line, " - cgroup2 ");
    if (!sep || sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2) continue;
    size_t rl = strcmp(root, "/") ? strlen(root) : 0;  /* the mount shows the subtree ROOT */
    if (strncmp(cg, root, rl) || (cg[rl] && cg[rl] != '/')) continue;
    dir = xasprintf("%s%s", mnt, strcmp(cg + rl, "/") ? cg + rl : "");
  }
  fclose(f);
done:
  free(cg);
  return dir;
}

/* Opens path when a read of it parses; -1 otherwise. */
static int open_checked(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  uint64_t total;
  if (fd >= 0 && read_total(fd, &total) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

cpu_pressure_t *cpu_pressure_open(void) {
  char *dir = own_cgroup_dir();
  char *path = dir ? xasprintf("%s/cpu.pressure", dir) : NULL;
  free(dir);
  int fd = path ? open_checked(path) : -1;
  if (fd < 0) {
    free(path);
    path = xstrdup("/proc/pressure/cpu");
    fd = open_checked(path);
  }
  if (fd < 0) {
    free(path);
    return NULL;
  }
  cpu_pressure_t *p = xmalloc(sizeof *p);
  *p = (cpu_pressure_t){.fd = fd, .path = path, .gate = {.share = -1, .contended = true}};
  return p;
}

void cpu_pressure_close(cpu_pressure_t *p) {
  if (!p) return;
  close(p->fd);
  free(p->path);
  free(p);
}

bool cpu_pressure_contended(cpu_pressure_t *p, int64_t now_us) {
  cpu_pressure_gate_t *g = &p->gate;
  if (g->at_us && now_us - g->at_us < CPU_PRESSURE_SAMPLE_US) return g->contended;
  uint64_t total;
  if (read_total(p->fd, &total) != 0) {
    /* contended, and read again a window later; its total (above any real one) makes the
     * next good sample start over as a first one */
    *g = (cpu_pressure_gate_t){.total_us = UINT64_MAX, .at_us = now_us, .share = -1,
                               .contended = true};
    return true;
  }
  return cpu_pressure_gate_feed(g, total, now_us);
}

cpu_pressure_gate_t cpu_pressure_state(const cpu_pressure_t *p) { return p->gate; }

const char *cpu_pressure_path(const cpu_pressure_t *p) { return p->path; }
