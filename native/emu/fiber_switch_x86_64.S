// The emu device's fiber context switch (x86-64 System V). Saves the callee-saved registers on the
// current stack, stores the stack pointer, loads the other one and pops its registers: a dozen
// instructions, no system call (glibc swapcontext also saves the signal mask with a syscall).
// MXCSR and the x87 control word are not switched: kernels do not change them.

        .text

// void jt_emu_switch(void** save_sp /* rdi */, void* next_sp /* rsi */)
        .globl  jt_emu_switch
        .hidden jt_emu_switch
        .type   jt_emu_switch, @function
        .p2align 4
jt_emu_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   jt_emu_switch, .-jt_emu_switch

// First code a new fiber runs, reached by the `ret` of jt_emu_switch with %r12 = its Fiber* and
// %rsp 16-byte aligned. Calls jt_emu_fiber_main(Fiber*), which never returns.
        .globl  jt_emu_fiber_start
        .hidden jt_emu_fiber_start
        .type   jt_emu_fiber_start, @function
        .p2align 4
jt_emu_fiber_start:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        movq    %r12, %rdi
        call    jt_emu_fiber_main
        ud2
        .cfi_endproc
        .size   jt_emu_fiber_start, .-jt_emu_fiber_start

        .section .note.GNU-stack,"",@progbits
