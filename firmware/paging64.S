# 4-level paging: #PF with the error-code bits P, W, U, I/D and CR2 (RSVD is
# in quirks64.S: QEMU 7.2 leaves P clear there),
# CR0.WP, accessed/dirty bits written back, 2 MiB and 1 GiB pages, invlpg.
.include "lib.inc"
.code32
main:
  PUTS32 "paging64\n"
  ENTER_LONG long64

.code64
# Print the low 12 bits of the PTE of the 4 KiB page at \addr (< 2 MiB).
.macro PTE addr
  mov $\addr, %eax
  shr $12, %eax
  mov pt0(,%eax,8), %rax
  HEX64N %rax, 3
.endm

long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  call setup_tss64
  movq $ring0_stack_top, tss64+4
  # Test pages: page_a (not present), page_b (read-only), page_d (NX, holds a ret)
  mov $page_a, %eax
  shr $12, %eax
  andq $~1, pt0(,%eax,8)
  mov $page_b, %eax
  shr $12, %eax
  andq $~2, pt0(,%eax,8)
  mov $page_d, %eax
  shr $12, %eax
  btsq $63, pt0(,%eax,8)
  movb $0xc3, page_d
  mov %cr3, %rax
  mov %rax, %cr3

  PUTS64 "read not present:\n"
  RECOVER64 1f
  mov page_a+0x10, %rax
1:
  PUTS64 "write not present:\n"
  RECOVER64 1f
  movl $1, page_a+0x20
1:
  PUTS64 "write read-only, WP=0 (allowed):\n"
  movl $0x55, page_b
  mov page_b, %eax
  HEX64N %rax, 2
  PUTS64 "\nwrite read-only, WP=1:\n"
  mov %cr0, %rax
  bts $16, %rax
  mov %rax, %cr0
  RECOVER64 1f
  movl $0x66, page_b+4
1:
  PUTS64 "NX fetch:\n"
  RECOVER64 1f
  call page_d
1:
  PUTS64 "accessed/dirty: "
  mov $page_e, %eax
  shr $12, %eax
  andq $~0x60, pt0(,%eax,8)
  invlpg page_e
  PTE page_e
  PUTS64 " "
  mov page_e, %rax
  PTE page_e
  PUTS64 " "
  movq $7, page_e
  PTE page_e
  PUTS64 "\n"
  PUTS64 "2 MiB page pd[1] A/D: "
  mov pd+8, %rax
  HEX64N %rax, 3
  movl $0x1234, 0x200010
  PUTS64 " "
  mov pd+8, %rax
  HEX64N %rax, 3
  PUTS64 "\n1 GiB page at 1 GiB -> 0: "
  mov $0x83, %eax
  mov %rax, pdpt+8
  movl $0xabcd, 0x300000
  mov 0x40300000, %eax
  HEX64N %rax, 4
  PUTS64 " pdpte="
  mov pdpt+8, %rax
  HEX64N %rax, 3
  PUTS64 "\nunmapped 512 GiB region:\n"
  RECOVER64 1f
  mov $0x8000000000, %rax
  mov (%rax), %rax
1:
  # Ring 3: user pages are the program's (pt0 entries get U), page_s stays supervisor.
  USER_PAGES64
  mov $page_s, %eax
  shr $12, %eax
  andq $~4, pt0(,%eax,8)
  movb $0xc3, page_s
  mov %cr3, %rax
  mov %rax, %cr3
  IRET_TO_USER64 user64
user64:
  PUTS64 "user read supervisor page:\n"
  RECOVER64 1f
  mov page_s, %rax
1:
  PUTS64 "user write read-only page:\n"
  RECOVER64 1f
  movl $1, page_b+8
1:
  PUTS64 "user read not present:\n"
  RECOVER64 1f
  mov page_a, %rax
1:
  PUTS64 "user fetch supervisor page:\n"
  RECOVER64 1f
  call page_s
1:
  PUTS64 "user fetch NX page:\n"
  RECOVER64 1f
  call page_d
1:
  PUTS64 "done\n"
  EXIT64 0x12

.section .bss
.align 4096
page_a: .skip 4096
page_b: .skip 4096
page_c: .skip 4096
page_d: .skip 4096
page_e: .skip 4096
page_s: .skip 4096
.section .text
