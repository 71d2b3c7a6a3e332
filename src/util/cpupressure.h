/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whether the CPUs are contended, from the kernel's pressure stall information (PSI): the
 * "some" line of a cpu.pressure file counts (total=, microseconds, cumulative) the time during
 * which at least one runnable task waited for a CPU. The stalled share of the wall time between
 * two samples says how contended the CPUs were meanwhile: near 0 while a CPU is idle whenever
 * a task wakes, near 1 once more tasks are runnable than there are CPUs.
 *
 * The file is the process's own cgroup's (cgroup v2, /proc/self/cgroup's "0::" path under the
 * cgroup2 mount of /proc/self/mountinfo) when the kernel offers it there, else the whole
 * system's /proc/pressure/cpu. It is kept open and read with one pread at offset 0 (about 3 µs
 * on a 2-core VM with Linux 6.18), at most once per CPU_PRESSURE_SAMPLE_US.
 *
 * The decision (cpu_pressure_gate_feed) is a pure function of the samples fed to it, with
 * hysteresis: contended once a window's share exceeds CPU_PRESSURE_CONTENDED_ABOVE, not any
 * more once a window's share falls below CPU_PRESSURE_FREE_BELOW. Nothing known (no sample, or
 * one sample only) counts as contended. The SQLite writer (store/sqlite.c) commits a lone
 * write on its caller's thread only while the CPUs are not contended.
 */
#ifndef SPOOLD_UTIL_CPUPRESSURE_H
#define SPOOLD_UTIL_CPUPRESSURE_H

#include <stdbool.h>
#include <stdint.h>

#define CPU_PRESSURE_SAMPLE_US        100000 /* the shortest window between two samples */
#define CPU_PRESSURE_CONTENDED_ABOVE  0.70   /* a window's stalled share that turns it on */
#define CPU_PRESSURE_FREE_BELOW       0.50   /* ... and the share that turns it off again */

/* The "some" total (microseconds) of the text of a cpu.pressure file (NUL-terminated) into
 * *total_us. Returns 0, or -1 when the text has no "some" line with a total= number. */
int cpu_pressure_parse(const char *text, uint64_t *total_us);

/* The decision's state, fed by cpu_pressure_gate_feed; zeroed: no sample yet (contended). */
typedef struct cpu_pressure_gate {
  uint64_t total_us;   /* the last sample's "some" total */
  int64_t  at_us;      /* its time on a monotonic clock; 0: no sample yet */
  double   share;      /* the stalled share of the last window; -1 before the second sample */
  bool     contended;  /* the decision (true until a window's share says otherwise) */
  bool     known;      /* a window was measured (the decision rests on a share) */
} cpu_pressure_gate_t;

/* Feeds the sample (total_us at now_us, monotonic) into *g and returns whether the CPUs count
 * as contended. A sample less than CPU_PRESSURE_SAMPLE_US after the last one is ignored (the
 * decision stays); a total below the last one (another file, a wrapped counter) starts over
 * as the first sample (contended). Pure: no clock, no I/O. */
bool cpu_pressure_gate_feed(cpu_pressure_gate_t *g, uint64_t total_us, int64_t now_us);

typedef struct cpu_pressure cpu_pressure_t;

/* Opens the PSI file (above). Returns NULL when none is readable (no PSI in the kernel, or
 * psi=0 on its command line); the caller owns the result (cpu_pressure_close). */
cpu_pressure_t *cpu_pressure_open(void);
/* Closes p (NULL is fine). */
void cpu_pressure_close(cpu_pressure_t *p);
/* Whether the CPUs count as contended at now_us (time_mono_us): reads the file when the last
 * sample is CPU_PRESSURE_SAMPLE_US old, then decides (cpu_pressure_gate_feed); a failed read
 * counts as contended. Not thread-safe: the caller serializes the calls (store/sqlite.c under
 * its writer's mutex). */
bool cpu_pressure_contended(cpu_pressure_t *p, int64_t now_us);
/* The gate's state as of the last call (for the metrics; the caller serializes as above). */
cpu_pressure_gate_t cpu_pressure_state(const cpu_pressure_t *p);
/* The file read (valid until cpu_pressure_close). */
const char *cpu_pressure_path(const cpu_pressure_t *p);

#endif
