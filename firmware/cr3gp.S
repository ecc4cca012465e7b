# The 2012 crash: mov to CR3 of a value with bits above MAXPHYADDR set, in
# 64-bit mode. Architecturally #GP(0) with RIP at the mov and CR3 unchanged
# (SDM Vol. 2B MOV to CR3: "#GP(0) If an attempt is made to write a 1 to any
# reserved bit in CR3"; Vol. 3A 4.5: CR3 bits 63:MAXPHYADDR are reserved).
# QEMU 7.2 TCG neither raises #GP nor loads CR3: it re-executes the mov
# forever. Then the same load with no usable IDT: a triple fault.
.include "lib.inc"
.code32
main:
  PUTS32 "cr3gp\n"
  ENTER_LONG long64

.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  PUTS64 "mov at "
  HEX64N $bad_mov, 8
  PUTS64 "\n"
  mov %cr3, %rbx
  mov $0x9090909092515090, %rax
  RECOVER64 1f
bad_mov:
  mov %rax, %cr3
1:
  mov %cr3, %rcx
  cmp %rbx, %rcx
  jne 2f
  PUTS64 "cr3 unchanged\n"
2:
  PUTS64 "again with no IDT, at "
  HEX64N $crash_mov, 8
  PUTS64 "\n"
  lidt no_idt
crash_mov:
  mov %rax, %cr3
  PUTS64 "not reached\n"
  EXIT64 0x7d

.section .data
no_idt:
  .word 0
  .quad 0
.section .text
