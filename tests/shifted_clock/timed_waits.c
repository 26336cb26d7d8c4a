/* Timed waits for a process whose clocks libfaketime shifts (`make test-shifted`).
 *
 * libfaketime (0.9.10, Debian 12) shifts CLOCK_MONOTONIC along with the wall clock but does not
 * intercept sem_clockwait or pthread_cond_clockwait. CPython 3.11+ computes the deadline of every
 * timed wait (Lock.acquire(timeout), Event.wait, Queue.get, Thread.join) from the shifted monotonic
 * clock and hands it to one of those two calls, so the kernel, which knows only the real clock, waits
 * hundreds of days (libfaketime issues 390 and 469). Preloaded next to libfaketime, these two
 * wrappers turn such a deadline back into the same distance from the real clock; nothing else changes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct timespec real_deadline(clockid_t clock, const struct timespec *deadline) {
    struct timespec shifted, real, out;
    clock_gettime(clock, &shifted);             /* through libfaketime: the clock the caller read */
    syscall(SYS_clock_gettime, clock, &real);   /* from the kernel: the clock the wait runs on */
    long long left = (deadline->tv_sec - shifted.tv_sec) * 1000000000LL + (deadline->tv_nsec - shifted.tv_nsec);
    long long at = real.tv_sec * 1000000000LL + real.tv_nsec + (left > 0 ? left : 0);
    out.tv_sec = at / 1000000000LL;
    out.tv_nsec = at % 1000000000LL;
    return out;
}

static int (*next_sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
static int (*next_cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);

/* Resolved once when the library loads, before any thread runs: no first-call race between threads. */
__attribute__((constructor)) static void resolve_next(void) {
    next_sem_clockwait = dlsym(RTLD_NEXT, "sem_clockwait");
    next_cond_clockwait = dlsym(RTLD_NEXT, "pthread_cond_clockwait");
}

int sem_clockwait(sem_t *sem, clockid_t clock, const struct timespec *deadline) {
    struct timespec real = real_deadline(clock, deadline);
    return next_sem_clockwait(sem, clock, &real);
}

int pthread_cond_clockwait(pthread_cond_t *cond, pthread_mutex_t *mutex, clockid_t clock,
                           const struct timespec *deadline) {
    struct timespec real = real_deadline(clock, deadline);
    return next_cond_clockwait(cond, mutex, clock, &real);
}
