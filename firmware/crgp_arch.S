# #GP(0) from control-register and EFER writes that break the rules, as the
# manuals state them (SDM Vol. 2B "MOV—Move to/from Control Registers" and
# WRMSR; Vol. 3A 2.5 control registers, 2.2.1 EFER, 9.8.5 IA-32e mode
# initialization). QEMU 7.2 TCG checks almost none of these (it ignores NW
# without CD, bit 32 of CR0, clearing PG in 64-bit mode, clearing EFER.LME
# with paging on, PCIDE with CR3[11:0] != 0, CR8 bit 4, a non-canonical FS
# base, and loops forever on CR4 reserved bits, PCIDE outside long mode,
# EFER reserved bits and PG with LME but not PAE), so the expected output is
# written out in test/system/architectural.test.ts. crgp.S has the cases
# QEMU does follow.
.include "lib.inc"
.code32
main:
  PUTS32 "crgp_arch\n"
  call setup_idt32
  PUTS32 "cr0 PG without PE:\n"
  RECOVER32 1f
  mov $0x80000010, %eax
  mov %eax, %cr0
1:
  PUTS32 "cr0 NW without CD:\n"
  RECOVER32 1f
  mov %cr0, %eax
  or $0x20000000, %eax
  and $~0x40000000, %eax
  mov %eax, %cr0
1:
  PUTS32 "cr4 reserved bit 31:\n"
  RECOVER32 1f
  mov $0x80000000, %eax
  mov %eax, %cr4
1:
  PUTS32 "cr4 PCIDE outside long mode:\n"
  RECOVER32 1f
  mov $0x20000, %eax
  mov %eax, %cr4
1:
  PUTS32 "efer reserved bit 2:\n"
  RECOVER32 1f
  mov $0xc0000080, %ecx
  rdmsr
  or $4, %eax
  wrmsr
1:
  PUTS32 "paging with LME but not PAE:\n"
  call build_pt64
  mov $pml4, %eax
  mov %eax, %cr3
  mov $0xc0000080, %ecx
  rdmsr
  or $0x100, %eax
  wrmsr
  RECOVER32 1f
  mov %cr0, %eax
  or $0x80000000, %eax
  mov %eax, %cr0
1:
  mov %cr0, %eax
  PUTS32 "cr0="
  HEX32 %eax
  NL32
  ENTER_LONG long64

.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  PUTS64 "long mode: cr0 bit 32:\n"
  RECOVER64 1f
  mov %cr0, %rax
  bts $32, %rax
  mov %rax, %cr0
1:
  PUTS64 "clear CR0.PG in 64-bit mode:\n"
  RECOVER64 1f
  mov %cr0, %rax
  btr $31, %rax
  mov %rax, %cr0
1:
  PUTS64 "clear CR4.PAE in long mode:\n"
  RECOVER64 1f
  mov %cr4, %rax
  btr $5, %rax
  mov %rax, %cr4
1:
  PUTS64 "toggle CR4.LA57 in long mode:\n"
  RECOVER64 1f
  mov %cr4, %rax
  bts $12, %rax
  mov %rax, %cr4
1:
  PUTS64 "clear EFER.LME with paging on:\n"
  RECOVER64 1f
  mov $0xc0000080, %ecx
  rdmsr
  btr $8, %eax
  wrmsr
1:
  PUTS64 "CR4.PCIDE with CR3[11:0] != 0:\n"
  mov %cr3, %rax
  or $5, %rax
  mov %rax, %cr3
  RECOVER64 1f
  mov %cr4, %rax
  bts $17, %rax
  mov %rax, %cr4
1:
  PUTS64 "CR4.PCIDE with CR3[11:0] = 0 (allowed):\n"
  mov %cr3, %rax
  and $~0xfff, %rax
  mov %rax, %cr3
  mov %cr4, %rax
  bts $17, %rax
  mov %rax, %cr4
  mov %cr4, %rax
  HEX64N %rax, 8
  PUTS64 "\nCR8 bit 4:\n"
  RECOVER64 1f
  mov $0x10, %eax
  mov %rax, %cr8
1:
  mov $0xa, %eax
  mov %rax, %cr8
  mov %cr8, %rax
  PUTS64 "cr8="
  HEX64N %rax, 2
  PUTS64 "\nnon-canonical FS base:\n"
  RECOVER64 1f
  mov $0xc0000100, %ecx
  mov $0x00008000, %edx
  xor %eax, %eax
  wrmsr
1:
  PUTS64 "FS base 0x12345000: "
  CRGP_TAIL64

.section .bss
.align 4096
page_f: .skip 4096
.section .text
