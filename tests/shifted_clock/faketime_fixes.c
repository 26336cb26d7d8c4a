/* Two fixes that let a threaded Python process run under libfaketime (`make test-shifted`).
 * Preloaded beside libfaketime 0.9.10 (Debian 12); nothing else changes.
 *
 * 1. Timed waits. libfaketime shifts CLOCK_MONOTONIC along with the wall clock but does not intercept
 *    sem_clockwait or pthread_cond_clockwait. CPython 3.11+ computes the deadline of every timed wait
 *    (Lock.acquire(timeout), Event.wait, Queue.get, Thread.join) from the shifted monotonic clock and
 *    hands it to one of those two calls, so the kernel, which knows only the real clock, waits hundreds
 *    of days (libfaketime issues 390 and 469). The wrappers turn such a deadline back into the same
 *    distance from the real clock.
 *
 * 2. The environment. libfaketime calls getenv() inside every clock read, sleep and wait it
 *    intercepts, from whichever thread makes the call. glibc's getenv is not safe against a concurrent
 *    setenv/unsetenv, which may move the environment array, and the suite sets variables (monkeypatch)
 *    while background threads read clocks: that crashed CI runs with a segmentation fault, and a
 *    20-second loop of os.environ writes beside four sleeping threads reproduces it every time. Here
 *    one lock orders every getenv against every change, and a fork never leaves the lock held.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
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
static char *(*next_getenv)(const char *);
static int (*next_setenv)(const char *, const char *, int);
static int (*next_unsetenv)(const char *);
static int (*next_putenv)(char *);
static int (*next_clearenv)(void);

static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;
static void env_lock_take(void) { pthread_mutex_lock(&env_lock); }
static void env_lock_give(void) { pthread_mutex_unlock(&env_lock); }

/* Resolved on first use through a pthread_once: libfaketime may read the environment from its own
 * constructor, before a constructor here would have run. */
static pthread_once_t resolved = PTHREAD_ONCE_INIT;
static void resolve_next(void) {
    next_sem_clockwait = dlsym(RTLD_NEXT, "sem_clockwait");
    next_cond_clockwait = dlsym(RTLD_NEXT, "pthread_cond_clockwait");
    next_getenv = dlsym(RTLD_NEXT, "getenv");
    next_setenv = dlsym(RTLD_NEXT, "setenv");
    next_unsetenv = dlsym(RTLD_NEXT, "unsetenv");
    next_putenv = dlsym(RTLD_NEXT, "putenv");
    next_clearenv = dlsym(RTLD_NEXT, "clearenv");
    /* The forking thread holds the lock across fork: the child never inherits it taken by a thread
     * that does not exist there. */
    pthread_atfork(env_lock_take, env_lock_give, env_lock_give);
}
#define RESOLVED() pthread_once(&resolved, resolve_next)

int sem_clockwait(sem_t *sem, clockid_t clock, const struct timespec *deadline) {
    RESOLVED();
    struct timespec real = real_deadline(clock, deadline);
    return next_sem_clockwait(sem, clock, &real);
}

int pthread_cond_clockwait(pthread_cond_t *cond, pthread_mutex_t *mutex, clockid_t clock,
                           const struct timespec *deadline) {
    RESOLVED();
    struct timespec real = real_deadline(clock, deadline);
    return next_cond_clockwait(cond, mutex, clock, &real);
}

char *getenv(const char *name) {
    RESOLVED();
    env_lock_take();
    char *value = next_getenv(name);
    env_lock_give();
    return value;
}

int setenv(const char *name, const char *value, int overwrite) {
    RESOLVED();
    env_lock_take();
    int result = next_setenv(name, value, overwrite);
    env_lock_give();
    return result;
}

int unsetenv(const char *name) {
    RESOLVED();
    env_lock_take();
    int result = next_unsetenv(name);
    env_lock_give();
    return result;
}

int putenv(char *assignment) {
    RESOLVED();
    env_lock_take();
    int result = next_putenv(assignment);
    env_lock_give();
    return result;
}

int clearenv(void) {
    RESOLVED();
    env_lock_take();
    int result = next_clearenv();
    env_lock_give();
    return result;
}
