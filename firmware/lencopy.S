# A copy whose length comes from memory, for the counterfactual-explanation
# test: after some work it loads `len`, copies that many bytes into a
# 16-byte buffer and calls through the pointer right after it. With len = 16
# it exits 0; a larger len (the test's "hypervisor" writes one) overwrites
# the pointer with the source's 0x41 bytes and the call goes nowhere.
.include "lib.inc"
.code32
main:
  mov $20000, %ecx
1:
  loop 1b
  mov len, %ecx
  mov $src, %esi
  mov $dst, %edi
  cld
  rep movsb
  call *handler
  EXIT32 0
done:
  ret

.data
.align 16
scratch: .fill 16, 1, 0
len:     .long 16
src:     .fill 64, 1, 0x41
dst:     .fill 16, 1, 0
handler: .long done
