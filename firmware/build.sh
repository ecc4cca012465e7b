#!/bin/sh
# Build one test program: firmware/build.sh prog.S out.elf
# Assembled as x86-64 (so 64-bit code can use absolute addresses), linked at
# 1 MiB, converted to the 32-bit ELF that multiboot loaders (QEMU -kernel) take.
set -e
src=$1; out=$2
dir=$(dirname "$0")
as --64 -I "$dir" -o "$out.o" "$src"
ld -m elf_x86_64 -z max-page-size=0x1000 --no-warn-rwx-segments -T "$dir/link.ld" -o "$out.64" "$out.o"
objcopy -I elf64-x86-64 -O elf32-i386 "$out.64" "$out"
rm -f "$out.o" "$out.64"
