# Every mode switch of the boot path and the ones around it: 32-bit protected
# mode (far call/ret), 16-bit protected mode (a code segment based at 0x7000),
# real mode (segment arithmetic, int through the IVT, #DE through the IVT),
# back to 32-bit protected mode, long mode, compatibility mode (lretq), paging
# off from compatibility mode to toggle CR4.LA57 (as the decompressor's
# trampoline does), 5-level paging, iretq, and back to 4-level paging.
.include "lib.inc"
.code32
main:
  PUTS32 "pm32 cs="
  mov %cs, %eax
  HEX32N %eax, 4
  NL32
  lcall $0x70, $farfn
  PUTS32 "back from far call, cs="
  mov %cs, %eax
  HEX32N %eax, 4
  NL32
  # Copy the 16-bit code below 1 MiB; code16/data16 descriptors get base 0x7000.
  mov $blob, %esi
  mov $0x7000, %edi
  mov $blob_end - blob, %ecx
  rep movsb
  movw $0x7000, gdt+0x22
  movw $0x7000, gdt+0x2a
  mov %esp, saved_esp
  ljmp $0x20, $pm16 - blob
back32:
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov saved_esp, %esp
  PUTS32 "pm32 again, [0x10010]="
  mov 0x10010, %eax
  HEX32N %eax, 4
  NL32
  ENTER_LONG long64

farfn:
  PUTS32 "far call: cs="
  mov %cs, %eax
  HEX32N %eax, 4
  PUTS32 " return cs="
  mov 4(%esp), %ebx
  HEX32N %ebx, 4
  NL32
  lret

.code64
long64:
  mov $0x10, %ax
  mov %ax, %ss
  PUTS64 "long64 cs="
  mov %cs, %eax
  HEX64N %rax, 4
  PUTS64 "\n"
  lcall *farptr32
  push $0x08
  push $compat32
  lretq

farfn64:
  PUTS64 "64-bit far call through m16:32, cs="
  mov %cs, %eax
  HEX64N %rax, 4
  PUTS64 "\n"
  lretl

.code32
compat32:
  PUTS32 "compat32 cs="
  mov %cs, %eax
  HEX32N %eax, 4
  PUTS32 " efer="
  mov $0xc0000080, %ecx
  rdmsr
  HEX32N %eax, 4
  NL32
  # Paging off (legal in compatibility mode): back to legacy protected mode.
  mov %cr0, %eax
  and $0x7fffffff, %eax
  mov %eax, %cr0
  PUTS32 "paging off: efer="
  mov $0xc0000080, %ecx
  rdmsr
  HEX32N %eax, 4
  NL32
  mov %cr4, %eax
  or $0x1000, %eax
  mov %eax, %cr4
  mov $pml5, %eax
  mov %eax, %cr3
  mov %cr0, %eax
  or $0x80000000, %eax
  mov %eax, %cr0
  ljmp $0x18, $la57_64

.code64
la57_64:
  PUTS64 "5-level: cr4="
  mov %cr4, %rax
  HEX64N %rax, 8
  movl $0x5757, marker
  movq $pml4 + 7, pml5 + 8
  mov $0x1000000000000, %rax
  mov $marker, %ecx
  add %rcx, %rax
  mov (%rax), %eax
  PUTS64 " via pml5[1]="
  HEX64N %rax, 4
  PUTS64 "\n"
  # iretq at the same privilege: ss, rsp, rflags, cs, rip
  mov %rsp, %rax
  push $0x10
  push %rax
  pushfq
  push $0x18
  push $after_iretq
  iretq
after_iretq:
  PUTS64 "after iretq\n"
  push $0x08
  push $compat_back
  lretq
.code32
compat_back:
  mov %cr0, %eax
  and $0x7fffffff, %eax
  mov %eax, %cr0
  mov %cr4, %eax
  and $~0x1000, %eax
  mov %eax, %cr4
  mov $pml4, %eax
  mov %eax, %cr3
  mov %cr0, %eax
  or $0x80000000, %eax
  mov %eax, %cr0
  ljmp $0x18, $back64
.code64
back64:
  PUTS64 "4-level again: cr4="
  mov %cr4, %rax
  HEX64N %rax, 8
  PUTS64 "\ndone\n"
  EXIT64 0x15

# ---------------------------------------------------------------- 16-bit code, run at 0x7000
.code16
blob:
pm16:
  mov $0x28, %ax
  mov %ax, %ds
  mov %ax, %ss
  mov $0xf00, %sp
  mov $msg_pm16 - blob, %si
  call puts16
  mov %cs, %ax
  call hex16
  call nl16
  mov %cr0, %eax
  and $~1, %eax
  mov %eax, %cr0
  ljmp $0x0700, $real - blob
real:
  mov $0x0700, %ax
  mov %ax, %ds
  mov %ax, %ss
  mov $0xf00, %sp
  mov $msg_real - blob, %si
  call puts16
  mov %cs, %ax
  call hex16
  call nl16
  lidt ivt_desc - blob
  xor %ax, %ax
  mov %ax, %es
  movw $rm_int - blob, %es:0x200
  movw $0x0700, %es:0x202
  movw $rm_de - blob, %es:0
  movw $0x0700, %es:2
  int $0x80
  mov $msg_de - blob, %si
  call puts16
  xor %cl, %cl
  mov $1, %ax
  div %cl
  mov $msg_after_de - blob, %si
  call puts16
  mov $0x1000, %ax
  mov %ax, %es
  movw $0xbeef, %es:0x10
  mov %cr0, %eax
  or $1, %eax
  mov %eax, %cr0
  ljmpl $0x08, $back32

rm_int:
  mov $msg_int - blob, %si
  call puts16
  mov %sp, %bp
  mov 4(%bp), %ax       # pushed flags
  and $0x0200, %ax
  call hex16
  pushf
  pop %ax
  and $0x0200, %ax
  call hex16
  call nl16
  iret

# #DE in real mode: the pushed IP is the div's; skip its 2 bytes.
rm_de:
  mov $msg_de_handler - blob, %si
  call puts16
  mov %sp, %bp
  mov (%bp), %ax
  call hex16
  call nl16
  addw $2, (%bp)
  iret

putc16:
  push %dx
  push %ax
  mov $COM1 + 5, %dx
1:
  in %dx, %al
  test $0x20, %al
  jz 1b
  pop %ax
  mov $COM1, %dx
  out %al, %dx
  pop %dx
  ret
puts16:
  push %ax
  push %si
1:
  lodsb
  test %al, %al
  jz 2f
  call putc16
  jmp 1b
2:
  pop %si
  pop %ax
  ret
hex16:
  push %ax
  push %bx
  push %cx
  mov %ax, %bx
  mov $4, %cx
1:
  rol $4, %bx
  mov %bx, %ax
  and $0xf, %al
  add $'0', %al
  cmp $'9', %al
  jbe 2f
  add $39, %al
2:
  call putc16
  loop 1b
  pop %cx
  pop %bx
  pop %ax
  ret
nl16:
  push %ax
  mov $'\n', %al
  call putc16
  pop %ax
  ret
ivt_desc:
  .word 0x3ff
  .long 0
msg_pm16: .asciz "pm16 cs="
msg_real: .asciz "real cs="
msg_int: .asciz "int 0x80 via IVT: pushed IF, IF="
msg_de: .asciz "div by zero\n"
msg_de_handler: .asciz "#DE via IVT at ip="
msg_after_de: .asciz "after #DE\n"
blob_end:

.section .data
saved_esp: .long 0
farptr32:
  .long farfn64
  .word 0x18
marker: .long 0
.section .text
