#ifndef CUV_SHIM_H
#define CUV_SHIM_H
#include <uv.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
/* libuv handle types begin with the uv_handle_t / uv_stream_t fields; these casts are the
   documented way to use them as the base type. Done in C so Swift needs no pointer rebinding. */
static inline uv_handle_t *cuv_tcp_as_handle(uv_tcp_t *t) { return (uv_handle_t *)t; }
static inline uv_stream_t *cuv_tcp_as_stream(uv_tcp_t *t) { return (uv_stream_t *)t; }
static inline uv_handle_t *cuv_timer_as_handle(uv_timer_t *t) { return (uv_handle_t *)t; }
static inline uv_handle_t *cuv_async_as_handle(uv_async_t *a) { return (uv_handle_t *)a; }
static inline uv_handle_t *cuv_stream_as_handle(uv_stream_t *s) { return (uv_handle_t *)s; }
static inline uv_tcp_t *cuv_stream_as_tcp(uv_stream_t *s) { return (uv_tcp_t *)s; }
static inline const struct sockaddr *cuv_sockaddr_in_as_sockaddr(const struct sockaddr_in *a) {
    return (const struct sockaddr *)a;
}
static inline const struct sockaddr *cuv_sockaddr_storage_as_sockaddr(const struct sockaddr_storage *a) {
    return (const struct sockaddr *)a;
}
/* Raises the soft open-files limit to the hard limit; returns the new soft limit (or -1). */
static inline long cuv_raise_nofile_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if (rl.rlim_cur < rl.rlim_max) { rl.rlim_cur = rl.rlim_max; (void)setrlimit(RLIMIT_NOFILE, &rl); getrlimit(RLIMIT_NOFILE, &rl); }
    return (long)rl.rlim_cur;
}
/* A CLOCK_MONOTONIC timerfd (the clock uv_hrtime reads): libuv timers have whole-millisecond resolution,
   an open-loop schedule needs its send times to the microsecond. Returns the fd or -1. */
static inline int cuv_timerfd_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }
/* Arms the timerfd to fire once at absolute monotonic time `ns` (a time in the past fires at once). */
static inline int cuv_timerfd_arm(int fd, uint64_t ns) {
    struct itimerspec s;
    s.it_interval.tv_sec = 0; s.it_interval.tv_nsec = 0;
    if (ns == 0) ns = 1; /* 0 would disarm */
    s.it_value.tv_sec = (time_t)(ns / 1000000000ULL);
    s.it_value.tv_nsec = (long)(ns % 1000000000ULL);
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, 0);
}
/* Reads (and discards) the expiration count so the fd stops polling readable. */
static inline void cuv_timerfd_drain(int fd) { uint64_t n; ssize_t r = read(fd, &n, sizeof n); (void)r; }
static inline void cuv_close_fd(int fd) { (void)close(fd); }
static inline uv_handle_t *cuv_poll_as_handle(uv_poll_t *p) { return (uv_handle_t *)p; }

/* Names the calling thread (15 bytes at most; shown by top -H, perf and /proc/PID/task/TID/comm). */
static inline void cuv_set_thread_name(const char *name) { (void)prctl(PR_SET_NAME, name, 0, 0, 0); }
/* Sets the calling thread's nice value (Linux schedules threads one by one, so this lowers this thread
   only); an unprivileged process may raise it. Returns 0 or -1. */
static inline int cuv_set_thread_nice(int nice) { return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice); }

/* glibc malloc: keeps up to `trim_bytes` of freed memory at the top of each heap (instead of the default 128 KiB)
   and grows heaps `pad_bytes` at a time, so buffers allocated on one thread and freed on another do not make
   the heap shrink and fault its pages in again. No effect on other C libraries. mallopt(3). */
static inline void cuv_keep_freed_heap(int trim_bytes, int pad_bytes) {
#if defined(__GLIBC__)
    (void)mallopt(M_TRIM_THRESHOLD, trim_bytes);
    (void)mallopt(M_TOP_PAD, pad_bytes);
#else
    (void)trim_bytes; (void)pad_bytes;
#endif
}
/* CPU seconds (user + system) used by the calling thread, or by the whole process. */
static inline double cuv_thread_cpu_seconds(void) {
    struct rusage u;
    /* RUSAGE_THREAD is 1 on Linux; spelled out because it needs _GNU_SOURCE. */
    if (getrusage((int)1, &u) != 0) return 0;
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}
static inline double cuv_process_cpu_seconds(void) {
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}
/* Peak resident set size of the process, in bytes. */
static inline long cuv_peak_rss_bytes(void) {
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
    return u.ru_maxrss * 1024L;
}
#endif
