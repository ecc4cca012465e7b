# Long-mode exceptions and interrupts through 64-bit gates: #DE #UD #BP #GP
# #NP #SS #NM, int n (returns after the int), IST delivery with the 16-byte
# RSP alignment, a ring-3 int with the stack switch to TSS.RSP0, #GP for an
# int through a DPL-0 gate from ring 3, and iretq back.
.include "lib.inc"
.code32
main:
  PUTS32 "exceptions64\n"
  ENTER_LONG long64

.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  call setup_tss64
  movq $ring0_stack_top, tss64+4      # RSP0
  movq $ist1_top - 8, tss64+0x24      # IST1 (misaligned on purpose: delivery aligns to 16)
  movq $ist2_top, tss64+0x2c          # IST2
  PUTS64 "#DE: "
  PUTS64 "\n"
  RECOVER64 1f
  xor %ecx, %ecx
  div %ecx
1:
  PUTS64 "#UD:\n"
  RECOVER64 1f
  ud2
1:
  PUTS64 "#BP (int3 returns after itself):\n"
  RECOVER64 0
  movq $0, recover
  movq $1f, recover
  int3
1:
  PUTS64 "int $0x30:\n"
  movq $1f, recover
  int $0x30
1:
  PUTS64 "#GP selector beyond GDT limit:\n"
  RECOVER64 1f
  mov $0x1f8, %ax
  mov %ax, %ds
1:
  PUTS64 "#NP not-present data segment:\n"
  RECOVER64 1f
  mov $0x48, %ax
  mov %ax, %es
1:
  PUTS64 "#GP data segment with RPL > DPL... code segment into SS:\n"
  RECOVER64 1f
  mov $0x18, %ax
  mov %ax, %ss
1:
  PUTS64 "#GP non-canonical address:\n"
  RECOVER64 1f
  mov $0x0000800000000000, %rax
  mov (%rax), %rbx
1:
  PUTS64 "#NM fninit with CR0.TS:\n"
  mov %cr0, %rax
  or $8, %rax
  mov %rax, %cr0
  RECOVER64 1f
  fninit
1:
  clts
  fninit
  fnstsw %ax
  PUTS64 "fnstsw="
  HEX64N %rax, 4
  PUTS64 "\n"
  # IST: vector 0x31 on IST1, vector 0x32 on IST2; show the frame address.
  movb $1, show_stack
  mov $idt64 + 0x31 * 16, %rax
  movb $1, 4(%rax)
  mov $idt64 + 0x32 * 16, %rax
  movb $2, 4(%rax)
  PUTS64 "int 0x31 on IST1 (top-8 aligned down):\n"
  movq $1f, recover
  int $0x31
1:
  PUTS64 "int 0x32 on IST2:\n"
  movq $1f, recover
  int $0x32
1:
  PUTS64 "int 0x30 with rsp misaligned (same stack, aligned):\n"
  mov %rsp, %rbx
  sub $8, %rsp
  movq $1f, recover
  int $0x30
1:
  mov %rbx, %rsp
  # Ring 3: iretq to user code; int 0x30 from there switches to RSP0.
  PUTS64 "ring 3:\n"
  # Let ring 3 touch the program (user bit on the 2 MiB of pt0 and the stack).
  USER_PAGES64
  mov %cr3, %rax
  mov %rax, %cr3
  IRET_TO_USER64 user64
user64:
  mov %cs, %ax
  PUTS64 "cs="
  HEX64N %rax, 4
  PUTS64 "\n"
  movq $1f, recover
  int $0x30
1:
  PUTS64 "int 0x31 from ring 3 (IST, stack switch):\n"
  movq $1f, recover
  int $0x31
1:
  PUTS64 "#GP privileged instruction (hlt) at CPL 3:\n"
  movq $1f, recover
  hlt
1:
  PUTS64 "done\n"
  EXIT64 0x11
