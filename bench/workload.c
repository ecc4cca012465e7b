/* A CPU-bound guest workload for `npm run bench`: the kinds of loops a
 * decompressor runs (bit-buffer refills, table lookups, LZ77 match copies,
 * checksums) plus a sort. Freestanding: no libc, loaded flat, ends in hlt
 * with the checksum in rax. */
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define N 4096
static u32 data[N];
static u8 src[1 << 16];
static u8 dst[1 << 17];

static u32 rng_state = 12345;
static u32 rng(void) { rng_state ^= rng_state << 13; rng_state ^= rng_state >> 17; rng_state ^= rng_state << 5; return rng_state; }

static void sort(u32 *a, int n) {
  for (int gap = n / 2; gap > 0; gap /= 2)
    for (int i = gap; i < n; i++) {
      u32 t = a[i]; int j = i;
      while (j >= gap && a[j - gap] > t) { a[j] = a[j - gap]; j -= gap; }
      a[j] = t;
    }
}

static u32 adler32(const u8 *p, u64 n) {
  u32 a = 1, b = 0;
  for (u64 i = 0; i < n; i++) { a = (a + p[i]) % 65521; b = (b + a) % 65521; }
  return (b << 16) | a;
}

/* A toy LZ decoder: tokens of literal runs and back-references read from a bit buffer. */
static u64 lz_decode(const u8 *in, u64 inlen, u8 *out, u64 outcap) {
  u64 bitbuf = 0; int bits = 0; u64 ip = 0, op = 0;
  while (op + 300 < outcap) {
    while (bits <= 56) { bitbuf |= (u64)in[ip++ % inlen] << bits; bits += 8; }
    u32 tag = bitbuf & 1; bitbuf >>= 1; bits--;
    if (!tag) {
      u32 len = (bitbuf & 15) + 1; bitbuf >>= 4; bits -= 4;
      for (u32 i = 0; i < len; i++) out[op++] = in[(ip + i) % inlen];
    } else {
      u32 len = (bitbuf & 63) + 3; bitbuf >>= 6; bits -= 6;
      u32 dist = (bitbuf & 1023) + 1; bitbuf >>= 10; bits -= 10;
      if (dist > op) dist = op ? op : 1;
      if (op == 0) { out[op++] = 0; continue; }
      for (u32 i = 0; i < len; i++, op++) out[op] = out[op - dist];
    }
  }
  return op;
}

u64 bench_main(void) {
  u64 sum = 0;
  for (int round = 0; round < 8; round++) {
    for (int i = 0; i < N; i++) data[i] = rng();
    sort(data, N);
    for (int i = 1; i < N; i++) if (data[i - 1] > data[i]) return 0xbad;
    for (u64 i = 0; i < sizeof src; i++) src[i] = rng() >> 7;
    u64 n = lz_decode(src, sizeof src, dst, sizeof dst);
    sum = sum * 31 + adler32(dst, n) + data[round];
  }
  return sum;
}
