# Long mode: #SS(0), not #GP(0), for non-canonical stack addresses (push,
# pop, call, and memory operands based on RSP/RBP); #AC(0) at CPL 3 with
# CR0.AM and RFLAGS.AC; #TS(TSS selector | EXT) for an exception whose IST
# slot lies beyond the TSS limit. QEMU 7.2 TCG raises #GP for the first,
# does not check alignment and leaves EXT clear: the expected output is in
# test/system/architectural.test.ts.
.include "lib.inc"
.code32
main:
  PUTS32 "stack64\n"
  ENTER_LONG long64

.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  call setup_idt64
  call setup_tss64
  movq $ring0_stack_top, tss64+4      # RSP0
  movq $ist1_top, tss64+0x24          # IST1: #SS is delivered there
  movb $1, idt64+12*16+4
  mov %rsp, %rbx
  mov $0x0000900000000000, %rcx       # non-canonical (so is rcx - 8)

  PUTS64 "push with a non-canonical RSP:\n"
  RECOVER64 1f
  mov %rcx, %rsp
  push %rax
1:
  mov %rbx, %rsp
  PUTS64 "pop with a non-canonical RSP:\n"
  RECOVER64 1f
  mov %rcx, %rsp
  pop %rax
1:
  mov %rbx, %rsp
  PUTS64 "call with a non-canonical RSP:\n"
  RECOVER64 1f
  mov %rcx, %rsp
  call 1f
1:
  mov %rbx, %rsp
  PUTS64 "mov (%rbp) with a non-canonical RBP:\n"
  RECOVER64 1f
  mov %rcx, %rbp
  mov (%rbp), %rax
1:
  PUTS64 "mov 8(%rsp,%rcx) (non-canonical sum):\n"
  RECOVER64 1f
  mov 8(%rsp,%rcx), %rax
1:
  PUTS64 "mov (%rcx) (DS, for contrast):\n"
  RECOVER64 1f
  mov (%rcx), %rax
1:
  PUTS64 "push (%rcx) (the operand, not the stack):\n"
  RECOVER64 1f
  push (%rcx)
1:
  mov %rbx, %rsp

  PUTS64 "#UD through an IST7 gate, TSS limit 0x53:\n"
  movb $7, idt64+6*16+4
  movb $0x89, gdt+0x55
  movw $0x53, gdt+0x50
  mov $0x50, %ax
  ltr %ax
  RECOVER64 1f
  ud2
1:
  movb $0, idt64+6*16+4

  # Ring 3 with CR0.AM: RFLAGS.AC decides.
  USER_PAGES64
  mov %cr3, %rax
  mov %rax, %cr3
  mov %cr0, %rax
  or $0x40000, %rax
  mov %rax, %cr0
  movq $0x1122334455667788, %rax
  mov %rax, data
  IRET_TO_USER64 user64
user64:
  PUTS64 "ring 3, AC clear, qword at data+1: "
  mov data+1, %rax
  HEX64N %rax, 16
  PUTS64 "\n"
  pushfq
  orq $0x40000, (%rsp)
  popfq
  PUTS64 "AC set, qword at data+1:\n"
  RECOVER64 1f
  mov data+1, %rax
1:
  PUTS64 "dword at data+4: "
  mov data+4, %eax
  HEX64N %rax, 8
  PUTS64 "\n"
  PUTS64 "qword at data+4:\n"
  RECOVER64 1f
  mov data+4, %rax
1:
  PUTS64 "push with RSP misaligned by 4:\n"
  mov %rsp, %rbx
  sub $4, %rsp
  RECOVER64 1f
  push %rax
1:
  mov %rbx, %rsp
  PUTS64 "rep stosw at an odd address:\n"
  lea data+1, %rdi
  mov $2, %ecx
  RECOVER64 1f
  rep stosw
1:
  PUTS64 "done\n"
  EXIT64 0x15

.section .data
.align 16
data: .quad 0, 0
.section .text
