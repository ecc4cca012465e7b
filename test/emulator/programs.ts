// Guest programs and machine setup shared by the compiled-code tests
// (jitState, wasmBackend): each runs in the interpreter and compiled, and
// the states must agree.
import { CR0_PG, type Cpu } from '../../emulator/index.ts';

/**
 * 4-level paging over the first 2 MiB (one large page; tables at 0x70000):
 * an access at 0x200000 or above raises #PF.
 */
export function mapFirst2MiB(cpu: Cpu, write: (addr: number, bytes: Uint8Array) => void): void {
  const pml4 = 0x70000, pdpt = 0x71000, pd = 0x72000;
  const le = (v: number) => new Uint8Array(Uint32Array.of(v).buffer);
  write(pml4, le(pdpt | 3));
  write(pdpt, le(pd | 3));
  write(pd, Uint8Array.of(0x83));
  cpu.cr3Lo = pml4;
  cpu.cr0 |= CR0_PG;
  cpu.updateMode();
}

/**
 * rbx walks up to the end of a 2 MiB mapping (DATA: a buffer it stores to):
 * the load there raises #PF in a block that already ran compiled.
 */
export function walkProgram(data: number): string {
  return `
  mov rbx, 0x1fff00
  xor ecx, ecx
  mov edi, ${data}
top:
  add edx, ecx
  lea r8, [rdx + rcx*4 + 7]
  mov r9, r8
  shl r9, 3
  xor r10d, r10d
  mov rax, [rbx]
  mov [rdi + rcx*8], r9
  add rbx, 16
  inc ecx
  sub r8, rax
  jmp top`;
}

/**
 * A compare, a 16-bit load from DATA, then the branch on the compare: the
 * load must not disturb what the branch reads (the JS block compiler once
 * loaded through the local its compare-and-branch shortcut reads).
 */
export function cmpLoadBranchProgram(data: number): string {
  return `
      mov ecx, 100
      mov ebp, ${data}
      xor esi, esi
    top:
      mov eax, 5
      mov ebx, 5
      cmp eax, ebx
      mov dx, word ptr [rbp]
      je equal
      add esi, 48
    equal:
      dec ecx
      jnz top
      hlt`;
}
