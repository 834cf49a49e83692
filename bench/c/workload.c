/*
 * The compiled-C CPU benchmark (tsxen's own, MIT): integer, memory and x87 work of the kind
 * compiled code does, with no OS underneath. Built twice by bench/c-program.ts: freestanding for
 * tsxen's bare flat 32-bit machine (results to the debug port 0xE9, exit through port 0xF4),
 * and hosted for a native run. Both print the same checksum, so the benchmark is also a check.
 */
typedef unsigned int u32;
typedef unsigned char u8;

static u32 seed = 12345;
static u32 lcg(void) { seed = seed * 1103515245u + 12345u; return seed >> 8; }

#define SIEVE_N 400000
static u8 composite[SIEVE_N];
static u32 sieve(void) {
  u32 count = 0;
  for (u32 i = 2; i < SIEVE_N; i++) {
    if (composite[i]) continue;
    count++;
    for (u32 j = i * 2; j < SIEVE_N; j += i) composite[j] = 1;
  }
  return count;
}

#define BUF 262144
static u8 buf[BUF];
static u32 crc_table[256];
static u32 crc32(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  for (u32 i = 0; i < BUF; i++) buf[i] = (u8)lcg();
  u32 crc = 0xffffffffu;
  for (int rep = 0; rep < 4; rep++)
    for (u32 i = 0; i < BUF; i++) crc = crc_table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

#define NSORT 30000
static int a[NSORT];
static void quicksort(int *v, int lo, int hi) {
  while (lo < hi) {
    int p = v[(lo + hi) / 2], i = lo, j = hi;
    while (i <= j) {
      while (v[i] < p) i++;
      while (v[j] > p) j--;
      if (i <= j) { int t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; } else { quicksort(v, i, hi); hi = j; }
  }
}
static u32 sort(void) {
  for (int i = 0; i < NSORT; i++) a[i] = (int)(lcg() % 1000000) - 500000;
  quicksort(a, 0, NSORT - 1);
  u32 h = 0;
  for (int i = 0; i < NSORT; i++) h = h * 31 + (u32)a[i];
  for (int i = 1; i < NSORT; i++) if (a[i - 1] > a[i]) return 0;
  return h;
}

#define MN 40
static double ma[MN][MN], mb[MN][MN], mc[MN][MN];
static u32 matmul(void) {
  for (int i = 0; i < MN; i++)
    for (int j = 0; j < MN; j++) { ma[i][j] = (double)(lcg() % 1000) / 7.0; mb[i][j] = (double)(lcg() % 1000) / 13.0; }
  for (int r = 0; r < 3; r++)
    for (int i = 0; i < MN; i++)
      for (int j = 0; j < MN; j++) {
        double s = 0;
        for (int k = 0; k < MN; k++) s += ma[i][k] * mb[k][j];
        mc[i][j] = s;
      }
  double t = 0;
  for (int i = 0; i < MN; i++) t += mc[i][i];
  return (u32)(long long)t;
}

static u32 memwork(void) {
  static u8 x[65536], y[65536];
  u32 h = 0;
  for (int r = 0; r < 64; r++) {
    __builtin_memset(x, r, sizeof x);
    __builtin_memcpy(y, x, sizeof x);
    h += y[r * 997 % 65536];
  }
  return h;
}

static u32 workload_once(void) {
  u32 h = sieve();
  h = h * 33 + crc32();
  h = h * 33 + sort();
  h = h * 33 + matmul();
  h = h * 33 + memwork();
  return h;
}

/** The measured work: the whole set, ROUNDS times (each round starts from the same state). */
#ifndef ROUNDS
#define ROUNDS 8
#endif
u32 workload(void) {
  u32 h = 0;
  for (int r = 0; r < ROUNDS; r++) {
    seed = 12345;
    __builtin_memset(composite, 0, sizeof composite);
    h = h * 7 + workload_once();
  }
  return h;
}

#ifdef FREESTANDING
static void outb(unsigned short port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }
void _start(void) {
  u32 h = workload();
  for (int k = 28; k >= 0; k -= 4) outb(0xe9, "0123456789abcdef"[(h >> k) & 15]);
  outb(0xe9, '\n');
  outb(0xf4, 0);
  for (;;) __asm__ volatile("hlt");
}
#else
#include <stdio.h>
#include <time.h>
int main(void) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  u32 h = workload();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%08x %.6f\n", h, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
#endif
