/* Entry: stack set by the loader; call the workload, stop with hlt. */
    .text
    .globl _start
_start:
    call bench_main
1:  hlt
    jmp 1b
