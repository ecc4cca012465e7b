# Smallest program: prints from 32-bit protected mode and exits.
.include "lib.inc"
.code32
main:
  PUTS32 "hello from multiboot\n"
  HEX32 $0x12345678
  NL32
  EXIT32 0x10
