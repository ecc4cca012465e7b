# Double fault from two contributory exceptions: a #GP whose gate is not
# present raises #NP while being delivered, which becomes #DF(0), delivered
# on IST1 (SDM Vol. 3A 6.15 table 6-5).
.include "lib.inc"
.code32
main:
  PUTS32 "df\n"
  ENTER_LONG long64
.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  call setup_tss64
  movq $ist1_top, tss64+0x24
  movb $1, idt64 + 8 * 16 + 4      # #DF on IST1
  movb $0x6e, idt64 + 13 * 16 + 5  # #GP gate not present
  PUTS64 "#NP while delivering #GP:\n"
  mov $0x1f8, %ax
  mov %ax, %ds
  PUTS64 "not reached\n"
  EXIT64 0x7d
