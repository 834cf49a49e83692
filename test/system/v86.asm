; Virtual-8086 mode: entry by IRET with VM set, real-mode segment arithmetic and 64 KiB limits,
; INT n with IOPL=3 through a ring 0 gate (segment registers saved, nulled, restored by IRET),
; an external interrupt and an exception taken from v86, the IOPL-sensitive instructions with
; IOPL<3 (#GP for CLI/STI/PUSHF/POPF/INT n/IRET, INT3 not IOPL-sensitive), and the I/O permission
; bitmap, which governs IN/OUT in v86 mode whatever IOPL is. CPUID does not offer VME, so the
; classic (non-VME) behaviour is what is checked.
%include "lib.inc"

        bits 16
main:
        ENTER_PM32
        jmp pm_main

V86_SP          equ 0x6000

%macro IDTGATE 3
        mov eax, %1
        mov ebx, %2
        mov ecx, SEL_CODE0
        mov dl, %3
        call set_gate
%endmacro

; ENTER_V86 ip, eflags -- from ring 0: IRET into v86 at 0000:ip with all data segments 0
%macro ENTER_V86 2
        mov [ring0_esp], esp
        push dword 0                    ; gs
        push dword 0                    ; fs
        push dword 0                    ; ds
        push dword 0                    ; es
        push dword 0                    ; ss
        push dword V86_SP
        push dword EFL_VM | (%2) | 2
        push dword 0                    ; cs
        push dword %1
        iretd
%endmacro

        align 4
h_count:        dd 0
h_esp:          dd 0
h_cs:           dd 0
h_efl:          dd 0
h_frame_efl:    dd 0
h_frame_cs:     dd 0
h_es:           dd 0
h_ds:           dd 0
h_fs:           dd 0
h_gs:           dd 0
h_segs:         dd 0            ; DS|ES|FS|GS selectors inside the handler, OR-ed
irq_count:      dd 0
irq_efl:        dd 0
tmp:            dd 0

; ---- v86 code (16-bit, below 64 KiB) -------------------------------------------------------------
        bits 16
v86_iopl3:
        PASS 'entered v86 mode by iret'
        mov ax, cs
        movzx eax, ax
        EXPECT eax, 0, 'v86: CS from the iret frame'
        pushfd
        pop eax
        and eax, EFL_VM | EFL_IOPL
        EXPECT eax, EFL_IOPL, 'v86: pushfd shows IOPL=3 and hides VM'
        mov ax, 0xffff
        mov es, ax
        mov eax, [es:0x10]              ; linear 0x100000
        xor bx, bx
        mov es, bx
        EXPECT eax, 0x7e57da7a, 'v86: ffff:0010 addresses linear 0x100000'
        TRY .r_lim
        mov ax, [0xffff]
.r_lim: EXPECT_FAULT 13, 0, 'v86: word at offset 0xffff: #GP(0)'
        jmp 0x0800:(.far - 0x8000)
.far:   mov ax, cs
        jmp 0x0000:.far_back
.far_back:
        movzx eax, ax
        EXPECT eax, 0x0800, 'v86: far jmp loads a real-mode CS'

        ; INT n with IOPL=3: to the protected-mode handler through a DPL 3 gate
        mov ax, 0x0100
        mov ds, ax
        mov ax, 0x0200
        mov es, ax
        mov ax, 0x0300
        mov fs, ax
        mov ax, 0x0400
        mov gs, ax
        int 0x21
        mov bx, ds
        mov cx, es
        mov dx, fs
        mov si, gs
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        EXPECT [h_count], 1, 'v86: int n with IOPL=3 reaches the protected-mode handler'
        EXPECT [h_esp], STACK0_TOP - 36, 'v86: int switches to SS0:ESP0 and pushes a 36-byte frame'
        EXPECT [h_cs], SEL_CODE0, 'v86: the handler runs in the ring 0 code segment'
        mov eax, [h_efl]
        and eax, EFL_VM | EFL_IF
        EXPECT eax, 0, 'v86: the handler runs with VM and IF clear'
        mov eax, [h_frame_efl]
        and eax, EFL_VM
        EXPECT eax, EFL_VM, 'v86: the frame EFLAGS has VM set'
        EXPECT [h_es], 0x0200, 'v86: the frame holds ES'
        EXPECT [h_ds], 0x0100, 'v86: the frame holds DS'
        EXPECT [h_fs], 0x0300, 'v86: the frame holds FS'
        EXPECT [h_gs], 0x0400, 'v86: the frame holds GS'
        EXPECT [h_segs], 0, 'v86: DS/ES/FS/GS are null in the handler'
        movzx eax, bx
        EXPECT eax, 0x0100, 'v86: iret restores DS'
        movzx eax, cx
        EXPECT eax, 0x0200, 'v86: iret restores ES'
        movzx eax, dx
        EXPECT eax, 0x0300, 'v86: iret restores FS'
        movzx eax, si
        EXPECT eax, 0x0400, 'v86: iret restores GS'

        ; IOPL=3: the flag instructions work
        cli
        sti
        pushf
        popf
        cli
        PASS 'v86: cli/sti/pushf/popf with IOPL=3'
        pushf
        push cs
        push word .iret_to
        iret
        FAILED 'v86: iret with IOPL=3 did not jump'
.iret_to:
        PASS 'v86: iret with IOPL=3 returns within v86 mode'
        TRY .r_dpl
        int 0x24
.r_dpl: EXPECT_FAULT 13, 0x24 * 8 + 2, 'v86: int n through a DPL 0 gate: #GP(vector*8+2)'

        ; an external interrupt while in v86 mode
        sti
        mov al, 0x23
        out 0xf0, al
        mov cx, 1000
.irq:   cmp dword [irq_count], 0
        jne .irq_done
        dec cx
        jnz .irq
.irq_done:
        cli
        EXPECT [irq_count], 1, 'v86: an external interrupt goes to the protected-mode handler'
        mov eax, [irq_efl]
        and eax, EFL_VM
        EXPECT eax, EFL_VM, 'v86: the interrupt frame has VM set'

        ; an exception in v86 mode goes to the protected-mode handler, not the IVT
        TRY .r_de
        xor cx, cx
        div cx
.r_de:  EXPECT [fault_vec], 0, 'v86: divide error goes to the IDT handler'
        mov eax, STACK0_TOP
        sub eax, [fault_esp]
        EXPECT eax, 36, 'v86: #DE frame has no error code (36 bytes)'
        mov eax, [fault_eflags]
        and eax, EFL_VM
        EXPECT eax, EFL_VM, 'v86: #DE frame EFLAGS has VM set'

        ; the I/O bitmap applies in v86 mode even with IOPL=3
        in al, 0x70
        PASS 'v86 IOPL=3: in from a port allowed by the bitmap'
        TRY .r_io
        in al, 0x80
.r_io:  EXPECT_FAULT 13, 0, 'v86 IOPL=3: in from a port denied by the bitmap: #GP(0)'
        RING0 pm_iopl0

v86_iopl0:
        PASS 'entered v86 mode with IOPL=0'
        TRY .r_cli
        cli
.r_cli: EXPECT_FAULT 13, 0, 'v86 IOPL=0: cli: #GP(0)'
        mov eax, STACK0_TOP
        sub eax, [fault_esp]
        EXPECT eax, 40, 'v86: #GP frame has an error code (40 bytes)'
        TRY .r_sti
        sti
.r_sti: EXPECT_FAULT 13, 0, 'v86 IOPL=0: sti: #GP(0)'
        TRY .r_pushf
        pushf
.r_pushf:
        EXPECT_FAULT 13, 0, 'v86 IOPL=0: pushf: #GP(0)'
        TRY .r_popf
        push word 0
        popf
.r_popf:
        add sp, 2
        EXPECT_FAULT 13, 0, 'v86 IOPL=0: popf: #GP(0)'
        TRY .r_int
        int 0x21
.r_int: EXPECT_FAULT 13, 0, 'v86 IOPL=0: int n: #GP(0)'
        TRY .r_iret
        iret
.r_iret:
        EXPECT_FAULT 13, 0, 'v86 IOPL=0: iret: #GP(0)'
        TRY .r_int3
        int3
.r_int3:
        EXPECT_FAULT 13, 3 * 8 + 2, 'v86 IOPL=0: int3 is not IOPL-sensitive (DPL 0 gate: #GP(0x1a))'
        TRY .r_hlt
        hlt
.r_hlt: EXPECT_FAULT 13, 0, 'v86: hlt: #GP(0)'
        TRY .r_cr0
        mov eax, cr0
.r_cr0: EXPECT_FAULT 13, 0, 'v86: mov from cr0: #GP(0)'
        in al, 0x70
        PASS 'v86 IOPL=0: in from a port allowed by the bitmap'
        TRY .r_io
        in al, 0x80
.r_io:  EXPECT_FAULT 13, 0, 'v86 IOPL=0: in from a port denied by the bitmap: #GP(0)'
        TRY .r_io2
        mov dx, 0x400
        in al, dx
.r_io2: EXPECT_FAULT 13, 0, 'v86 IOPL=0: port beyond the bitmap: #GP(0)'
v86_exit:
        hlt                             ; #GP: the hook leaves v86 mode for good

; ---- protected mode ------------------------------------------------------------------------------
        bits 32
v86_int_h:
        mov [ss:h_esp], esp
        push eax
        push ebx
        mov ax, ds
        mov bx, es
        or ax, bx
        mov bx, fs
        or ax, bx
        mov bx, gs
        or ax, bx
        movzx eax, ax
        mov [ss:h_segs], eax
        mov ax, SEL_DATA0
        mov ds, ax
        inc dword [h_count]
        mov ax, cs
        movzx eax, ax
        mov [h_cs], eax
        pushfd
        pop eax
        mov [h_efl], eax
        mov eax, [esp + 8 + 8]
        mov [h_frame_efl], eax
        mov eax, [esp + 8 + 20]
        mov [h_es], eax
        mov eax, [esp + 8 + 24]
        mov [h_ds], eax
        mov eax, [esp + 8 + 28]
        mov [h_fs], eax
        mov eax, [esp + 8 + 32]
        mov [h_gs], eax
        pop ebx
        pop eax
        iretd

irq_h:
        push eax
        push ds
        mov ax, SEL_DATA0
        mov ds, ax
        mov eax, [esp + 8 + 8]
        mov [irq_efl], eax
        inc dword [irq_count]
        pop ds
        pop eax
        iretd

; #GP hook: the hlt at v86_exit leaves v86 mode; every other fault resumes at its TRY label.
exit_hook:
        cmp dword [ebp + F_VEC], 13
        jne .recover
        cmp dword [ebp + F_EIP], v86_exit
        jne .recover
        mov dword [fault_hook], 0
        mov esp, [ring0_esp]
        jmp pm_done
.recover:
        mov eax, [fault_recover]
        test eax, eax
        jz isr_unexpected
        mov [ebp + F_EIP], eax
        mov dword [fault_recover], 0
        ret

pm_main:
        mov eax, 1
        cpuid
        and edx, 1 << 1
        EXPECT edx, 0, 'CPUID does not offer VME'
        mov dword [0x100000], 0x7e57da7a
        IDTGATE 0x21, v86_int_h, 0xee
        IDTGATE 0x23, irq_h, 0x8e
        ENTER_V86 v86_iopl3, EFL_IOPL

pm_iopl0:
        PASS 'left v86 mode through a DPL 3 gate'
        mov dword [fault_hook], exit_hook
        ENTER_V86 v86_iopl0, 0

pm_done:
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        PASS 'left v86 mode from the #GP handler'
        DONE
