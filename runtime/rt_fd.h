/* rt_fd: whole reads and writes on a file descriptor (a pipe between a
 * parent and the child it forked), retried after EINTR and short counts. */
#ifndef RT_FD_H
#define RT_FD_H

#include <stddef.h>

/* Writes all n bytes: 0, or -1 (errno set; 0 bytes written counts as EIO). */
int rt_fd_write_all(int fd, const void *buf, size_t n);
/* Reads up to n bytes, until end of file or an error: the count read. */
size_t rt_fd_read_all(int fd, void *buf, size_t n);

#endif
