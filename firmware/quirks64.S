# Cases where QEMU 7.2 TCG departs from the manuals; the expected output is
# stated in test/system/architectural.test.ts with the references:
# - #PF for a reserved bit: error code P|RSVD = 0x9 (SDM Vol. 3A 4.7: RSVD
#   "can be set only if bit 0 is also set"); QEMU reports 0x8.
# - #GP for an IDT entry in 64-bit mode: error code vector*8 + 2 (SDM Vol. 3A
#   6.13, Vol. 2A INT n "error_code(vector_number,1,0)"); QEMU uses vector*16 + 2.
.include "lib.inc"
.code32
main:
  PUTS32 "quirks64\n"
  ENTER_LONG long64

.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  call setup_tss64
  movq $ring0_stack_top, tss64+4
  mov $page_c, %eax
  shr $12, %eax
  btsq $51, pt0(,%eax,8)
  mov %cr3, %rax
  mov %rax, %cr3
  PUTS64 "reserved bit 51 in a PTE:\n"
  RECOVER64 1f
  mov page_c, %rax
1:
  PUTS64 "PML4E with PS set:\n"
  movq $pdpt + 0x87, pml4+16
  RECOVER64 1f
  mov $0x10000000000, %rax
  mov (%rax), %rax
1:
  PUTS64 "2 MiB page with bit 13 set:\n"
  orq $0x2000, pd+16
  invlpg 0x400000
  RECOVER64 1f
  mov 0x400000, %rax
1:
  PUTS64 "int beyond the IDT limit:\n"
  lidt idt_short
  movq $1f, recover
  int $0x31
1:
  lidt idt64_desc
  USER_PAGES64
  mov %cr3, %rax
  mov %rax, %cr3
  IRET_TO_USER64 user64
user64:
  PUTS64 "int through a DPL 0 gate from ring 3:\n"
  mov $idt64 + 0x33 * 16, %rax
  movb $0x8e, 5(%rax)
  movq $1f, recover
  int $0x33
1:
  PUTS64 "done\n"
  EXIT64 0x13

.section .data
idt_short:
  .word 0x31 * 16 - 1
  .quad idt64
.section .bss
.align 4096
page_c: .skip 4096
.section .text
