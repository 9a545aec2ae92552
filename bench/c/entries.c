/* C reference for bench/entries.bench.mjs: the same validation as parse.c, then a loop over the
 * entries reading every field (flags, name and path via strnlen, osversion, hwcap) the way the
 * JS iterator exposes them. Any layout: new, compat (the new table after the old one, which is
 * what ldconfig -p prints) and old, either byte order. Prints ns per pass (parse + loop) as JSON. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint32_t rd32(const uint8_t *p, int big) {
  uint32_t v;
  memcpy(&v, p, 4);
  return big ? __builtin_bswap32(v) : v;
}
static uint64_t rd64(const uint8_t *p, int big) {
  uint64_t v;
  memcpy(&v, p, 8);
  return big ? __builtin_bswap64(v) : v;
}

/* Both strings' lengths (strnlen, as the readers NUL-scan them), or -1 when one starts out of
 * range or runs to the end without a NUL. */
static inline long long string_lengths(const uint8_t *b, size_t size, uint64_t key, uint64_t value) {
  if (key >= size || value >= size) return -1;
  size_t kl = strnlen((const char *)b + key, size - key);
  size_t vl = strnlen((const char *)b + value, size - value);
  if (kl == size - key || vl == size - value) return -1;
  return (long long)(kl + vl);
}

/* The new-format table at file offset `at` (0, or after a compat file's old table): its string
 * offsets count from there, its extension offset from the file start. Returns a checksum of every
 * field, or -1. */
static long long new_pass(const uint8_t *file, size_t fileSize, size_t at, int fields) {
  const uint8_t *b = file + at;
  size_t size = fileSize - at;
  if (size < 48 || memcmp(b, "glibc-ld.so.cache1.1", 20) != 0) return -1;
  uint8_t flagsByte = b[28] & 3;
  if (flagsByte == 1) return -1;
  int big = flagsByte == 3;
  uint32_t count = rd32(b + 20, big);
  if (48 + 24ull * count > size) return -1;
  uint32_t ext = rd32(b + 32, big);
  if (ext) {
    if ((ext & 3) || ext + 8ull > fileSize || rd32(file + ext, big) != 0xeaa42174u) return -1;
    uint32_t n = rd32(file + ext + 4, big);
    if (ext + 8ull + 16ull * n > fileSize) return -1;
    for (uint32_t i = 0; i < n; i++) {
      const uint8_t *rec = file + ext + 8 + 16ull * i;
      if ((uint64_t)rd32(rec + 8, big) + rd32(rec + 12, big) > fileSize) return -1;
    }
  }
  long long sum = 0;
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t *e = b + 48 + 24ull * i;
    long long lengths = string_lengths(b, size, rd32(e + 4, big), rd32(e + 8, big));
    if (lengths < 0) return -1;
    sum += lengths;
    if (fields) {
      int32_t flags = (int32_t)rd32(e, big);
      uint32_t os = rd32(e + 12, big);
      uint64_t hwcap = rd64(e + 16, big);
      /* arch and bits come from flags & 0xff00 through a table, as in the JS. */
      sum += (flags & 0xff) + ((flags >> 8) & 0xff) + os + (hwcap != 0);
    }
  }
  return sum;
}

/* An old-format file: 12-byte entries (flags, key, value), strings counted from the table's end,
 * no osversion or hwcap. A compat file goes on to its new table. The old format has no byte-order
 * mark: `big` says which the file is. noipa: pass() has no side effects and main() calls it with
 * the same arguments, so without it gcc -O2 computes it once per batch of 8 and the reference
 * measures an eighth of the work. */
__attribute__((noipa)) static long long pass(const uint8_t *b, size_t size, int fields, int big) {
  if (size >= 20 && memcmp(b, "glibc-ld.so.cache1.1", 20) == 0) return new_pass(b, size, 0, fields);
  if (size < 16 || memcmp(b, "ld.so-1.7.0", 11) != 0) return -1;
  uint32_t count = rd32(b + 12, big);
  uint64_t strings = 16 + 12ull * count;
  if (strings > size) return -1;
  uint64_t next = (strings + 7) & ~7ull;
  if (next + 20 <= size && memcmp(b + next, "glibc-ld.so.cache1.1", 20) == 0) return new_pass(b, size, next, fields);
  long long sum = 0;
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t *e = b + 16 + 12ull * i;
    long long lengths = string_lengths(b, size, strings + rd32(e + 4, big), strings + rd32(e + 8, big));
    if (lengths < 0) return -1;
    sum += lengths;
    if (fields) {
      int32_t flags = (int32_t)rd32(e, big);
      sum += (flags & 0xff) + ((flags >> 8) & 0xff);
    }
  }
  return sum;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: entries FILE names|fields [MIN_MS [big]]\n"); return 2; }
  int fields = strcmp(argv[2], "fields") == 0;
  double min_ns = (argc > 3 ? atof(argv[3]) : 1000) * 1e6;
  int big = argc > 4 && strcmp(argv[4], "big") == 0;
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) { perror(argv[1]); return 1; }
  uint8_t *bytes = malloc(st.st_size + 1);
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, bytes + got, st.st_size - got);
    if (n <= 0) { perror("read"); return 1; }
    got += n;
  }
  long long sum = pass(bytes, got, fields, big);
  if (sum < 0) { fprintf(stderr, "%s: not a cache file\n", argv[1]); return 1; }
  long long iterations = 0, check = 0;
  double start = now_ns(), elapsed;
  do {
    for (int i = 0; i < 8; i++) check += pass(bytes, got, fields, big);
    iterations += 8;
    elapsed = now_ns() - start;
  } while (elapsed < min_ns);
  printf("{\"nsPerPass\": %.0f, \"iterations\": %lld, \"sum\": %lld, \"check\": %lld}\n", elapsed / iterations, iterations, sum, check);
  return 0;
}
