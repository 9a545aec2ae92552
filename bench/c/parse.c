/* The C reference for bench/parse.bench.mjs: read an ld.so.cache once, then parse it many
 * times doing the same work as the wasm core: find the layout and byte order, check the
 * table and extension directory against the size, and for every entry check the name and
 * path offsets and find their NUL (strnlen), summing the lengths. Prints ns per parse. */
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

/* Returns the sum of name and path lengths, or -1 for an invalid cache. */
/* noipa: main() calls parse() with the same arguments; keep gcc from merging the calls. */
__attribute__((noipa)) static long long parse(const uint8_t *b, size_t size, uint32_t *count_out) {
  size_t header = 0, base, table, stride;
  uint32_t count;
  int big = 0, old = 0;
  if (size >= 48 && memcmp(b, "glibc-ld.so.cache1.1", 20) == 0) {
    header = 0;
  } else if (size >= 16 && memcmp(b, "ld.so-1.7.0", 11) == 0) {
    uint32_t n = rd32(b + 12, 0);
    if (16 + 12ull * n > size) { n = rd32(b + 12, 1); big = 1; }
    if (16 + 12ull * n > size) return -1;
    size_t end = 16 + 12ull * n, aligned = (end + 7) & ~(size_t)7;
    if (size > aligned + 48 && memcmp(b + aligned, "glibc-ld.so.cache1.1", 20) == 0) header = aligned;
    else { old = 1; count = n; base = end; table = 16; stride = 12; }
  } else {
    return -1;
  }
  if (!old) {
    uint8_t flags = b[header + 28] & 3;
    if (flags == 1) return -1;
    big = flags == 3;
    count = rd32(b + header + 20, big);
    if (header + 48 + 24ull * count > size) return -1;
    uint32_t ext = rd32(b + header + 32, big);
    if (ext) {
      if ((ext & 3) || ext + 8ull > size || rd32(b + ext, big) != 0xeaa42174u) return -1;
      uint32_t n = rd32(b + ext + 4, big);
      if (ext + 8ull + 16ull * n > size) return -1;
      for (uint32_t i = 0; i < n; i++) {
        const uint8_t *rec = b + ext + 8 + 16ull * i;
        if ((uint64_t)rd32(rec + 8, big) + rd32(rec + 12, big) > size) return -1;
      }
    }
    base = header; table = header + 48; stride = 24;
  }
  long long sum = 0;
  size_t room = size - base;
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t *e = b + table + stride * i;
    uint32_t key = rd32(e + 4, big), value = rd32(e + 8, big);
    if (key >= room || value >= room) return -1;
    size_t kl = strnlen((const char *)b + base + key, room - key);
    size_t vl = strnlen((const char *)b + base + value, room - value);
    if (kl == room - key || vl == room - value) return -1;
    sum += kl + vl;
  }
  *count_out = count;
  return sum;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: parse FILE [MIN_MS]\n"); return 2; }
  double min_ns = (argc > 2 ? atof(argv[2]) : 1000) * 1e6;
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
  uint32_t count = 0;
  long long sum = parse(bytes, got, &count);
  if (sum < 0) { fprintf(stderr, "%s: not a valid cache\n", argv[1]); return 1; }
  long long iterations = 0, check = 0;
  double start = now_ns(), elapsed;
  do {
    for (int i = 0; i < 8; i++) check += parse(bytes, got, &count);
    iterations += 8;
    elapsed = now_ns() - start;
  } while (elapsed < min_ns);
  printf("{\"nsPerParse\": %.0f, \"iterations\": %lld, \"entries\": %u, \"lengthSum\": %lld, \"check\": %lld}\n",
         elapsed / iterations, iterations, count, sum, check);
  return 0;
}
