# Double fault from #PF while delivering #PF: the #PF gate uses IST2 whose
# stack is not mapped (SDM Vol. 3A 6.15 table 6-5: page fault then page fault).
.include "lib.inc"
.code32
main:
  PUTS32 "dfpf\n"
  ENTER_LONG long64
.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  call setup_tss64
  movq $ist1_top, tss64+0x24
  mov $0x8000001000, %rax          # IST2: an unmapped address
  mov %rax, tss64+0x2c
  movb $1, idt64 + 8 * 16 + 4      # #DF on IST1
  movb $2, idt64 + 14 * 16 + 4     # #PF on IST2
  PUTS64 "#PF while delivering #PF:\n"
  mov $0x8000000000, %rax
  mov (%rax), %rax
  PUTS64 "not reached\n"
  EXIT64 0x7d
