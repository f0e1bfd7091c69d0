/* drv_fuzz_sweep: seeds' cases in child processes, a batch per child (see
 * drv_fuzz.h). An engine that aborts (a failed assertion, a sanitizer's
 * report, a signal) ends that seed, as a crash with its seed, not the
 * sweep. A child sends its results back through a pipe as plain bytes: it
 * runs the same binary, so the structures (and the static strings rt_error
 * points to) mean the same on both sides. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drv_fuzz.h"
#include "rt_fd.h"

typedef struct child_answer {
    rt_err rc;
    drv_fuzz_result r;
    rt_error e;
} child_answer;

/* The child died before it answered: a crashed seed, a violation (the
 * engine must not die on any input the fuzzer makes). */
static void crashed(uint64_t seed, int status, drv_fuzz_result *out) {
    memset(out, 0, sizeof *out);
    out->seed = seed;
    out->violated = 1;
    snprintf(out->outcome, sizeof out->outcome, "crashed");
    snprintf(out->backend, sizeof out->backend, "?");
    snprintf(out->kind, sizeof out->kind, "?");
    snprintf(out->plan, sizeof out->plan, "none");
    snprintf(out->actions, sizeof out->actions, "none");
    if (WIFSIGNALED(status))
        RT_FAIL(&out->why, RT_EINTERNAL, "the engine died of signal %d (%s) on this seed", WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    else
        RT_FAIL(&out->why, RT_EINTERNAL, "the engine exited with status %d before it answered (a sanitizer report?)",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* A pipe and a child process (*pid 0 in the child, which writes fd[1]). */
static rt_err fork_child(int fd[2], pid_t *pid, rt_error *e) {
    if (pipe(fd) != 0) return RT_FAIL(e, RT_EIO, "fuzz: cannot make a pipe: %s", strerror(errno));
    fflush(NULL); /* nothing buffered is written twice */
    *pid = fork();
    if (*pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return RT_FAIL(e, RT_EIO, "fuzz: cannot fork: %s", strerror(errno));
    }
    return RT_OK;
}

static uint64_t seed_at(const drv_fuzz_seeds *s, uint64_t k) { return s->first + k * s->step; }

/* The child: seeds k..end in order, one answer each; stops after a seed
 * whose case returned an error (the sweep ends there). */
static void child_batch(drv_fuzz_fn fn, const drv_fuzz_seeds *seeds, uint64_t k, uint64_t end, const char *work_dir,
                        sim_mutant mutant, int fd) {
    for (; k < end; k++) {
        child_answer a;
        memset(&a, 0, sizeof a);
        rt_error_clear(&a.e);
        a.rc = fn(seed_at(seeds, k), work_dir, NULL, mutant, &a.r, &a.e);
        if (rt_fd_write_all(fd, &a, sizeof a) != 0) _exit(3);
        if (a.rc != RT_OK) break;
    }
    _exit(0);
}

typedef struct batch_state {
    drv_fuzz_fn fn;
    const drv_fuzz_seeds *seeds;
    const char *work_dir;
    sim_mutant mutant;
    const drv_fuzz_sink *sink;
    rt_error *e;
} batch_state;

static rt_err deliver(const batch_state *b, const drv_fuzz_result *r) {
    if (b->sink->result(b->sink->ctx, r) != 0) return RT_FAIL(b->e, RT_EINTERNAL, "fuzz: the sweep was stopped");
    return RT_OK;
}

/* Reads the answers of the child pid (seeds *k.. end) and reaps it.
 * Returns with *k at the first seed not answered for good; *died: the
 * child died, during seed *k - 1 (its first: delivered as crashed) or
 * during *k (not its first: blamed on nobody yet, to run again first). */
static rt_err read_batch(const batch_state *b, pid_t pid, int fd, uint64_t *k, uint64_t end, int *died) {
    uint64_t first = *k;
    int status = 0, reaped = 0;
    rt_err rc = RT_OK;
    *died = 0;
    while (*k < end && rc == RT_OK) {
        child_answer a;
        size_t got = rt_fd_read_all(fd, &a, sizeof a);
        int last = *k + 1 == end || (got == sizeof a && a.rc != RT_OK);
        if (got != sizeof a || last) { /* the child's end decides the last answer */
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            reaped = 1;
        }
        if (got == sizeof a && (!last || (WIFEXITED(status) && WEXITSTATUS(status) == 0))) {
            if (a.rc != RT_OK) {
                *b->e = a.e;
                return a.rc;
            }
            rc = deliver(b, &a.r);
            (*k)++;
            continue;
        }
        *died = 1;
        if (*k != first) return RT_OK; /* not its first seed: run it again, first */
        drv_fuzz_result r;
        crashed(seed_at(b->seeds, *k), status, &r);
        (*k)++;
        return deliver(b, &r);
    }
    if (!reaped) { /* the sink stopped the sweep: end the child */
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    }
    return rc;
}

rt_err drv_fuzz_sweep(drv_fuzz_fn fn, const drv_fuzz_seeds *seeds, const char *work_dir, sim_mutant mutant,
                      const drv_fuzz_sink *sink, rt_error *e) {
    batch_state b = {fn, seeds, work_dir, mutant, sink, e};
    uint64_t k = 0;
    while (k < seeds->count) {
        uint64_t end = seeds->count - k < DRV_FUZZ_BATCH ? seeds->count : k + DRV_FUZZ_BATCH;
        int fd[2];
        pid_t pid = -1;
        rt_err frc = fork_child(fd, &pid, e);
        if (frc != RT_OK) return frc;
        if (pid == 0) {
            close(fd[0]);
            child_batch(fn, seeds, k, end, work_dir, mutant, fd[1]);
        }
        close(fd[1]);
        int died = 0;
        rt_err rc = read_batch(&b, pid, fd[0], &k, end, &died);
        close(fd[0]);
        if (rc != RT_OK) return rc;
        if (died && sink->fresh && sink->fresh(sink->ctx, work_dir) != 0)
            return RT_FAIL(e, RT_EINTERNAL, "fuzz: cannot clean the work directory %s after a crashed seed",
                           work_dir);
    }
    return RT_OK;
}
