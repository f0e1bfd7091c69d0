/* drv_flink_pool: serving runner JVMs kept between the lane's steps
 * (`java -jar runner-R.jar serve`, conformance/README.md "serve").
 *
 * A step's command goes to the serving JVM of its jar as one line (the
 * arguments separated by U+001F) and its answer comes back as one line. A
 * JVM that misses the time bound is killed; one that dies is reaped and its
 * exit named; one that answered anything but `works` is ended by its caller
 * (drv_flink_pool_drop), so that a failed command never shares a JVM with the
 * next. Each command still gets its own MiniCluster, work directory and log
 * (the runner's part); what commands share is the JVM's loaded, compiled
 * classes.
 *
 * Like drv_flink.c this reads a clock (the time bound); nothing here feeds
 * a digest. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drv_internal.h"
#include "rt_fd.h"

extern char **environ;

#define FL_POOL_MAX 8       /* serving JVMs (releases) one process keeps */
#define FL_POOL_USES 64     /* commands per JVM before a fresh one (bounds what a JVM accumulates) */
#define FL_ARG_SEP '\x1f'

typedef struct fl_server {
    char jar[1100];
    char err_log[1200]; /* its stderr (the step that started it) */
    pid_t pid;          /* -1 once reaped */
    int exit_status;    /* its wait status, once reaped */
    int to, from;       /* its stdin, its stdout */
    int uses;
} fl_server;

struct drv_flink_pool {
    fl_server s[FL_POOL_MAX];
    int n;
};

drv_flink_pool *drv_flink_pool_new(void) { return calloc(1, sizeof(drv_flink_pool)); }

double drv_fl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int drv_fl_read(int fd, char *buf, size_t cap, size_t *len, double deadline, int line) {
    for (;;) {
        if (line && memchr(buf, '\n', *len) != NULL) return 0;
        double left = deadline - drv_fl_now();
        if (left <= 0) return -1;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = read(fd, buf + *len, cap - 1 - *len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        *len += (size_t)n;
        if (*len >= cap - 1) return 0; /* a broken runner: stop reading, judge what came */
    }
}

/* Ends server i (kill, reap) and removes it; *status receives its exit. */
static void server_end(drv_flink_pool *p, int i, int *status) {
    assert(i >= 0 && i < p->n);
    fl_server *s = &p->s[i];
    close(s->to);
    close(s->from);
    int st = 0;
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR) {}
    } else {
        st = s->exit_status;
    }
    if (status) *status = st;
    p->s[i] = p->s[--p->n];
}

void drv_flink_pool_drop(drv_flink_pool *p, const char *jar) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->s[i].jar, jar) == 0) {
            server_end(p, i, NULL);
            return;
        }
}

void drv_flink_pool_free(drv_flink_pool *p) {
    if (p == NULL) return;
    while (p->n > 0) server_end(p, p->n - 1, NULL);
    free(p);
}

int drv_fl_spawn(const char *java, const char *const *args, const char *err_log, pid_t *pid, int *to, int *from,
                 char *why, size_t why_cap) {
    int in[2] = {-1, -1}, out[2];
    if (pipe(out) != 0) {
        snprintf(why, why_cap, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    if (to != NULL && pipe(in) != 0) {
        snprintf(why, why_cap, "cannot make a pipe: %s", strerror(errno));
        close(out[0]);
        close(out[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (to != NULL) {
        posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        posix_spawn_file_actions_addclose(&fa, in[1]);
    } else {
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawnp(pid, java, &fa, NULL, (char *const *)args, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (to != NULL) close(in[0]);
    if (rc != 0) {
        close(out[0]);
        if (to != NULL) close(in[1]);
        snprintf(why, why_cap, "cannot start %s: %s", java, strerror(rc));
        return -1;
    }
    /* other JVMs started later must not inherit this one's pipes */
    fcntl(out[0], F_SETFD, FD_CLOEXEC);
    if (to != NULL) {
        fcntl(in[1], F_SETFD, FD_CLOEXEC);
        *to = in[1];
    }
    *from = out[0];
    return 0;
}

static int server_start(drv_flink_pool *p, const char *java, const char *jar, const char *err_log, char *why,
                        size_t why_cap) {
    if (p->n == FL_POOL_MAX) server_end(p, 0, NULL);
    const char *args[] = {java, "-jar", jar, "serve", NULL};
    pid_t pid;
    int to, from;
    if (drv_fl_spawn(java, args, err_log, &pid, &to, &from, why, why_cap) != 0) return -1;
    fl_server *s = &p->s[p->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->jar, sizeof s->jar, "%s", jar);
    snprintf(s->err_log, sizeof s->err_log, "%s", err_log);
    s->pid = pid;
    s->to = to;
    s->from = from;
    return p->n - 1;
}

/* The live server of jar, or -1 (a dead one is reaped first). */
static int server_find(drv_flink_pool *p, const char *jar) {
    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->s[i].jar, jar) != 0) continue;
        if (waitpid(p->s[i].pid, &p->s[i].exit_status, WNOHANG) == 0 && p->s[i].uses < FL_POOL_USES) return i;
        p->s[i].pid = -1;
        server_end(p, i, NULL);
        return -1;
    }
    return -1;
}

/* The command as one line: arguments joined by U+001F, then a newline. */
static int command_line(const char *const *args, char *line, size_t cap, char *why, size_t why_cap) {
    size_t len = 0;
    for (int i = 0; args[i] != NULL; i++) {
        if (strchr(args[i], FL_ARG_SEP) || strchr(args[i], '\n')) {
            snprintf(why, why_cap, "a runner argument holds a newline or U+001F: %.200s", args[i]);
            return -1;
        }
        size_t n = strlen(args[i]);
        if (len + n + 2 > cap) {
            snprintf(why, why_cap, "the runner command is too long");
            return -1;
        }
        if (i > 0) line[len++] = FL_ARG_SEP;
        memcpy(line + len, args[i], n);
        len += n;
    }
    line[len++] = '\n';
    line[len] = '\0';
    return (int)len;
}

/* The command on a fresh JVM of jar: DRV_FL_ANSWER with *i its server (the
 * answer still to be read), DRV_FL_ERROR (none could start) or DRV_FL_DIED
 * (it ended before taking the command; *status its wait status). */
static drv_fl_call send_fresh(drv_flink_pool *p, const char *java, const char *jar, const char *err_log,
                              const char *line, size_t n, int *i, int *status, char *why, size_t why_cap) {
    *i = server_start(p, java, jar, err_log, why, why_cap);
    if (*i < 0) return DRV_FL_ERROR;
    if (rt_fd_write_all(p->s[*i].to, line, n) == 0) return DRV_FL_ANSWER;
    server_end(p, *i, status);
    snprintf(why, why_cap, "the runner JVM ended before its first command (see %s)", err_log);
    return DRV_FL_DIED;
}

drv_fl_call drv_flink_pool_call(drv_flink_pool *p, const char *java, const char *jar, const char *const *args,
                                double deadline, const char *err_log, char *buf, size_t cap, size_t *len,
                                int *status, char *why, size_t why_cap) {
    *len = 0;
    *status = 0;
    char line[16384];
    int n = command_line(args, line, sizeof line, why, why_cap);
    if (n < 0) return DRV_FL_ERROR;
    int i = server_find(p, jar);
    if (i < 0 || rt_fd_write_all(p->s[i].to, line, (size_t)n) != 0) {
        /* none, or it died since its last answer: a fresh one */
        if (i >= 0) server_end(p, i, NULL);
        drv_fl_call c = send_fresh(p, java, jar, err_log, line, (size_t)n, &i, status, why, why_cap);
        if (c != DRV_FL_ANSWER) return c;
    }
    fl_server *s = &p->s[i];
    int r = drv_fl_read(s->from, buf, cap, len, deadline, 1);
    if (r == 0 && *len == 0 && s->uses > 0) {
        /* A JVM that served before and ends without a byte of this answer
         * ended between commands (Launcher.serve ends after a command whose
         * MiniCluster did not close, and can still look alive when this one
         * is sent): the command once more, on a fresh JVM. */
        server_end(p, i, NULL);
        drv_fl_call c = send_fresh(p, java, jar, err_log, line, (size_t)n, &i, status, why, why_cap);
        if (c != DRV_FL_ANSWER) return c;
        s = &p->s[i];
        r = drv_fl_read(s->from, buf, cap, len, deadline, 1);
    }
    s->uses++;
    buf[*len] = '\0';
    if (r != 0) {
        server_end(p, i, status);
        return DRV_FL_TIMEOUT;
    }
    char *nl = memchr(buf, '\n', *len);
    if (nl == NULL) {
        /* end of its output before a whole answer: it died */
        snprintf(why, why_cap, "%s", s->err_log);
        server_end(p, i, status);
        return DRV_FL_DIED;
    }
    *nl = '\0';
    *len = (size_t)(nl - buf);
    return DRV_FL_ANSWER;
}
