# 32-bit protected mode: segment limit and type checks on data accesses
# (expand-up with G, expand-down with B = 1 and B = 0, read-only data, code
# through CS, a null segment), #SS(0) for SS limit violations (memory operand
# and pop), then ring 3 with a 4 KiB stack segment (#SS(0) on push),
# alignment checking (CR0.AM + EFLAGS.AC at CPL 3: #AC(0)), and #TS(TSS
# selector) for an int n whose inner stack (ESP1/SS1) lies beyond the TSS limit.
# QEMU 7.2 TCG checks neither data segment limits nor alignment: the expected
# output is in test/system/architectural.test.ts.
.include "lib.inc"
.code32
main:
  PUTS32 "seg32\n"
  call setup_idt32
  movl $0x11223344, 0x2000
  movl $0x55667788, 0x1ffc

  PUTS32 "FS limit 0xfff (G=1), dword at 0xffc: "
  mov $0x78, %ax
  mov %ax, %fs
  mov %fs:0xffc, %eax
  HEX32 %eax
  NL32
  PUTS32 "dword at 0xffd:\n"
  RECOVER32 1f
  mov %fs:0xffd, %eax
1:
  PUTS32 "byte at 0x1000:\n"
  RECOVER32 1f
  movb %fs:0x1000, %al
1:
  PUTS32 "word write at 0xfff:\n"
  RECOVER32 1f
  movw $1, %fs:0xfff
1:
  PUTS32 "add to memory at 0xffe (read-modify-write):\n"
  RECOVER32 1f
  addl $1, %fs:0xffe
1:

  # Expand-down, B = 1, limit 0xfff: offsets 0x1000..0xffffffff.
  movl $0x00000fff, gdt+0x70
  movl $0x00409700, gdt+0x74
  mov $0x70, %ax
  mov %ax, %fs
  PUTS32 "expand-down (B=1) limit 0xfff, dword at 0x2000: "
  mov %fs:0x2000, %eax
  HEX32 %eax
  NL32
  PUTS32 "dword at 0x800:\n"
  RECOVER32 1f
  mov %fs:0x800, %eax
1:
  PUTS32 "dword at 0xffe:\n"
  RECOVER32 1f
  mov %fs:0xffe, %eax
1:
  # Expand-down, B = 0: upper bound 0xffff.
  movl $0x00009700, gdt+0x74
  mov $0x70, %ax
  mov %ax, %fs
  PUTS32 "expand-down (B=0), dword at 0x1ffc: "
  mov %fs:0x1ffc, %eax
  HEX32 %eax
  NL32
  PUTS32 "dword at 0xfffe:\n"
  RECOVER32 1f
  mov %fs:0xfffe, %eax
1:
  # Read-only data, flat.
  movl $0x0000ffff, gdt+0x70
  movl $0x00cf9100, gdt+0x74
  mov $0x70, %ax
  mov %ax, %fs
  PUTS32 "read-only data, read: "
  mov %fs:0x2000, %eax
  HEX32 %eax
  NL32
  PUTS32 "write:\n"
  RECOVER32 1f
  movl $1, %fs:0x2000
1:
  PUTS32 "CS-relative read: "
  mov %cs:0x2000, %eax
  HEX32 %eax
  NL32
  PUTS32 "CS-relative write:\n"
  RECOVER32 1f
  movl $1, %cs:0x2000
1:
  PUTS32 "null FS:\n"
  xor %eax, %eax
  mov %ax, %fs
  RECOVER32 1f
  mov %fs:0, %eax
1:
  PUTS32 "string store (stos) through a 0xfff ES:\n"
  mov $0x78, %ax
  mov %ax, %es
  mov $0xffe, %edi
  RECOVER32 1f
  stosl
1:
  mov $0x10, %ax
  mov %ax, %es

  # SS with a 4 KiB limit; the stack lives at 0xf00 for now.
  mov %esp, %ebx
  mov $0x78, %ax
  mov %ax, %ss
  mov $0xf00, %esp
  PUTS32 "SS limit 0xfff, mov %ss:0x1000:\n"
  RECOVER32 1f
  mov %ss:0x1000, %eax
1:
  PUTS32 "[ebp] with ebp = 0xffe:\n"
  mov $0xffe, %ebp
  RECOVER32 1f
  mov (%ebp), %eax
1:
  PUTS32 "pop at esp = 0xffe:\n"
  mov $0xffe, %esp
  RECOVER32 1f
  pop %eax
1:
  mov $0xf00, %esp
  mov $0x10, %ax
  mov %ax, %ss
  mov %ebx, %esp

  # Ring 3 through iret with a TSS for the way back in; user SS: DPL 3, limit 0xfff.
  movl $0x00000fff, gdt+0x70
  movl $0x0040f300, gdt+0x74
  # The TSS limit 0x0f covers ESP0/SS0 (offsets 4-9) but not ESP1/SS1 (0x0c-0x13).
  movl $0x0000ffff, gdt+0x60  # code32, DPL 1
  movl $0x00cfbb00, gdt+0x64
  movw $0x60, idt32+0x34*8+2  # int 0x34 -> DPL 1 code
  mov $tss64, %eax           # reused as a 32-bit TSS
  movl $ring0_stack_top, 4(%eax)
  movl $0x10, 8(%eax)
  movw $0x0f, gdt+0x50
  mov %ax, gdt+0x52
  shr $16, %eax
  mov %al, gdt+0x54
  movb $0x89, gdt+0x55
  movb $0, gdt+0x56
  mov %ah, gdt+0x57
  mov $0x50, %ax
  ltr %ax
  mov %cr0, %eax
  or $0x40000, %eax          # CR0.AM
  mov %eax, %cr0
  push $0x73
  push $0x1000
  pushf
  orl $0x3000, (%esp)
  push $0x33
  push $user32
  iret
user32:
  mov $0x3b, %ax
  mov %ax, %ds
  mov %ax, %es
  PUTS32 "ring 3, push at esp = 0x1002 (SS limit 0xfff):\n"
  mov $0x1002, %esp
  RECOVER32 1f
  push %eax
1:
  mov $0x1000, %esp
  PUTS32 "CR0.AM without EFLAGS.AC, dword at 0x2001: "
  mov 0x2001, %eax
  HEX32 %eax
  NL32
  pushf
  orl $0x40000, (%esp)
  popf
  PUTS32 "EFLAGS.AC, dword at 0x2001:\n"
  RECOVER32 1f
  mov 0x2001, %eax
1:
  PUTS32 "word at 0x2001:\n"
  RECOVER32 1f
  mov 0x2001, %ax
1:
  PUTS32 "word at 0x2002: "
  mov 0x2002, %ax
  HEX32N %eax, 4
  NL32
  PUTS32 "byte at 0x2003: "
  movb 0x2003, %al
  HEX32N %eax, 2
  NL32
  PUTS32 "push at esp = 0xffe:\n"
  mov $0xffe, %esp
  RECOVER32 1f
  push %eax
1:
  mov $0x1000, %esp
  pushf
  andl $~0x40000, (%esp)
  popf
  PUTS32 "AC clear again, dword at 0x2001: "
  mov 0x2001, %eax
  HEX32 %eax
  NL32
  PUTS32 "int to DPL 1 code, TSS limit 0x0f (no room for ESP1/SS1):\n"
  RECOVER32 1f
  int $0x34
1:
  PUTS32 "done\n"
  EXIT32 0x17
