// A fork-join pool for the kernels' parallel loops (CNNKernels/Parallel.swift): worker threads
// that wait for the next job by spinning for a while before they sleep, so that the hundreds
// of short parallel sections of a training step (every convolution, normalization and
// optimizer step) start on all cores at once. Dispatch's workers park between sections and
// take tens of microseconds to wake, often after the caller has run every chunk itself.
//
// One job at a time: a caller that finds the pool busy (a parallel section inside a chunk,
// or another thread's) gets 0 back and runs its chunks another way; so does one asking for
// more chunks than the process has CPUs, where spinning threads would take turns with the
// ones doing the work. Waiting threads spin with `pause` for 50 µs, then yield the CPU
// between looks until 2 ms have passed, so that other processes' threads on the same cores
// (MPI ranks, a parallel test run) still get to run.
//
// The generation counter publishes jobs. The caller makes it odd while it writes a job's
// parameters (after every worker still inside the previous job has left), then even again;
// a worker takes part in generation g only if, once counted in `active`, it still reads g, so
// it never sees a job half written, and the caller waits for `active` to drain before it
// returns, so no worker touches the job after that.
#if defined(__linux__)
#define _GNU_SOURCE  // sched_getaffinity and CPU_COUNT
#endif
#include "CCNNKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

// Waiting threads spin this long, then yield between looks until WAIT_NANOSECONDS; workers
// then sleep until the next job.
#define SPIN_NANOSECONDS 50000L
#define WAIT_NANOSECONDS 2000000L
#define MAX_WORKERS 255

static struct {
  pthread_mutex_t lock;  // guards starting workers and sleeping
  pthread_cond_t wake;
  atomic_int busy;  // 1 while a caller runs a job
  atomic_long generation;  // odd while a job is being written
  atomic_long next;  // the next chunk to take
  atomic_long active;  // workers inside a job
  atomic_int sleepers;
  atomic_int workers;  // started (only grows, under `lock`)
  long chunks;  // the job, written while `generation` is odd
  ccnn_chunk_function function;
  void *context;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static long now_nanoseconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

// Takes chunks until none is left.
static void run_chunks(void) {
  const ccnn_chunk_function function = pool.function;
  void *const context = pool.context;
  const long chunks = pool.chunks;
  for (;;) {
    const long chunk = atomic_fetch_add(&pool.next, 1);
    if (chunk >= chunks) break;
    function(context, chunk);
  }
}

// One look of a waiting loop begun at `*start` (0: not yet read; the clock costs about as
// much as a look): a `pause` for the first SPIN_NANOSECONDS, then a yield of the CPU.
// Returns 0 once WAIT_NANOSECONDS have passed.
static int keep_waiting(long *start) {
  const long t = now_nanoseconds();
  if (*start == 0) *start = t;
  const long waited = t - *start;
  if (waited > WAIT_NANOSECONDS) return 0;
  if (waited > SPIN_NANOSECONDS) sched_yield();
  else cpu_relax();
  return 1;
}

// The first even generation other than `seen`: spins, yields, then sleeps.
static long wait_for_job(long seen) {
  long start = 0;
  for (;;) {
    const long g = atomic_load(&pool.generation);
    if (g != seen && (g & 1) == 0) return g;
    if (!keep_waiting(&start)) break;
  }
  pthread_mutex_lock(&pool.lock);
  atomic_fetch_add(&pool.sleepers, 1);
  long g;
  while ((g = atomic_load(&pool.generation)) == seen || (g & 1) != 0) pthread_cond_wait(&pool.wake, &pool.lock);
  atomic_fetch_sub(&pool.sleepers, 1);
  pthread_mutex_unlock(&pool.lock);
  return g;
}

typedef struct {
  long index;
  long seen;
} worker_start;

static void *worker_main(void *argument) {
  const worker_start start = *(worker_start *)argument;
  free(argument);
  long seen = start.seen;
  for (;;) {
    const long g = wait_for_job(seen);
    seen = g;
    atomic_fetch_add(&pool.active, 1);
    // Still g once counted: the job is complete and stays so until `active` drains. Worker
    // i is needed only when the job has more than i + 1 chunks (the caller takes one).
    if (atomic_load(&pool.generation) == g && start.index + 1 < pool.chunks) run_chunks();
    atomic_fetch_sub(&pool.active, 1);
  }
  return 0;
}

// Starts workers until there are `count` (at most MAX_WORKERS); returns how many there are.
static int start_workers(long count, long seen) {
  if (count > MAX_WORKERS) count = MAX_WORKERS;
  const int started = atomic_load(&pool.workers);
  if (started >= count) return started;  // every job but the first: no lock
  pthread_mutex_lock(&pool.lock);
  while (atomic_load(&pool.workers) < count) {
    worker_start *start = malloc(sizeof *start);
    if (!start) break;
    start->index = atomic_load(&pool.workers);
    start->seen = seen;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    const int failed = pthread_create(&thread, &attributes, worker_main, start);
    pthread_attr_destroy(&attributes);
    if (failed) {
      free(start);
      break;
    }
    atomic_fetch_add(&pool.workers, 1);
  }
  const int workers = atomic_load(&pool.workers);
  pthread_mutex_unlock(&pool.lock);
  return workers;
}

// The CPUs this process may run on (its affinity mask on Linux), read once.
static long available_cpus(void) {
  static atomic_long cached;
  long count = atomic_load(&cached);
  if (count > 0) return count;
#if defined(__linux__)
  cpu_set_t set;
  count = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
#endif
  if (count <= 0) count = sysconf(_SC_NPROCESSORS_ONLN);
  if (count <= 0) count = 1;
  atomic_store(&cached, count);
  return count;
}

// Waits for the workers inside the job to leave it: spins, then yields.
static void wait_for_workers(void) {
  long start = 0;
  while (atomic_load(&pool.active) != 0) {
    if (!keep_waiting(&start)) sched_yield();
  }
}

int ccnn_parallel_run(long chunks, ccnn_chunk_function function, void *context) {
  if (chunks < 2 || chunks > available_cpus()) return 0;
  int expected = 0;
  if (!atomic_compare_exchange_strong(&pool.busy, &expected, 1)) return 0;
  const long seen = atomic_load(&pool.generation);
  if (start_workers(chunks - 1, seen) == 0) {
    atomic_store(&pool.busy, 0);
    return 0;
  }
  atomic_fetch_add(&pool.generation, 1);  // odd: writing
  wait_for_workers();
  pool.function = function;
  pool.context = context;
  pool.chunks = chunks;
  atomic_store(&pool.next, 0);
  atomic_fetch_add(&pool.generation, 1);  // even: published
  if (atomic_load(&pool.sleepers) > 0) {
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
  }
  run_chunks();
  wait_for_workers();
  atomic_store(&pool.busy, 0);
  return 1;
}
