/* The attacks tests/seccomp.rs runs inside a container, one per argument.
 * Each prints "NAME: ok" or "NAME: errno N (text)" and exits 0 either way;
 * a call the filter kills ends the process (SIGSYS).
 * Built by the test with `cc -static`. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long r) {
    if (r < 0)
        printf("%s: errno %d (%s)\n", name, errno, strerror(errno));
    else
        printf("%s: ok\n", name);
}

/* A raw clone with these flags; the child exits at once. */
static long raw_clone(unsigned long flags) {
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    if (pid > 0)
        waitpid(pid, 0, 0);
    return pid;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        errno = 0;
        if (!strcmp(a, "clone3")) {
            /* struct clone_args: flags, pidfd, child_tid, parent_tid,
             * exit_signal, ... (64 bytes for CLONE_ARGS_SIZE_VER0) */
            uint64_t args[8] = {0, 0, 0, 0, SIGCHLD, 0, 0, 0};
            long pid = syscall(SYS_clone3, args, 64);
            if (pid == 0)
                _exit(0);
            if (pid > 0)
                waitpid(pid, 0, 0);
            report(a, pid);
        } else if (!strcmp(a, "fork")) {
            report(a, raw_clone(0));
        } else if (!strcmp(a, "clone-newuser")) {
            report(a, raw_clone(CLONE_NEWUSER));
        } else if (!strcmp(a, "keyctl")) {
            /* KEYCTL_GET_KEYRING_ID of the session keyring: no privilege
             * needed, but the keyring is not namespaced. */
            report(a, syscall(SYS_keyctl, 0, -3, 0));
        } else if (!strcmp(a, "add_key")) {
            report(a, syscall(SYS_add_key, "user", "pocket-probe", "x", 1, -2));
        } else if (!strcmp(a, "mount")) {
            /* A bad pointer: the kernel copies the strings before it checks
             * CAP_SYS_ADMIN (EFAULT), the filter answers first (EPERM). */
            report(a, mount((const char *)1, "/", (const char *)1, 0, 0));
        } else if (!strcmp(a, "personality-query")) {
            report(a, personality(0xffffffff));
        } else if (!strcmp(a, "personality-norandom")) {
            report(a, personality(ADDR_NO_RANDOMIZE));
        } else if (!strcmp(a, "socket-vsock")) {
            report(a, socket(40, SOCK_STREAM, 0));
        } else if (!strcmp(a, "socket-alg")) {
            report(a, socket(38, SOCK_SEQPACKET, 0));
        } else if (!strcmp(a, "socket-inet")) {
            report(a, socket(AF_INET, SOCK_STREAM, 0));
        } else if (!strcmp(a, "past-the-table")) {
            /* A number above every syscall the profile names. */
            report(a, syscall(600));
        } else if (!strcmp(a, "int80")) {
            /* getpid through the 32-bit ABI: other numbers, other arch. */
            long r;
            fflush(stdout);
            __asm__ volatile("int $0x80" : "=a"(r) : "a"(20) : "memory");
            printf("int80: returned %ld\n", r);
        } else if (!strcmp(a, "euid")) {
            printf("euid: %d\n", (int)geteuid());
        } else {
            printf("%s: unknown probe\n", a);
            return 2;
        }
        fflush(stdout);
    }
    return 0;
}
