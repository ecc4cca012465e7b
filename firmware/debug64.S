# Long mode: single-step traps (RFLAGS.TF, #DB after each instruction with
# DR6.BS, none after the popf that sets TF, one after the popf that clears
# it), #SS(selector) for a not-present stack segment, and #TS(TSS selector)
# when the TSS is too small for the stack an int n needs (IST7, then RSP1
# from ring 3). int n: EXT = 0, so QEMU and the SDM agree on the error code.
.include "lib.inc"
.code32
main:
  PUTS32 "debug64\n"
  ENTER_LONG long64

.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  call setup_tss64
  movq $ring0_stack_top, tss64+4      # RSP0
  # Vector 1 -> db_handler (same selector and attributes as the others).
  mov $db_handler, %eax
  mov %ax, idt64+16
  shr $16, %eax
  mov %ax, idt64+16+6

  PUTS64 "single-step:\n"
  mov $3, %ecx
  pushfq
  orq $0x100, (%rsp)
  popfq
  nop
  mov $5, %edx
  add %edx, %edx
  jmp 2f
  nop
2:
  call 3f
  jmp 4f
3:
  ret
4:
  loop 4b
step_end:
  PUTS64 "edx="
  HEX64N %rdx, 2
  PUTS64 "\n"

  PUTS64 "single-step, popf clears TF:\n"
  pushfq
  orq $0x100, (%rsp)
  popfq
  pushfq
  andq $~0x100, (%rsp)
  popfq
  nop
  PUTS64 "stepping stopped\n"

  PUTS64 "single-step over mov ss (the trap waits one instruction):\n"
  mov %ss, %ax
  pushfq
  orq $0x100, (%rsp)
  popfq
  mov %ax, %ss
  nop
  nop
  pushfq
  andq $~0x100, (%rsp)
  popfq

  PUTS64 "instruction breakpoint (DR0, L0):\n"
  mov $bp1, %rax
  mov %rax, %dr0
  mov $0x1, %eax                      # L0, RW0 = 00 (execute), LEN0 = 00
  mov %rax, %dr7
  xor %edx, %edx
  nop
bp1:
  inc %edx
  nop
  xor %eax, %eax
  mov %rax, %dr7
  PUTS64 "edx="
  HEX64N %rdx, 2
  PUTS64 "\n"
  PUTS64 "data breakpoint (DR1, write, 4 bytes):\n"
  mov $watched, %rax
  mov %rax, %dr1
  mov $0x00d00004, %eax               # L1, RW1 = 01 (write), LEN1 = 11 (4 bytes)
  mov %rax, %dr7
  mov watched, %eax
  movw $1, watched+4
  movl $1, watched
  movl $2, watched+2
  push %rax
  pop %rax
  PUTS64 "data breakpoint (DR1, read/write):\n"
  mov $0x00f00004, %eax               # RW1 = 11
  mov %rax, %dr7
  movb watched+1, %al
  movb watched+4, %al
  PUTS64 "on the stack:\n"
  lea -8(%rsp), %rax
  mov %rax, %dr1
  mov $0x00b00004, %eax               # RW1 = 11, LEN1 = 10 (8 bytes)
  mov %rax, %dr7
  push %rax
  pop %rax
  xor %eax, %eax
  mov %rax, %dr7
  mov %dr6, %rax
  PUTS64 "dr6="
  HEX64N %rax, 8
  PUTS64 "\n"

  PUTS64 "#SS loading a not-present stack segment:\n"
  RECOVER64 1f
  mov $0x48, %ax
  mov %ax, %ss
1:
  mov %ss, %ax
  PUTS64 "ss="
  HEX64N %rax, 4
  PUTS64 "\n"

  PUTS64 "#TS: int through an IST7 gate, TSS limit 0x53:\n"
  movq $ist2_top, tss64+0x54          # IST7
  movb $7, idt64+0x33*16+4
  movw $0x53, gdt+0x50
  movb $0x89, gdt+0x55
  mov $0x50, %ax
  ltr %ax
  movq $1f, recover
  int $0x33
1:
  PUTS64 "same with TSS limit 0x5b:\n"
  movb $0x89, gdt+0x55
  movw $0x5b, gdt+0x50
  mov $0x50, %ax
  ltr %ax
  movq $1f, recover
  int $0x33
1:
  # Ring 3 -> DPL 1 code through int 0x34: RSP1 (TSS 0x0c-0x13) beyond a 0x0f limit.
  movq $0x00afbb000000ffff, %rax      # code64, DPL 1
  mov %rax, gdt+0x70
  mov $idt64 + 0x34 * 16, %rax
  movw $0x70, 2(%rax)
  movq $ring1_stack_top, tss64+0x0c   # RSP1
  movb $0x89, gdt+0x55
  movw $0x0f, gdt+0x50
  mov $0x50, %ax
  ltr %ax
  USER_PAGES64
  mov %cr3, %rax
  mov %rax, %cr3
  IRET_TO_USER64 user64
user64:
  PUTS64 "ring 3 int to DPL 1 code, TSS limit 0x0f:\n"
  movq $1f, recover
  int $0x34
1:
  PUTS64 "done\n"
  EXIT64 0x13

# #DB: print the trap RIP, DR6 and the saved TF; stop stepping at step_end.
db_handler:
  push %rax
  push %rbx
  mov 16(%rsp), %rbx
  PUTS64 "  #DB rip="
  HEX64N %rbx, 8
  PUTS64 " dr6="
  mov %dr6, %rax
  HEX64N %rax, 8
  PUTS64 " tf="
  mov 32(%rsp), %rax
  shr $8, %rax
  and $1, %eax
  HEX64N %rax, 1
  PUTS64 "\n"
  cmp $step_end, %rbx
  jne 1f
  andq $~0x100, 32(%rsp)
1:
  cmp $bp1, %rbx
  jne 1f
  orq $0x10000, 32(%rsp)              # RF: resume past the instruction breakpoint
1:
  pop %rbx
  pop %rax
  iretq

.section .data
.align 16
watched: .quad 0

.section .bss
.align 16
ring1_stack: .skip 4096
ring1_stack_top:
.section .text
