/*
 * Native half of the tsxen CPU differential test: runs instruction snippets on the host processor
 * in 32-bit user mode and reports their architectural outcome.
 *
 * Build: gcc -m32 -O2 -static -fno-pie -no-pie -o runner runner.c
 * Usage: runner [timeout-ms]   (per-case limit for runaway snippets, default 2000)
 *
 * The environment matches src/cpu/testing/user-snippet.ts: code mapped read+execute at CODE_ADDR
 * (4 pages, the snippet followed by an int3 terminator, the rest zero), data read/write at
 * DATA_ADDR (DATA_SIZE bytes), nothing mapped around either region (PROT_NONE reservations keep
 * the C library from placing anything there). Every exit from a snippet is a signal: the int3
 * terminator (SIGTRAP, trap 3, EIP just past it) is a normal completion, anything else is the
 * exception the snippet raised, read from the signal context (trap number, error code, CR2).
 *
 * Protocol (all little-endian), stdin: a sequence of cases until EOF
 *   u32 magic 'CASE' (0x45534143)
 *   u32 code length (< CODE_SIZE)
 *   u32 eax ecx edx ebx esp ebp esi edi eflags
 *   u8  code[code length]          (without the terminator)
 *   u8  data[DATA_SIZE]
 * stdout: one outcome per case
 *   u32 magic 'OUTC' (0x4354554f)
 *   u32 status: 0 = reached the terminator, 1 = exception, 2 = timeout
 *   u32 vector (trap number), error code, cr2, eip, signal number, si_code
 *   u32 eax ecx edx ebx esp ebp esi edi eflags (RF cleared)
 *   u32 fpu valid (1 = the x87 part of the signal frame was read)
 *   u8  fxsave image[512] (from the signal frame; zero when not valid)
 *   u32 number of changed-data runs, then per run: u16 offset, u16 length, u8 bytes[length]
 *       (the data region at the end, as differences from the case's initial data)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#define CODE_ADDR 0x40000000u
#define CODE_SIZE 0x4000u
#define DATA_ADDR 0x50000000u
#define DATA_SIZE 0x2000u
#define GUARD 0x10000u
#define MAGIC_CASE 0x45534143u
#define MAGIC_OUT 0x4354554fu

struct regs { uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, eflags; };

/* Read by the entry trampoline. */
struct regs case_in;
void *case_entry = (void *)CODE_ADDR;
uint8_t clean_fx[512] __attribute__((aligned(64)));

static sigjmp_buf jb;
static volatile sig_atomic_t in_case;
static struct {
  uint32_t vector, err, cr2, eip, signo, sicode;
  struct regs regs;
  uint32_t fx_valid;
  uint8_t fx[512];
} res;

/* Loads the case's FPU/SSE reset state, EFLAGS and registers, and jumps to the snippet.
 * It never returns: the snippet always ends in a signal, whose handler longjmps back. */
void enter_case(void) __attribute__((noreturn));
__asm__(
    ".text\n"
    ".globl enter_case\n"
    ".type enter_case,@function\n"
    "enter_case:\n"
    "  fxrstor clean_fx\n"
    "  pushl case_in+32\n"
    "  popfl\n"
    "  movl case_in+4, %ecx\n"
    "  movl case_in+8, %edx\n"
    "  movl case_in+12, %ebx\n"
    "  movl case_in+20, %ebp\n"
    "  movl case_in+24, %esi\n"
    "  movl case_in+28, %edi\n"
    "  movl case_in+16, %esp\n"
    "  movl case_in+0, %eax\n"
    "  jmp *case_entry\n");

static void die(const char *what) {
  fprintf(stderr, "cpu-diff runner: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void on_signal(int sig, siginfo_t *si, void *ucv) {
  if (!in_case) {
    if (sig == SIGALRM) return;
    /* A fault in the runner itself: die with the default action so it is visible. */
    signal(sig, SIG_DFL);
    return;
  }
  ucontext_t *uc = ucv;
  mcontext_t *mc = &uc->uc_mcontext;
  res.signo = sig;
  res.sicode = si->si_code;
  res.vector = mc->gregs[REG_TRAPNO];
  res.err = mc->gregs[REG_ERR];
  res.eip = mc->gregs[REG_EIP];
  res.cr2 = mc->cr2;
  res.regs.eax = mc->gregs[REG_EAX];
  res.regs.ecx = mc->gregs[REG_ECX];
  res.regs.edx = mc->gregs[REG_EDX];
  res.regs.ebx = mc->gregs[REG_EBX];
  res.regs.esp = mc->gregs[REG_UESP];
  res.regs.ebp = mc->gregs[REG_EBP];
  res.regs.esi = mc->gregs[REG_ESI];
  res.regs.edi = mc->gregs[REG_EDI];
  res.regs.eflags = mc->gregs[REG_EFL] & ~0x10000u;
  res.fx_valid = 0;
  memset(res.fx, 0, sizeof res.fx);
  if (mc->fpregs) {
    /* struct _fpstate_32: the FSAVE-format header (112 bytes), then the FXSAVE/XSAVE image. */
    const uint8_t *p = (const uint8_t *)mc->fpregs;
    uint16_t magic;
    memcpy(&magic, p + 110, 2);
    if (magic == 0) {
      const uint8_t *fx = p + 112;
      uint32_t sw_magic1, xstate_lo;
      memcpy(&sw_magic1, fx + 464, 4);
      memcpy(&xstate_lo, fx + 512, 4);
      if (sw_magic1 == 0x46505853u /* FP_XSTATE_MAGIC1 */ && !(xstate_lo & 1)) {
        /* The x87 component is in its initial configuration: XSAVE need not have written it. */
        memset(res.fx, 0, 512);
        res.fx[0] = 0x7f; res.fx[1] = 0x03;
      } else {
        memcpy(res.fx, fx, 512);
      }
      res.fx_valid = 1;
    }
  }
  in_case = 0;
  siglongjmp(jb, 1);
}

static void map_fixed(uint32_t addr, uint32_t size, int prot, int flags, int fd) {
  void *p = mmap((void *)addr, size, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  if (p != (void *)addr) { errno = EEXIST; die("mmap at the fixed address"); }
}

static int read_full(void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t r = fread((uint8_t *)buf + got, 1, n - got, stdin);
    if (r == 0) return got == 0 ? 0 : -1;
    got += r;
  }
  return 1;
}

static void put32(uint32_t v) { fwrite(&v, 4, 1, stdout); }

int main(int argc, char **argv) {
  long timeout_ms = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
  if (timeout_ms <= 0) timeout_ms = 2000;
  /* Code: one shared-memory object mapped twice, read+execute at CODE_ADDR and writable elsewhere. */
  int fd = memfd_create("cpu-diff-code", 0);
  if (fd < 0) die("memfd_create");
  if (ftruncate(fd, CODE_SIZE) != 0) die("ftruncate");
  map_fixed(CODE_ADDR - GUARD, GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
  map_fixed(CODE_ADDR, CODE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd);
  map_fixed(CODE_ADDR + CODE_SIZE, GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
  uint8_t *code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (code == MAP_FAILED) die("mmap code alias");
  map_fixed(DATA_ADDR - GUARD, GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
  map_fixed(DATA_ADDR, DATA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
  map_fixed(DATA_ADDR + DATA_SIZE, GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
  uint8_t *data = (uint8_t *)DATA_ADDR;

  /* FXRSTOR image of the reset state: FCW 0x37F, MXCSR 0x1F80, all registers zero and empty. */
  memset(clean_fx, 0, sizeof clean_fx);
  clean_fx[0] = 0x7f; clean_fx[1] = 0x03;
  clean_fx[24] = 0x80; clean_fx[25] = 0x1f;

  static uint8_t altstack[1 << 16];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  if (sigaltstack(&ss, NULL) != 0) die("sigaltstack");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  const int sigs[] = { SIGSEGV, SIGILL, SIGFPE, SIGTRAP, SIGBUS, SIGALRM };
  for (unsigned k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
    if (sigaction(sigs[k], &sa, NULL) != 0) die("sigaction");

  static uint8_t in_code[CODE_SIZE], in_data[DATA_SIZE];
  static uint8_t outbuf[16 + DATA_SIZE * 2];
  uint32_t prev_len = CODE_SIZE - 1;
  memset(code, 0, CODE_SIZE);
  setvbuf(stdout, NULL, _IOFBF, 1 << 20);

  for (;;) {
    uint32_t hdr[11];
    int r = read_full(hdr, sizeof hdr);
    if (r == 0) break;
    if (r < 0 || hdr[0] != MAGIC_CASE || hdr[1] >= CODE_SIZE) { fprintf(stderr, "cpu-diff runner: bad case header\n"); return 2; }
    uint32_t len = hdr[1];
    if (read_full(in_code, len) < 0 || read_full(in_data, DATA_SIZE) != 1) { fprintf(stderr, "cpu-diff runner: truncated case\n"); return 2; }

    memcpy(code, in_code, len);
    code[len] = 0xcc;
    if (prev_len > len) memset(code + len + 1, 0, prev_len - len);
    prev_len = len;
    memcpy(data, in_data, DATA_SIZE);
    memcpy(&case_in, hdr + 2, sizeof case_in);

    struct itimerval tv = { .it_interval = { 0, 0 }, .it_value = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 } };
    setitimer(ITIMER_REAL, &tv, NULL);
    if (sigsetjmp(jb, 0) == 0) {
      in_case = 1;
      enter_case();
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);

    uint32_t status;
    if (res.signo == SIGALRM) status = 2;
    else if (res.signo == SIGTRAP && res.vector == 3 && res.eip == CODE_ADDR + len + 1) status = 0;
    else status = 1;
    put32(MAGIC_OUT);
    put32(status);
    put32(res.vector); put32(res.err); put32(res.cr2); put32(res.eip); put32(res.signo); put32(res.sicode);
    fwrite(&res.regs, sizeof res.regs, 1, stdout);
    put32(res.fx_valid);
    fwrite(res.fx, 512, 1, stdout);
    /* Changed data as runs (gaps shorter than 8 bytes are merged into a run). */
    uint32_t nruns = 0;
    size_t o = 0;
    uint32_t i = 0;
    while (i < DATA_SIZE) {
      if (data[i] == in_data[i]) { i++; continue; }
      uint32_t start = i, end = i + 1, j = i + 1;
      while (j < DATA_SIZE && j < end + 8) {
        if (data[j] != in_data[j]) end = j + 1;
        j++;
      }
      uint16_t off16 = start, len16 = end - start;
      memcpy(outbuf + o, &off16, 2); memcpy(outbuf + o + 2, &len16, 2);
      memcpy(outbuf + o + 4, data + start, end - start);
      o += 4 + (end - start);
      nruns++;
      i = end;
    }
    put32(nruns);
    fwrite(outbuf, 1, o, stdout);
  }
  fflush(stdout);
  return 0;
}
