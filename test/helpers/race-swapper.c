/* The attacker of test/volume-race.test.ts: swaps two names atomically with
 * renameat2(RENAME_EXCHANGE) at a chosen moment, so that a checked driver file, or a directory on
 * its path, becomes a symlink leading out of the root (and back).
 *
 *   race-swapper loop    A B              swap in a tight loop until stdin closes
 *   race-swapper delay   A B MICROSECONDS swap once after a delay
 *   race-swapper staging A B DIR          swap once when DIR holds a `.tmp-` entry (staging began)
 *   race-swapper staging-loop A B DIR     from then on, swap in a tight loop
 *   race-swapper open    A B WATCHED      swap once right after WATCHED (or a file in it) is opened
 *
 * It prints "ready" once armed. When stdin closes it puts A and B back as they were (an even
 * number of swaps), prints the number of swaps on stderr and exits 0; any failure exits 1. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static const char *a, *b;
static unsigned long swaps;

static void swap(void) {
  if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0) {
    fprintf(stderr, "renameat2(%s, %s): %s\n", a, b, strerror(errno));
    exit(1);
  }
  swaps++;
}

/* 1 when stdin is closed (the test is done with this run); waits at most timeout_ms. */
static int stdin_closed(int timeout_ms) {
  struct pollfd p = {0, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return 0;
  char buf[64];
  return read(0, buf, sizeof buf) <= 0;
}

static int staging_started(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) return 0;
  int found = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, ".tmp-", 5) == 0) {
      found = 1;
      break;
    }
  }
  closedir(d);
  return found;
}

/* One swap, then a pause of ~10-60 us (timer slack): over ten thousand swaps a second, each state
 * held about half the time, without taking a whole core from the run under attack. */
static void tight_loop(void) {
  struct timespec pause = {0, 10000};
  for (;;) {
    swap();
    if (stdin_closed(0)) return;
    nanosleep(&pause, NULL);
  }
}

static int finish(void) {
  while (!stdin_closed(-1)) {
  }
  if (swaps % 2 == 1) swap();
  fprintf(stderr, "%lu\n", swaps);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: race-swapper MODE A B [ARG]\n");
    return 2;
  }
  const char *mode = argv[1];
  a = argv[2];
  b = argv[3];
  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(mode, "loop") == 0) {
    puts("ready");
    tight_loop();
    if (swaps % 2 == 1) swap();
    fprintf(stderr, "%lu\n", swaps);
    return 0;
  }
  if (argc < 5) return 2;
  if (strcmp(mode, "delay") == 0) {
    puts("ready");
    long us = atol(argv[4]);
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&t, NULL);
    swap();
    return finish();
  }
  if (strcmp(mode, "staging") == 0 || strcmp(mode, "staging-loop") == 0) {
    puts("ready");
    while (!staging_started(argv[4])) {
      if (stdin_closed(0)) return finish();
    }
    if (strcmp(mode, "staging") == 0) {
      swap();
      return finish();
    }
    tight_loop();
    if (swaps % 2 == 1) swap();
    fprintf(stderr, "%lu\n", swaps);
    return 0;
  }
  if (strcmp(mode, "open") == 0) {
    int in = inotify_init1(IN_CLOEXEC);
    if (in < 0 || inotify_add_watch(in, argv[4], IN_OPEN) < 0) {
      fprintf(stderr, "inotify %s: %s\n", argv[4], strerror(errno));
      return 1;
    }
    puts("ready");
    struct pollfd p[2] = {{in, POLLIN, 0}, {0, POLLIN, 0}};
    for (;;) {
      if (poll(p, 2, -1) < 0) return 1;
      if (p[0].revents & POLLIN) {
        swap();
        break;
      }
      if (p[1].revents) {
        char buf[64];
        if (read(0, buf, sizeof buf) <= 0) {
          fprintf(stderr, "0\n");
          return 0;
        }
      }
    }
    return finish();
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
