# A triple fault: no usable IDT, so int3 raises #GP, delivering it raises
# #GP, which makes #DF, whose delivery faults again: shutdown. QEMU with
# -no-reboot stops; bootpath reports the event.
.include "lib.inc"
.code32
main:
  PUTS32 "triple\n"
  lidt no_idt
  int3
  PUTS32 "not reached\n"
  EXIT32 0x7d
.section .data
no_idt:
  .word 0
  .long 0
.section .text
