/* The floor under `pocket exec C true` for scripts/bench-ops.sh: what any
 * exec into a running container must do, and nothing else. A static
 * binary (no dynamic loader, unlike nsenter) that joins the namespaces of
 * PID, forks, execs ARGV in the child inside them and waits for it; its
 * exit status is the command's (128+N for a signal N). Not the user and
 * time namespaces (`nsenter -a` tries both): pocket's containers here
 * have the host's. Nor the cgroups: pocket's eight v1 joins cost ~0.16 ms
 * (an open and a write each), which this floor leaves to pocket's side.
 *
 *   musl-gcc -static -O2 -o enter-floor enter-floor.c
 *   enter-floor PID /bin/true
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    static const char *ns[] = {"ipc", "uts", "net", "pid", "cgroup", "mnt"};
    int fds[6];
    char path[64];
    if (argc < 3) {
        fprintf(stderr, "usage: enter-floor PID PROGRAM [ARG...]\n");
        return 2;
    }
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "/proc/%s/ns/%s", argv[1], ns[i]);
        fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            perror(path);
            return 1;
        }
    }
    for (int i = 0; i < 6; i++)
        if (setns(fds[i], 0)) {
            perror("setns");
            return 1;
        }
    if (chdir("/"))
        return 1;
    pid_t c = fork();
    if (c == 0) {
        execv(argv[2], argv + 2);
        _exit(127);
    }
    int st;
    if (c < 0 || waitpid(c, &st, 0) != c)
        return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
