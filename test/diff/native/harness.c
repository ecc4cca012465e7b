/*
 * bootpath differential-test harness: runs single x86-64 instructions
 * natively on the host CPU and records the resulting architectural state.
 *
 * Built by test/diff/native.ts with the machine's gcc at test time; never
 * shipped as a binary.  Usage:  harness <cases.bin> <results.bin>
 *
 * Each case (struct case_in, layout mirrored in test/diff/layout.ts) gives
 * the instruction bytes, all 16 GPRs, RFLAGS, XMM0-15, a seed for the data
 * and stack windows, up to four byte patches into those windows and up to
 * two exit addresses (fall-through, branch target).  The instruction runs
 * at CODE_ENTRY inside a 64 KiB page of int3 bytes.
 *
 * Fast path: guest_enter (below, in assembly) loads XMM (fxrstor), RFLAGS
 * (popfq) and all 16 GPRs and jumps to the instruction; each exit address
 * holds `jmp *[rip+0]` to a stub that stores every GPR, switches to a
 * private stack, records RFLAGS (pushfq) and XMM (fxsave) and returns to
 * the host.  Slow path, for anything else: an int3 (a branch target with no
 * stub) or a fault (SIGFPE #DE, SIGILL #UD, SIGSEGV #GP/#PF, SIGBUS) lands
 * in a signal handler on an alternate stack, which records the state from
 * the ucontext, the vector from REG_TRAPNO, and siglongjmps back.  The
 * guest RSP may therefore hold any value.
 *
 * Also per case: FS/GS bases (arch_prctl, see restore_segs), 32-bit
 * compatibility mode (guest_enter32: a far jump into selector 0x23, exits
 * by far jumps back through trampolines at CODE_BASE), and the scratch
 * check of every byte of the data and stack areas (scratch_check).
 * `harness --features` prints the CPUID features the forms need.
 *
 * Built with -m32 (i386), it runs 32-bit cases only, in 32-bit protected
 * mode: the oracle for the 32-bit forms where the host refuses 32-bit code
 * and qemu-i386 runs this build instead (test/diff/native.ts).  There the
 * guest is entered and left by plain jumps, the output has EAX..EDI (the
 * R8-R15 and XMM8-15 slots are left 0 for native.ts to fill), and a fault's
 * vector comes from the signal and si_code when the frame has no trap
 * number (QEMU's has -1).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <fcntl.h>
#include <unistd.h>

#define CODE_BASE 0x100000UL
#define CODE_SIZE 0x10000UL
#define CODE_ENTRY (CODE_BASE + 0x8000UL)
#define DATA_BASE 0x200000UL
#define DATA_SIZE 0x10000UL
#define DATA_WIN (DATA_BASE + 0x8000UL)
/* 128 KiB around the stack window: AMD's ENTER probes the new stack top. */
#define STACK_BASE 0x2f0000UL
#define STACK_SIZE 0x20000UL
#define STACK_WIN 0x308000UL
#define WIN_SIZE 256
/* Bytes of code per case (test/diff/seq.ts builds with -DCODE_MAX=1024 for multi-instruction loops). */
#ifndef CODE_MAX
#define CODE_MAX 16
#endif

struct patch {
  uint32_t addr, len;
  uint8_t bytes[16];
};

struct case_in {             /* 536 + CODE_MAX bytes (offsets below for CODE_MAX 16) */
  uint8_t code[CODE_MAX];    /* 0 */
  uint32_t code_len;         /* 16 */
  uint32_t mem_seed;         /* 20 */
  uint64_t gpr[16];          /* 24: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 */
  uint64_t rflags;           /* 152 */
  uint8_t xmm[16][16];       /* 160 */
  struct patch patch[4];     /* 416 */
  uint64_t exit[2];          /* 512: expected exit addresses, 0 = none */
  uint64_t fs_base, gs_base; /* 528: segment bases for the case (arch_prctl) */
  uint64_t flags;            /* 544: 1 = set fs_base and gs_base for this case, 2 = 32-bit compatibility mode */
};

/* case_out.vector while the case runs (native.ts: an emulator that died on it). */
#define CASE_RUNNING (-3)

struct case_out {            /* 944 bytes */
  int32_t vector;            /* 0: -1 = completed, else exception vector */
  int32_t signo;             /* 4 */
  uint64_t gpr[16];          /* 8 */
  uint64_t rip;              /* 136 */
  uint64_t rflags;           /* 144 */
  uint8_t xmm[16][16];       /* 152 */
  uint8_t data[WIN_SIZE];    /* 408 */
  uint8_t stack[WIN_SIZE];   /* 664 */
  /* 920: scratch bytes outside the windows that differ from the background (test/diff/scratch.ts) */
  uint32_t scratch_count, scratch_first, scratch_last, scratch_hash_a, scratch_hash_b, pad;
};

_Static_assert(sizeof(struct case_in) == 536 + CODE_MAX, "case_in layout");
_Static_assert(sizeof(struct case_out) == 944, "case_out layout");

#if defined(__x86_64__)
#define NGPR 16
#define NXMM 16
static const int greg_index[NGPR] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};
#define REG_PC REG_RIP
#elif defined(__i386__)
#define NGPR 8
#define NXMM 8
static const int greg_index[NGPR] = {
    REG_EAX, REG_ECX, REG_EDX, REG_EBX, REG_UESP, REG_EBP, REG_ESI, REG_EDI,
};
#define REG_PC REG_EIP
#else
#error "x86-64 or i386 only"
#endif

/* Fast-path state shared with the assembly below. */
uint64_t g_in_gpr[16], g_in_flags, g_entry = CODE_ENTRY, g_host_rsp;
uint32_t g_in_gpr32[8], g_out_gpr32[8], g_in_flags32, g_exit_idx32; /* the i386 build's */
uint64_t g_out_gpr[16], g_out_flags, g_exit_idx;
uint8_t g_in_fx[512] __attribute__((aligned(64)));
uint8_t g_out_fx[512] __attribute__((aligned(64)));
uint8_t g_scratch[4096] __attribute__((aligned(64)));
void guest_enter(void);
void guest_enter32(void);
/* Far pointer (m16:32) to the case's code in the 32-bit user code segment. */
struct __attribute__((packed)) { uint32_t off; uint16_t sel; } g_far32 = {CODE_ENTRY, 0x23};
void guest_exit0(void);
void guest_exit1(void);

#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl guest_enter\n"
    "guest_enter:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  mov %rsp, g_host_rsp(%rip)\n"
    "  fxrstor64 g_in_fx(%rip)\n"
    "  pushq g_in_flags(%rip)\n"
    "  popfq\n"                       /* no flag-writing instruction after this */
    "  lea g_in_gpr(%rip), %r15\n"
    "  mov 0(%r15), %rax\n  mov 8(%r15), %rcx\n  mov 16(%r15), %rdx\n  mov 24(%r15), %rbx\n"
    "  mov 40(%r15), %rbp\n  mov 48(%r15), %rsi\n  mov 56(%r15), %rdi\n  mov 64(%r15), %r8\n"
    "  mov 72(%r15), %r9\n  mov 80(%r15), %r10\n  mov 88(%r15), %r11\n  mov 96(%r15), %r12\n"
    "  mov 104(%r15), %r13\n  mov 112(%r15), %r14\n  mov 32(%r15), %rsp\n  mov 120(%r15), %r15\n"
    "  jmp *g_entry(%rip)\n"
    /* The same, ending in a far jump into compatibility mode (selector 0x23: Linux's __USER32_CS). */
    ".globl guest_enter32\n"
    "guest_enter32:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  mov %rsp, g_host_rsp(%rip)\n"
    /* A 64-bit process runs with DS = ES = 0, which compatibility mode cannot address through (#GP):
       load Linux's __USER_DS (0x2b, the flat data segment SS already holds) first. */
    "  mov $0x2b, %eax\n  mov %eax, %ds\n  mov %eax, %es\n"
    "  fxrstor64 g_in_fx(%rip)\n"
    "  pushq g_in_flags(%rip)\n"
    "  popfq\n"
    "  lea g_in_gpr(%rip), %r15\n"
    "  mov 0(%r15), %rax\n  mov 8(%r15), %rcx\n  mov 16(%r15), %rdx\n  mov 24(%r15), %rbx\n"
    "  mov 40(%r15), %rbp\n  mov 48(%r15), %rsi\n  mov 56(%r15), %rdi\n  mov 64(%r15), %r8\n"
    "  mov 72(%r15), %r9\n  mov 80(%r15), %r10\n  mov 88(%r15), %r11\n  mov 96(%r15), %r12\n"
    "  mov 104(%r15), %r13\n  mov 112(%r15), %r14\n  mov 32(%r15), %rsp\n  mov 120(%r15), %r15\n"
    "  ljmpl *g_far32(%rip)\n"
    ".globl guest_exit0\n"
    "guest_exit0:\n"
    "  movq $0, g_exit_idx(%rip)\n"
    "  jmp guest_exit\n"
    ".globl guest_exit1\n"
    "guest_exit1:\n"
    "  movq $1, g_exit_idx(%rip)\n"
    "guest_exit:\n"
    "  mov %rax, g_out_gpr+0(%rip)\n  mov %rcx, g_out_gpr+8(%rip)\n  mov %rdx, g_out_gpr+16(%rip)\n"
    "  mov %rbx, g_out_gpr+24(%rip)\n  mov %rsp, g_out_gpr+32(%rip)\n  mov %rbp, g_out_gpr+40(%rip)\n"
    "  mov %rsi, g_out_gpr+48(%rip)\n  mov %rdi, g_out_gpr+56(%rip)\n  mov %r8, g_out_gpr+64(%rip)\n"
    "  mov %r9, g_out_gpr+72(%rip)\n  mov %r10, g_out_gpr+80(%rip)\n  mov %r11, g_out_gpr+88(%rip)\n"
    "  mov %r12, g_out_gpr+96(%rip)\n  mov %r13, g_out_gpr+104(%rip)\n  mov %r14, g_out_gpr+112(%rip)\n"
    "  mov %r15, g_out_gpr+120(%rip)\n"
    "  lea g_scratch+4032(%rip), %rsp\n"
    "  pushfq\n  pop %rax\n  mov %rax, g_out_flags(%rip)\n"
    "  fxsave64 g_out_fx(%rip)\n"
    "  cld\n"
    "  mov g_host_rsp(%rip), %rsp\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
    "  ret\n");
#else
/* i386: the same in 32-bit protected mode (no mode switch); exit stubs are jmp rel32 to guest_exit0/1. */
__asm__(
    ".text\n"
    ".globl guest_enter32\n"
    "guest_enter32:\n"
    "  push %ebx\n  push %ebp\n  push %esi\n  push %edi\n"
    "  mov %esp, g_host_rsp\n"
    "  fxrstor g_in_fx\n"
    "  pushl g_in_flags32\n"
    "  popfl\n"
    "  mov g_in_gpr32+0, %eax\n  mov g_in_gpr32+4, %ecx\n  mov g_in_gpr32+8, %edx\n  mov g_in_gpr32+12, %ebx\n"
    "  mov g_in_gpr32+20, %ebp\n  mov g_in_gpr32+24, %esi\n  mov g_in_gpr32+28, %edi\n  mov g_in_gpr32+16, %esp\n"
    "  jmp *g_entry\n"
    ".globl guest_exit0\n"
    "guest_exit0:\n"
    "  movl $0, g_exit_idx32\n"
    "  jmp guest_exit\n"
    ".globl guest_exit1\n"
    "guest_exit1:\n"
    "  movl $1, g_exit_idx32\n"
    "guest_exit:\n"
    "  mov %eax, g_out_gpr32+0\n  mov %ecx, g_out_gpr32+4\n  mov %edx, g_out_gpr32+8\n  mov %ebx, g_out_gpr32+12\n"
    "  mov %esp, g_out_gpr32+16\n  mov %ebp, g_out_gpr32+20\n  mov %esi, g_out_gpr32+24\n  mov %edi, g_out_gpr32+28\n"
    "  lea g_scratch+4032, %esp\n"
    "  pushfl\n  pop %eax\n  mov %eax, g_out_flags\n"
    "  fxsave g_out_fx\n"
    "  cld\n"
    "  mov g_host_rsp, %esp\n"
    "  pop %edi\n  pop %esi\n  pop %ebp\n  pop %ebx\n"
    "  ret\n");
#endif

/*
 * FS/GS bases per case. glibc keeps TLS (errno, the stack guard, the
 * pointer guard setjmp mangles with) at FS, so the guest's FS base is set
 * only between sigsetjmp and the guest, by raw syscalls, and the host's is
 * put back before any C library code runs: right after the guest returns,
 * and first thing in the signal handler (built -fno-stack-protector).
 */
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
static uint64_t host_fs;
static volatile int seg_set;

#if defined(__x86_64__)
static inline long raw_arch_prctl(long code, uint64_t addr) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(158L), "D"(code), "S"(addr) : "rcx", "r11", "memory");
  return ret;
}
#else
/* No FS/GS-base cases in 32-bit code (forms32.ts leaves them out); main refuses them. */
static inline long raw_arch_prctl(long code, uint64_t addr) { (void)code; (void)addr; return -1; }
#endif

static inline void restore_segs(void) {
  if (!seg_set) return;
  raw_arch_prctl(ARCH_SET_FS, host_fs);
  raw_arch_prctl(ARCH_SET_GS, 0);
  seg_set = 0;
}

static sigjmp_buf host_env;
static volatile int phase; /* 0 host, 2 guest running */
static const struct case_in *cur_in;
static struct case_out *cur_out;

/* Same xorshift32 fill as layout.ts fillWindows(). */
static void fill_windows(uint32_t seed) {
  uint32_t s = seed ? seed : 0x9e3779b9u;
  uint8_t *wins[2] = {(uint8_t *)DATA_WIN, (uint8_t *)STACK_WIN};
  for (int w = 0; w < 2; w++) {
    for (int i = 0; i < WIN_SIZE; i += 4) {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      memcpy(wins[w] + i, &s, 4);
    }
  }
}

/*
 * The scratch area outside the windows: a fixed background (same xorshift32
 * stream as test/diff/scratch.ts) every case starts from; after a case every
 * byte of it is compared with the background, summarised (count, first,
 * last, two hashes over address and value) and put back.
 */
#define BACKGROUND_SEED 0x6a09e667u
static uint8_t bg_data[DATA_SIZE], bg_stack[STACK_SIZE];

static void scratch_fill(void) {
  uint32_t s = BACKGROUND_SEED;
  uint8_t *bufs[2] = {bg_data, bg_stack};
  size_t sizes[2] = {DATA_SIZE, STACK_SIZE};
  for (int w = 0; w < 2; w++) {
    for (size_t i = 0; i < sizes[w]; i += 4) {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      memcpy(bufs[w] + i, &s, 4);
    }
  }
  memcpy((void *)DATA_BASE, bg_data, DATA_SIZE);
  memcpy((void *)STACK_BASE, bg_stack, STACK_SIZE);
}

/*
 * Whether two spans are equal. Under QEMU glibc's SSE memcmp is slow (TCG
 * runs SSE through helpers): a plain word loop makes the i386 build about
 * three times faster per case.
 */
static int same(const uint8_t *a, const uint8_t *b, size_t len) {
#if defined(__i386__)
  const uint32_t *x = (const uint32_t *)a, *y = (const uint32_t *)b;
  size_t n = len / 4, i = 0;
  uint32_t acc = 0;
  for (; i + 8 <= n; i += 8)
    acc |= (x[i] ^ y[i]) | (x[i + 1] ^ y[i + 1]) | (x[i + 2] ^ y[i + 2]) | (x[i + 3] ^ y[i + 3]) |
           (x[i + 4] ^ y[i + 4]) | (x[i + 5] ^ y[i + 5]) | (x[i + 6] ^ y[i + 6]) | (x[i + 7] ^ y[i + 7]);
  for (; i < n; i++) acc |= x[i] ^ y[i];
  return acc == 0 && memcmp(a + 4 * n, b + 4 * n, len % 4) == 0;
#else
  return memcmp(a, b, len) == 0;
#endif
}

static void scratch_check(struct case_out *o) {
  const uint64_t spans[4][2] = {
      {DATA_BASE, DATA_WIN}, {DATA_WIN + WIN_SIZE, DATA_BASE + DATA_SIZE},
      {STACK_BASE, STACK_WIN}, {STACK_WIN + WIN_SIZE, STACK_BASE + STACK_SIZE},
  };
  uint32_t count = 0, first = 0, last = 0, ha = 0x811c9dc5u, hb = 0x9747b28cu;
  for (int k = 0; k < 4; k++) {
    uint64_t start = spans[k][0], end = spans[k][1];
    uint8_t *mem = (uint8_t *)(uintptr_t)start;
    const uint8_t *bg = start >= STACK_BASE ? bg_stack + (start - STACK_BASE) : bg_data + (start - DATA_BASE);
    if (same(mem, bg, end - start)) continue;
    for (uint64_t a = start; a < end; a++) {
      uint8_t v = mem[a - start], w = bg[a - start];
      if (v == w) continue;
      if (count == 0) first = (uint32_t)a;
      last = (uint32_t)a;
      count++;
      ha = (ha ^ (uint32_t)a) * 0x01000193u;
      ha = (ha ^ v) * 0x01000193u;
      hb = (hb ^ ((uint32_t)a ^ ((uint32_t)v << 24))) * 0x85ebca6bu;
      hb ^= hb >> 13;
      mem[a - start] = w;
    }
  }
  o->scratch_count = count;
  o->scratch_first = first;
  o->scratch_last = last;
  o->scratch_hash_a = ha;
  o->scratch_hash_b = hb;
  o->pad = 0;
}

static int in_window(uint64_t a, uint32_t len) {
  return (a >= DATA_WIN && a + len <= DATA_WIN + WIN_SIZE) ||
         (a >= STACK_WIN && a + len <= STACK_WIN + WIN_SIZE);
}

/* A fault's vector from the signal, for frames without a trap number (QEMU user mode's say -1). */
static int vector_of(int sig, int code) {
  switch (sig) {
  case SIGFPE: return 0;                        /* #DE (the forms raise no x87/SIMD exception) */
  case SIGILL: return 6;                        /* #UD */
  case SIGBUS: return 12;                       /* #SS (or #NP: neither occurs with flat segments) */
  case SIGSEGV: return code == SI_KERNEL ? 13 : 14; /* #GP; #PF reports SEGV_MAPERR / SEGV_ACCERR */
  case SIGTRAP: return code == SI_KERNEL ? 3 : 1; /* int3 (SI_KERNEL), else #DB */
  default: return 255;
  }
}

static void handler(int sig, siginfo_t *si, void *ucv) {
  restore_segs();
  /* The ABI has DF clear in a handler; QEMU user mode (7.2) leaves the guest's. */
  __asm__ volatile("cld");
  ucontext_t *uc = ucv;
  greg_t *g = uc->uc_mcontext.gregs;
  struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
  if (phase != 2) {
    static const char msg[] = "harness: unexpected signal in host code\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(3);
  }
  struct case_out *o = cur_out;
  int trapno = (int)g[REG_TRAPNO];
  if (trapno < 0) trapno = vector_of(sig, si->si_code);
  o->signo = sig;
  o->rip = (uint64_t)(unsigned long)g[REG_PC];
  if (sig == SIGTRAP && trapno == 3) {
    o->vector = -1;
    o->rip -= 1; /* int3 reports the address after itself */
  } else {
    o->vector = trapno;
  }
  for (int i = 0; i < NGPR; i++) o->gpr[i] = (uint64_t)(unsigned long)g[greg_index[i]];
  o->rflags = (uint32_t)g[REG_EFL];
#if defined(__x86_64__)
  memcpy(o->xmm, fp->_xmm, sizeof o->xmm);
#else
  /* i386 frame: the fsave image (112 bytes), status, magic (0: an fxsave image follows at +112). */
  if (!fp || ((const uint16_t *)fp)[55] != 0) {
    static const char msg[] = "harness: signal frame without the fxsave image\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(3);
  }
  memcpy(o->xmm, (const uint8_t *)fp + 112 + 160, 16 * NXMM);
#endif
  phase = 0;
  siglongjmp(host_env, 1);
}

static void *map_fixed(uint64_t addr, uint64_t size, int prot) {
  void *want = (void *)(uintptr_t)addr;
  void *p = mmap(want, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != want) {
    fprintf(stderr, "harness: cannot map %#lx (mmap_min_addr or a clash)\n", (unsigned long)addr);
    exit(2);
  }
  return p;
}

/* `harness --features`: the CPUID feature bits the forms need, as names (test/diff/native.ts). */
static int print_features(void) {
  unsigned a, b, c, d;
  __cpuid_count(1, 0, a, b, c, d);
  if (c & (1u << 22)) printf("movbe ");
  if (c & (1u << 23)) printf("popcnt ");
  __cpuid_count(7, 0, a, b, c, d);
  if (b & (1u << 3)) printf("bmi1 ");
  if (b & (1u << 8)) printf("bmi2 ");
  if (b & (1u << 19)) printf("adx ");
  __cpuid_count(0x80000001, 0, a, b, c, d);
  if (c & (1u << 5)) printf("lzcnt ");
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--features") == 0) return print_features();
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s cases.bin results.bin [first case]\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 2; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size < 0 || size % (long)sizeof(struct case_in)) {
    fprintf(stderr, "harness: bad input size\n");
    return 2;
  }
  size_t n = (size_t)size / sizeof(struct case_in);
  /* Results for cases first..n-1 only (native.ts goes on after a case an emulator died on). */
  size_t first = argc == 4 ? strtoul(argv[3], NULL, 10) : 0;
  if (first > n) first = n;
  size_t isize = (n - first) * sizeof(struct case_in);
  struct case_in *in = malloc(isize ? isize : 1);
  if (!in || fseek(f, (long)(first * sizeof(struct case_in)), SEEK_SET) || fread(in, 1, isize, f) != isize) {
    fprintf(stderr, "harness: read failed\n");
    return 2;
  }
  fclose(f);
  /*
   * Results go straight into the output file, shared-mapped, each case marked
   * CASE_RUNNING first: if an emulator running this harness dies on a case,
   * what was done survives and native.ts sees which case it was.
   */
  int ofd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
  size_t osize = (n > first ? n - first : 1) * sizeof(struct case_out);
  struct case_out *out = ofd < 0 || ftruncate(ofd, (off_t)osize) ? MAP_FAILED
      : mmap(NULL, osize, PROT_READ | PROT_WRITE, MAP_SHARED, ofd, 0);
  if (out == MAP_FAILED) {
    perror(argv[2]);
    return 2;
  }

#if defined(__x86_64__)
  if (raw_arch_prctl(ARCH_GET_FS, (uint64_t)(uintptr_t)&host_fs)) { fprintf(stderr, "harness: arch_prctl(ARCH_GET_FS) failed\n"); return 2; }
#endif
  uint8_t *code = map_fixed(CODE_BASE, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
  uint8_t *data = map_fixed(DATA_BASE, DATA_SIZE, PROT_READ | PROT_WRITE);
  uint8_t *stack = map_fixed(STACK_BASE, STACK_SIZE, PROT_READ | PROT_WRITE);
  memset(code, 0xcc, CODE_SIZE);
#if defined(__x86_64__)
  /* Trampolines at CODE_BASE and CODE_BASE + 16 (64-bit code below 4 GiB): jmp *[rip+0] to guest_exit0/1. */
  for (int e = 0; e < 2; e++) {
    static const uint8_t jmp_ind[6] = {0xff, 0x25, 0, 0, 0, 0};
    uint64_t target = (uint64_t)(uintptr_t)(e ? guest_exit1 : guest_exit0);
    memcpy(code + 16 * e, jmp_ind, 6);
    memcpy(code + 16 * e + 6, &target, 8);
  }
#endif
  (void)data;
  (void)stack;
  scratch_fill();
#if defined(__x86_64__)
  __asm__ volatile("fxsave64 %0" : "=m"(g_in_fx));
#else
  __asm__ volatile("fxsave %0" : "=m"(g_in_fx));
#endif
  memcpy(g_in_fx + 24, &(uint32_t){0x1f80}, 4); /* MXCSR: defaults, all exceptions masked */

  static uint8_t altstack[1 << 16];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL)) { perror("sigaltstack"); return 2; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER; /* NODEFER: no mask to restore on siglongjmp */
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGTRAP, SIGSEGV, SIGBUS, SIGILL, SIGFPE};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL)) { perror("sigaction"); return 2; }

  for (size_t k = first; k < n; k++) {
    const struct case_in *c = &in[k - first];
    out[k - first].vector = CASE_RUNNING;
    if (c->code_len == 0 || c->code_len > (CODE_MAX == 16 ? 15 : CODE_MAX)) {
      fprintf(stderr, "harness: case %zu: bad code length\n", k);
      return 2;
    }
    fill_windows(c->mem_seed);
    for (int p = 0; p < 4; p++) {
      const struct patch *pt = &c->patch[p];
      if (!pt->len) continue;
      if (pt->len > 16 || !in_window(pt->addr, pt->len)) {
        fprintf(stderr, "harness: case %zu: patch outside the windows\n", k);
        return 2;
      }
      memcpy((void *)(uintptr_t)pt->addr, pt->bytes, pt->len);
    }
    memcpy(code + (CODE_ENTRY - CODE_BASE), c->code, c->code_len);
    /* Exit stubs where they fit: not over the instruction, 14 bytes apart. */
    int stub[2] = {0, 0};
    for (int e = 0; e < 2; e++) {
      uint64_t a = c->exit[e];
      if (!a || a < CODE_BASE + 32 || a + 14 > CODE_BASE + CODE_SIZE - 16) continue;
      if (a + 14 > CODE_ENTRY && a < CODE_ENTRY + c->code_len) continue;
      uint64_t b = c->exit[1 - e];
      if (b && (b + 14 > a && b < a + 14)) continue;
      stub[e] = 1;
    }
    int mode32 = (c->flags & 2) != 0;
#if defined(__i386__)
    if (!mode32 || (c->flags & 1)) {
      fprintf(stderr, "harness: case %zu: the i386 build runs 32-bit cases without FS/GS bases only\n", k);
      return 2;
    }
#endif
    for (int e = 0; e < 2; e++) {
      if (!stub[e]) continue;
      uint8_t *p = code + (c->exit[e] - CODE_BASE);
#if defined(__i386__)
      /* jmp rel32 to guest_exit e. */
      uint32_t rel = (uint32_t)(uintptr_t)(e ? guest_exit1 : guest_exit0) - (uint32_t)(c->exit[e] + 5);
      p[0] = 0xe9;
      memcpy(p + 1, &rel, 4);
      continue;
#endif
      if (mode32) {
        /* 32-bit code: ljmp 0x33:trampoline e (back to 64-bit mode, then on to guest_exit e). */
        uint8_t far[7] = {0xea, 0, 0, 0, 0, 0x33, 0};
        uint32_t t = (uint32_t)(CODE_BASE + 16 * e);
        memcpy(far + 1, &t, 4);
        memcpy(p, far, 7);
        continue;
      }
      uint64_t target = (uint64_t)(uintptr_t)(e ? guest_exit1 : guest_exit0);
      static const uint8_t jmp_ind[6] = {0xff, 0x25, 0, 0, 0, 0};
      memcpy(p, jmp_ind, 6);
      memcpy(p + 6, &target, 8);
    }
    memcpy(g_in_gpr, c->gpr, sizeof g_in_gpr);
    g_in_flags = c->rflags;
    for (int i = 0; i < 8; i++) g_in_gpr32[i] = (uint32_t)c->gpr[i];
    g_in_flags32 = (uint32_t)c->rflags;
    memcpy(g_in_fx + 160, c->xmm, 16 * NXMM);
    cur_in = c;
    cur_out = &out[k - first];
    if (sigsetjmp(host_env, 0) == 0) {
      phase = 2;
      if (c->flags & 1) {
        seg_set = 1;
        if (raw_arch_prctl(ARCH_SET_FS, c->fs_base) || raw_arch_prctl(ARCH_SET_GS, c->gs_base)) {
          restore_segs();
          fprintf(stderr, "harness: case %zu: arch_prctl refused the FS/GS base\n", k);
          return 2;
        }
      }
#if defined(__x86_64__)
      if (mode32) guest_enter32(); else guest_enter();
#else
      guest_enter32();
      g_exit_idx = g_exit_idx32;
      for (int i = 0; i < 8; i++) g_out_gpr[i] = g_out_gpr32[i];
#endif
      restore_segs();
      phase = 0;
      struct case_out *o = &out[k - first];
      o->vector = -1;
      o->signo = 0;
      memcpy(o->gpr, g_out_gpr, sizeof o->gpr);
      o->rip = c->exit[g_exit_idx];
      o->rflags = g_out_flags;
      memcpy(o->xmm, g_out_fx + 160, 16 * NXMM);
    }
    for (int e = 0; e < 2; e++)
      if (stub[e]) memset(code + (c->exit[e] - CODE_BASE), 0xcc, 14);
    memcpy(out[k - first].data, (void *)DATA_WIN, WIN_SIZE);
    memcpy(out[k - first].stack, (void *)STACK_WIN, WIN_SIZE);
    scratch_check(&out[k - first]);
    memset(code + (CODE_ENTRY - CODE_BASE), 0xcc, CODE_MAX);
  }

  if (munmap(out, osize) || close(ofd)) {
    perror(argv[2]);
    return 2;
  }
  return 0;
}
