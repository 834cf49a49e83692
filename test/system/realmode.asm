; Real mode: IVT interrupts and exceptions, segment arithmetic, 16-bit address wrap, far
; transfers, PUSHF/POPF, moving the IVT with LIDT, an external interrupt, and a round trip through
; protected mode that leaves "unreal" 4 GiB data segment limits behind.
%include "lib.inc"

        bits 16
; Real-mode exception stubs: record the vector and the pushed CS:IP; resume at rm_recover.
%macro RM_STUB 1
rm_isr_%1:
        mov byte [cs:rm_vec], %1
        jmp rm_common
%endmacro
RM_STUB 0
RM_STUB 3
RM_STUB 4
RM_STUB 5
RM_STUB 6
RM_STUB 12
RM_STUB 13

rm_vec:         db 0
        align 2
rm_ip:          dw 0
rm_cs:          dw 0
rm_flags:       dw 0
rm_recover:     dw 0
tmp:            dd 0
tmp2:           dd 0
handler_flags:  dw 0
irq_seen:       dw 0
ivt_moved_seen: dw 0
far_ptr:        dw 0, 0

rm_common:
        push bp
        mov bp, sp
        push ax
        mov ax, [bp + 2]
        mov [cs:rm_ip], ax
        mov ax, [bp + 4]
        mov [cs:rm_cs], ax
        mov ax, [bp + 6]
        mov [cs:rm_flags], ax
        mov ax, [cs:rm_recover]
        test ax, ax
        jz .unexpected
        mov [bp + 2], ax
        mov word [bp + 4], 0
        mov word [cs:rm_recover], 0
        pop ax
        pop bp
        iret
.unexpected:
        PRINT 'FAIL unexpected real-mode exception', 10
        ABORT

%macro SETVEC 2         ; vector, handler (segment 0)
        mov word [(%1) * 4], %2
        mov word [(%1) * 4 + 2], 0
%endmacro

%macro RM_TRY 1
        mov byte [cs:rm_vec], 0xff
        mov word [cs:rm_recover], %1
%endmacro

int80_handler:
        push bp
        mov bp, sp
        push ax
        mov ax, [bp + 2]
        mov [rm_ip], ax
        mov ax, [bp + 4]
        mov [rm_cs], ax
        mov ax, [bp + 6]
        mov [rm_flags], ax
        pushf
        pop ax
        mov [handler_flags], ax
        pop ax
        pop bp
        add ax, 0x0101          ; visible result
        iret

irq40_handler:
        inc word [cs:irq_seen]
        iret

moved_handler:
        inc word [cs:ivt_moved_seen]
        iret

main:
        SETVEC 0, rm_isr_0
        SETVEC 3, rm_isr_3
        SETVEC 4, rm_isr_4
        SETVEC 5, rm_isr_5
        SETVEC 6, rm_isr_6
        SETVEC 12, rm_isr_12
        SETVEC 13, rm_isr_13
        SETVEC 0x80, int80_handler
        SETVEC 0x40, irq40_handler

        ; ---- INT n / IRET through the IVT ----
        sti
        mov ax, 0x1111
        int 0x80
after_int80:
        pushf
        pop bx
        movzx eax, ax
        EXPECT eax, 0x1212, 'int n runs the IVT handler'
        movzx eax, word [rm_ip]
        EXPECT eax, after_int80, 'int n pushes IP of the next instruction'
        movzx eax, word [rm_cs]
        EXPECT eax, 0, 'int n pushes CS'
        movzx eax, word [rm_flags]
        and eax, EFL_IF
        EXPECT eax, EFL_IF, 'int n pushes FLAGS with IF set'
        movzx eax, word [handler_flags]
        and eax, EFL_IF | EFL_TF
        EXPECT eax, 0, 'int n clears IF and TF'
        movzx eax, bx
        and eax, EFL_IF
        EXPECT eax, EFL_IF, 'iret restores IF'
        cli

        ; ---- exceptions through the IVT: faults point at the instruction, traps after it ----
        RM_TRY .r_de
        xor cx, cx
        mov ax, 1
        xor dx, dx
.de:    div cx
.r_de:  movzx eax, byte [rm_vec]
        EXPECT eax, 0, 'divide by zero raises vector 0'
        movzx eax, word [rm_ip]
        EXPECT eax, .de, 'divide error is a fault (IP at div)'

        RM_TRY .r_bp
        int3
.after_bp:
        nop
.r_bp:  movzx eax, byte [rm_vec]
        EXPECT eax, 3, 'int3 raises vector 3'
        movzx eax, word [rm_ip]
        EXPECT eax, .after_bp, 'int3 is a trap (IP after it)'

        RM_TRY .r_of
        mov al, 0x7f
        add al, 1
        into
.after_of:
        nop
.r_of:  movzx eax, byte [rm_vec]
        EXPECT eax, 4, 'into with OF=1 raises vector 4'
        movzx eax, word [rm_ip]
        EXPECT eax, .after_of, 'into is a trap (IP after it)'

        mov byte [cs:rm_vec], 0xff
        mov al, 1
        add al, 1
        into
        movzx eax, byte [rm_vec]
        EXPECT eax, 0xff, 'into with OF=0 does nothing'

        RM_TRY .r_br
        mov ax, 50
.br:    bound ax, [bounds]
.r_br:  movzx eax, byte [rm_vec]
        EXPECT eax, 5, 'bound out of range raises vector 5'
        movzx eax, word [rm_ip]
        EXPECT eax, .br, 'bound is a fault'

        RM_TRY .r_ud
.ud:    ud2
.r_ud:  movzx eax, byte [rm_vec]
        EXPECT eax, 6, 'ud2 raises vector 6'
        movzx eax, word [rm_ip]
        EXPECT eax, .ud, 'invalid opcode is a fault'

        ; ---- segment arithmetic ----
        mov ax, 0x1234
        mov es, ax
        mov byte [es:0x5678], 0xab      ; linear 0x179b8
        mov ax, 0x179b
        mov fs, ax
        movzx eax, byte [fs:0x0008]
        EXPECT eax, 0xab, 'segment base is selector * 16'
        xor ax, ax
        mov es, ax
        mov fs, ax

        ; ---- 16-bit effective addresses wrap at 64 KiB ----
        mov ax, 0x2000
        mov ds, ax
        mov byte [0x0001], 0x5a
        mov bx, 0xffff
        mov cl, [bx + 2]                ; offset wraps to 0x0001
        mov si, 0xfff0
        mov ch, [si + 0x11]             ; also 0x0001
        xor ax, ax
        mov ds, ax
        movzx eax, cl
        EXPECT eax, 0x5a, '16-bit [bx+disp] wraps at 64 KiB'
        movzx eax, ch
        EXPECT eax, 0x5a, '16-bit [si+disp] wraps at 64 KiB'

        ; [bp] defaults to SS, [bx] to DS
        mov byte [0x500], 0x11
        mov ax, 0x3000
        mov ds, ax
        mov byte [0x500], 0x22
        mov bp, 0x500
        mov bx, 0x500
        mov cl, [bp]
        mov ch, [bx]
        xor ax, ax
        mov ds, ax
        movzx eax, cl
        EXPECT eax, 0x11, '[bp] addresses through SS'
        movzx eax, ch
        EXPECT eax, 0x22, '[bx] addresses through DS'

        ; a word at offset 0xffff crosses the 64 KiB limit: #GP (vector 13)
        RM_TRY .r_wrap
.wrap:  mov ax, [0xffff]
.r_wrap:
        movzx eax, byte [rm_vec]
        EXPECT eax, 13, 'word access at offset 0xffff faults (vector 13)'
        movzx eax, word [rm_ip]
        EXPECT eax, .wrap, 'segment overrun is a fault'
        ; ...and through SS it is a stack fault (vector 12)
        RM_TRY .r_sswrap
        mov bp, 0xffff
.sswrap:
        mov ax, [bp]
.r_sswrap:
        movzx eax, byte [rm_vec]
        EXPECT eax, 12, 'word access at SS:0xffff faults (vector 12)'

        ; ---- far jumps and calls ----
        jmp 0x0800:(.fj - 0x8000)
.fj:    mov ax, cs
        mov [tmp], ax
        jmp 0:.fj_back
.fj_back:
        movzx eax, word [tmp]
        EXPECT eax, 0x0800, 'far jmp loads CS'

        mov word [tmp2], 0x1234
        call 0x0800:(far_callee - 0x8000)
.fc_ret:
        movzx eax, word [tmp]
        EXPECT eax, 0x0800, 'far call loads CS'
        movzx eax, word [tmp2]
        EXPECT eax, .fc_ret, 'far call pushes IP'
        movzx eax, word [tmp2 + 2]
        EXPECT eax, 0, 'far call pushes CS'
        mov ax, cs
        movzx eax, ax
        EXPECT eax, 0, 'retf restores CS'

        mov word [far_ptr], .fji - 0x7000
        mov word [far_ptr + 2], 0x0700
        jmp far [far_ptr]
.fji:   mov ax, cs
        mov [tmp], ax
        jmp 0:.fji_back
.fji_back:
        movzx eax, word [tmp]
        EXPECT eax, 0x0700, 'jmp far [mem] loads CS:IP'

        mov word [far_ptr], far_callee - 0x7000
        call far [far_ptr]
        movzx eax, word [tmp]
        EXPECT eax, 0x0700, 'call far [mem] loads CS:IP'

        ; 32-bit operand size far call in real mode pushes 32-bit CS and EIP
        mov [tmp2], sp
        call dword 0x0000:far_callee32
        movzx eax, word [tmp]
        EXPECT eax, 8, 'o32 far call pushes 8 bytes'

        ; ---- PUSHF / POPF ----
        mov ax, 0xfeff                  ; all but TF
        push ax
        popf
        pushf
        pop ax
        push word 0x0000
        popf
        pushf
        pop bx
        movzx eax, ax
        EXPECT eax, 0x7ed7, 'popf/pushf: IOPL and NT writable, bit 15 clear, fixed bits'
        movzx eax, bx
        EXPECT eax, 0x0002, 'popf 0 leaves only bit 1'
        push dword EFL_AC | EFL_ID | EFL_VM | EFL_CF
        popfd
        pushfd
        pop eax
        push dword 0
        popfd
        EXPECT eax, EFL_AC | EFL_ID | EFL_CF | 2, 'popfd sets AC and ID but not VM'

        ; ---- LIDT moves the real-mode interrupt table ----
        mov si, 0
.copy:  mov eax, [si]
        mov [0x1000 + si], eax
        add si, 4
        cmp si, 0x400
        jb .copy
        mov word [0x1000 + 0x81 * 4], moved_handler
        mov word [0x1000 + 0x81 * 4 + 2], 0
        mov word [0x81 * 4], 0            ; the old table's entry must not be used
        mov word [0x81 * 4 + 2], 0xdead
        o32 lidt [moved_idt]
        int 0x81
        o32 lidt [rm_idt_desc]
        movzx eax, word [ivt_moved_seen]
        EXPECT eax, 1, 'lidt moves the real-mode IVT'

        ; ---- an external interrupt through the IVT ----
        mov al, 0x40
        out 0xf0, al
        mov cx, 1000
        sti
.wait:  cmp word [irq_seen], 0
        jne .got
        dec cx
        jnz .wait
.got:   cli
        movzx eax, word [irq_seen]
        EXPECT eax, 1, 'INTR delivered through the IVT'

        ; ---- unreal mode ----
        ; FS was never loaded in protected mode: a 32-bit offset beyond 64 KiB faults
        RM_TRY .r_big
        mov esi, 0x100500
        mov eax, [fs:esi]
.r_big: movzx eax, byte [rm_vec]
        EXPECT eax, 13, 'real mode: offset above 0xffff faults'

        o32 lgdt [gdt_desc]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp SEL_CODE16:.pm16
.pm16:  smsw ax
        mov [tmp], ax
        mov ax, SEL_DATA0               ; 4 GiB limit
        mov ds, ax
        mov es, ax
        mov eax, cr0
        and al, 0xfe
        mov cr0, eax
        jmp 0:.rm
.rm:    xor ax, ax
        mov ds, ax                      ; real-mode loads keep the cached limit
        mov es, ax
        movzx eax, word [tmp]
        and eax, 1
        EXPECT eax, 1, 'CR0.PE set in protected mode'
        smsw ax
        movzx eax, ax
        and eax, 1
        EXPECT eax, 0, 'CR0.PE clear back in real mode'
        mov dword [0x500], 0x11111111
        mov esi, 0x100500
        mov dword [esi], 0x22222222
        mov edi, 0x100500
        mov eax, [es:edi]
        EXPECT eax, 0x22222222, 'unreal mode: DS/ES reach above 1 MiB'
        EXPECT dword [0x500], 0x11111111, 'unreal mode: no wrap to low memory'
        mov esi, 0x1000000 - 4
        mov dword [esi], 0x33333333
        EXPECT dword [esi], 0x33333333, 'unreal mode: access at 16 MiB'

        DONE

far_callee:
        mov ax, cs
        mov [tmp], ax
        mov bp, sp
        mov ax, [bp]
        mov [tmp2], ax
        mov ax, [bp + 2]
        mov [tmp2 + 2], ax
        retf

far_callee32:
        mov ax, [tmp2]
        sub ax, sp
        mov [tmp], ax
        o32 retf

        align 4
bounds: dw 0, 10
moved_idt:
        dw 0x3ff
        dd 0x1000
