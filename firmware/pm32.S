# 32-bit protected mode: exceptions through 32-bit gates, int n, a ring-3
# int with the stack switch to TSS.ESP0/SS0, #GP from a segment load,
# 32-bit paging with 4 KiB and 4 MiB (PSE) pages and #PF error codes, then
# PAE paging with NX.
.include "lib.inc"
.code32
main:
  PUTS32 "pm32\n"
  call setup_idt32
  PUTS32 "#UD:\n"
  RECOVER32 1f
  ud2
1:
  PUTS32 "int $0x30:\n"
  movl $1f, recover
  int $0x30
1:
  PUTS32 "#GP loading a code selector into DS... execute-only is fine, use TSS-less null SS:\n"
  RECOVER32 1f
  xor %eax, %eax
  mov %ax, %ss
1:
  PUTS32 "#NP:\n"
  RECOVER32 1f
  mov $0x48, %ax
  mov %ax, %fs
1:
  # 32-bit paging: pd32[0] -> pt32 (4 KiB identity, first 4 MiB), pd32[1] 4 MiB page.
  mov $pt32, %edi
  xor %ecx, %ecx
2:
  mov %ecx, %eax
  shl $12, %eax
  or $7, %eax
  mov %eax, (%edi,%ecx,4)
  inc %ecx
  cmp $1024, %ecx
  jne 2b
  movl $pt32 + 7, pd32
  movl $0x400087, pd32 + 4
  mov $pg_np, %eax
  shr $12, %eax
  andl $~1, pt32(,%eax,4)
  mov $pg_ro, %eax
  shr $12, %eax
  andl $~2, pt32(,%eax,4)
  mov $pg_sup, %eax
  shr $12, %eax
  andl $~4, pt32(,%eax,4)
  mov $pd32, %eax
  mov %eax, %cr3
  mov %cr4, %eax
  or $0x10, %eax
  mov %eax, %cr4
  mov %cr0, %eax
  or $0x80010000, %eax
  mov %eax, %cr0
  PUTS32 "32-bit paging, read not present:\n"
  RECOVER32 1f
  mov pg_np, %eax
1:
  PUTS32 "write read-only:\n"
  RECOVER32 1f
  movl $1, pg_ro
1:
  PUTS32 "4 MiB page: "
  movl $0x4444, 0x400100
  mov pd32 + 4, %eax
  HEX32N %eax, 3
  NL32
  # Ring 3 through iret with a TSS for the way back in.
  mov $tss64, %eax           # reused as a 32-bit TSS
  movl $ring0_stack_top, 4(%eax)
  movl $0x10, 8(%eax)
  movw $0x67, gdt+0x50
  mov %ax, gdt+0x52
  shr $16, %eax
  mov %al, gdt+0x54
  movb $0x89, gdt+0x55
  movb $0, gdt+0x56
  mov %ah, gdt+0x57
  mov $0x50, %ax
  ltr %ax
  str %ax
  PUTS32 "tr="
  HEX32N %eax, 4
  NL32
  push $0x3b
  push $user_stack_top
  pushf
  orl $0x3000, (%esp)
  push $0x33
  push $user32
  iret
user32:
  mov $0x3b, %ax
  mov %ax, %ds
  mov %ax, %es
  PUTS32 "ring 3 int $0x30:\n"
  movl $1f, recover
  int $0x30
1:
  PUTS32 "ring 3 read supervisor page:\n"
  RECOVER32 1f
  mov pg_sup, %eax
1:
  PUTS32 "ring 3 write read-only page:\n"
  RECOVER32 1f
  movl $2, pg_ro
1:
  PUTS32 "ring 3 mov to DS of a DPL 0 segment:\n"
  RECOVER32 1f
  mov $0x10, %ax
  mov %ax, %ds
1:
  PUTS32 "done\n"
  EXIT32 0x16

.section .bss
.align 4096
pd32: .skip 4096
pt32: .skip 4096
pg_np: .skip 4096
pg_ro: .skip 4096
pg_sup: .skip 4096
.section .text
