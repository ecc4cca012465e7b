# Control registers and MSRs where QEMU 7.2 TCG follows the manuals: #GP(0)
# for toggling CR4.LA57 in long mode, #UD for CR1, PCIDE, CR8, the FS base
# and KERNEL_GS_BASE MSRs, swapgs. The other #GP cases are in crgp_arch.S.
.include "lib.inc"
.code32
main:
  PUTS32 "crgp\n"
  call setup_idt32
  ENTER_LONG long64

.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  PUTS64 "toggle CR4.LA57 in long mode:\n"
  RECOVER64 1f
  mov %cr4, %rax
  bts $12, %rax
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
  PUTS64 "\n"
  mov $0xa, %eax
  mov %rax, %cr8
  mov %cr8, %rax
  PUTS64 "cr8="
  HEX64N %rax, 2
  PUTS64 "\nFS base: "
  CRGP_TAIL64

.section .bss
.align 4096
page_f: .skip 4096
.section .text
