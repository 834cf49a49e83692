; Exceptions and interrupts: faults restart after a fix-up, double faults (contributory pair through
; an interrupt gate; #PF during #PF delivery through a task gate, Linux style, with a return to the
; faulting task), #TS through a task gate and restart, interrupt shadows (STI; HLT, STI; NOP,
; MOV SS, POP SS), NMI delivery and blocking until IRET, #NM from CR0.TS/EM, and hardware task
; switches (CALL/JMP to a TSS, a task gate, IRET with NT, busy bits, back link, LDT, saved state).
%include "lib.inc"

        bits 16
main:
        ENTER_PM32
        jmp pm_main

PD              equ 0x100000
PT0             equ 0x101000
TSS_DF_BASE     equ 0x63000
TSS_A_BASE      equ 0x64000
TSS_B_BASE      equ 0x65000
TSS_TS_BASE     equ 0x66000
DF_STACK        equ 0x90000
A_STACK         equ 0x91000
B_STACK         equ 0x92000
TS_STACK        equ 0x93000
ALT_STACK       equ 0x95000
SEL_TSS_DF      equ 0x40
SEL_TSS_A       equ 0x48
SEL_TSS_B       equ 0x50
SEL_GATE_A      equ 0x58
SEL_LDT_B       equ 0x60
SEL_TSS_SMALL   equ 0x68
SEL_TSS_TS      equ 0x70
SEL_FIXME       equ 0x78            ; a data descriptor that starts out invalid
SEL_DPL3DATA    equ 0x80            ; DPL 3 data: not a valid ring 0 stack
NOUSE_LIN       equ 0x41000000      ; never mapped

%macro IDTGATE 3
        mov eax, %1
        mov ebx, %2
        mov ecx, SEL_CODE0
        mov dl, %3
        call set_gate
%endmacro

%macro TASKGATE 2       ; vector, TSS selector
        mov eax, %1
        xor ebx, ebx
        mov ecx, %2
        mov dl, 0x85
        call set_gate
%endmacro

%macro DESCR 5
        mov eax, %1
        mov ebx, %2
        mov ecx, %3
        mov dl, %4
        mov dh, %5
        call set_desc
%endmacro

        align 4
v_count:        dd 0
v_eip:          dd 0
v_esp:          dd 0
nmi_count:      dd 0
nmi_inner:      dd 0
a_runs:         dd 0
a_ebx:          dd 0
a_efl:          dd 0
a_link:         dd 0
a_tr:           dd 0
a_main_type:    dd 0
a_own_type:     dd 0
a_main_eip:     dd 0
b_efl:          dd 0
b_link:         dd 0
b_ldt:          dd 0
b_main_type:    dd 0
b_own_type:     dd 0
b_main_eip:     dd 0
b_main_eax:     dd 0
b_main_esi:     dd 0
df_runs:        dd 0
df_err:         dd 0
df_link:        dd 0
df_cr2:         dd 0
df_main_eip:    dd 0
df_main_cs:     dd 0
df_efl:         dd 0
df_main_type:   dd 0
df_main_esp:    dd 0
ts_runs:        dd 0
ts_err:         dd 0
ts_link:        dd 0
m_ebx:          dd 0
m_efl:          dd 0
tmp:            dd 0

; init_tss: EDI = TSS base, EAX = EIP, EBX = ESP. Ring 0 flat segments, CR3 = PD, EFLAGS = 2.
init_tss:
        push ecx
        xor ecx, ecx
.z:     mov dword [edi + ecx], 0
        add ecx, 4
        cmp ecx, 0x68
        jb .z
        mov dword [edi + 0x1c], PD
        mov [edi + 0x20], eax
        mov dword [edi + 0x24], 2
        mov [edi + 0x38], ebx
        mov dword [edi + 0x48], SEL_DATA0
        mov dword [edi + 0x4c], SEL_CODE0
        mov dword [edi + 0x50], SEL_DATA0
        mov dword [edi + 0x54], SEL_DATA0
        mov dword [edi + 0x58], SEL_DATA0
        mov dword [edi + 0x5c], SEL_DATA0
        mov word [edi + 0x66], 0x68
        pop ecx
        ret

; Records where an interrupt arrived.
vec_rec:
        push eax
        mov eax, [esp + 4]
        mov [v_eip], eax
        lea eax, [esp + 4]
        mov [v_esp], eax
        inc dword [v_count]
        pop eax
        iretd

; NMI handler: the first NMI raises a second one, which must wait until this handler's IRET.
nmi_h:
        push eax
        push ecx
        inc dword [nmi_count]
        cmp dword [nmi_count], 1
        jne .out
        mov al, 1
        out 0xf1, al
        mov ecx, 200
.spin:  jmp .next                       ; block boundaries where an unblocked NMI would land
.next:  dec ecx
        jnz .spin
        mov eax, [nmi_count]
        mov [nmi_inner], eax
.out:   pop ecx
        pop eax
        iretd

; #GP/#DE fix-up hook: makes the faulting instruction succeed when it is restarted.
fix_hook:
        mov eax, [ebp + F_VEC]
        cmp eax, 13
        je .gp
        cmp eax, 0
        je .de
        jmp isr_unexpected
.gp:    mov dword [gdt + SEL_FIXME], 0x0000ffff         ; flat writable data
        mov dword [gdt + SEL_FIXME + 4], 0x00cf9300
        ret
.de:    mov dword [ebp + F_ECX], 3
        ret

task_a:
        mov [a_ebx], ebx
        pushfd
        pop eax
        mov [a_efl], eax
        movzx eax, word [TSS_A_BASE]
        mov [a_link], eax
        str ax
        movzx eax, ax
        mov [a_tr], eax
        movzx eax, byte [gdt + SEL_TSS + 5]
        mov [a_main_type], eax
        movzx eax, byte [gdt + SEL_TSS_A + 5]
        mov [a_own_type], eax
        mov eax, [TSS_BASE + 0x20]
        mov [a_main_eip], eax
        inc dword [a_runs]
        iretd
        jmp task_a

task_b:
        pushfd
        pop eax
        mov [b_efl], eax
        movzx eax, word [TSS_B_BASE]
        mov [b_link], eax
        sldt ax
        movzx eax, ax
        mov [b_ldt], eax
        movzx eax, byte [gdt + SEL_TSS + 5]
        mov [b_main_type], eax
        movzx eax, byte [gdt + SEL_TSS_B + 5]
        mov [b_own_type], eax
        mov eax, [TSS_BASE + 0x20]
        mov [b_main_eip], eax
        mov eax, [TSS_BASE + 0x28]
        mov [b_main_eax], eax
        mov eax, [TSS_BASE + 0x40]
        mov [b_main_esi], eax
        jmp SEL_TSS:0
        jmp task_b

; Double-fault task: records what Linux's doublefault handler looks at, repairs the stack
; mapping and returns to the faulting task.
df_task:
        mov eax, [esp]
        mov [df_err], eax
        movzx eax, word [TSS_DF_BASE]
        mov [df_link], eax
        mov eax, cr2
        mov [df_cr2], eax
        mov eax, [TSS_BASE + 0x20]
        mov [df_main_eip], eax
        mov eax, [TSS_BASE + 0x4c]
        and eax, 0xffff
        mov [df_main_cs], eax
        pushfd
        pop eax
        mov [df_efl], eax
        movzx eax, byte [gdt + SEL_TSS + 5]
        mov [df_main_type], eax
        mov eax, [TSS_BASE + 0x38]
        mov [df_main_esp], eax
        inc dword [df_runs]
        mov dword [PT0 + 0x6f * 4], 0x6f000 | 7
        add esp, 4
        iretd
        jmp df_task

; #TS task: repairs SS0 in the main TSS and returns; the faulting INT restarts.
ts_task:
        mov eax, [esp]
        mov [ts_err], eax
        movzx eax, word [TSS_TS_BASE]
        mov [ts_link], eax
        inc dword [ts_runs]
        mov dword [TSS_BASE + 8], SEL_DATA0
        add esp, 4
        iretd
        jmp ts_task

int90_h:
        iretd

pm_main:
        ; ---- paging: identity map, the first 4 MiB with 4 KiB pages ----
        xor ecx, ecx
.pt:    mov eax, ecx
        shl eax, 12
        or eax, 7
        mov [PT0 + ecx * 4], eax
        inc ecx
        cmp ecx, 1024
        jb .pt
        mov dword [PD], PT0 | 7
        mov ecx, 1
.pd:    mov eax, ecx
        shl eax, 22
        or eax, 0x87
        mov [PD + ecx * 4], eax
        inc ecx
        cmp ecx, 8
        jb .pd
        mov eax, PD
        mov cr3, eax
        mov eax, cr4
        or eax, 1 << 4
        mov cr4, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        mov dword [TSS_BASE + 0x1c], PD

        ; ---- faults restart after the handler fixes the cause ----
        mov dword [gdt + SEL_FIXME], 0
        mov dword [gdt + SEL_FIXME + 4], 0
        mov dword [fault_hook], fix_hook
        mov dword [fault_count], 0
        mov ax, SEL_FIXME
        mov fs, ax
        mov ax, fs
        movzx eax, ax
        EXPECT eax, SEL_FIXME, 'mov fs restarted after the #GP handler fixed the descriptor'
        EXPECT [fault_count], 1, 'the segment load faulted once'
        mov eax, 10
        xor edx, edx
        xor ecx, ecx
        div ecx
        EXPECT eax, 3, 'div restarted after the #DE handler changed the divisor'
        EXPECT edx, 1, 'restarted div remainder'
        EXPECT [fault_count], 2, 'the div faulted once'
        mov dword [fault_hook], 0
        mov ax, SEL_DATA0
        mov fs, ax

        ; ---- exceptions while delivering exceptions ----
        IDTGATE 13, isr_stubs + 13 * 32, 0x0e           ; #GP gate not present
        TRY .r_df
        mov ax, 0xfff8
.df_at: mov ds, ax                                      ; #GP -> #NP -> #DF
.r_df:  IDTGATE 13, isr_stubs + 13 * 32, 0x8e
        mov ax, SEL_DATA0
        mov ds, ax
        EXPECT [fault_vec], 8, '#NP while delivering #GP: double fault'
        EXPECT [fault_err], 0, '#DF error code is 0'
        EXPECT [fault_eip], .df_at, '#DF points at the instruction that faulted first'
        IDTGATE 6, isr_stubs + 6 * 32, 0x0e             ; #UD gate not present
        TRY .r_benign
        ud2
.r_benign:
        IDTGATE 6, isr_stubs + 6 * 32, 0x8e
        EXPECT [fault_vec], 11, '#NP while delivering #UD (benign): no double fault'
        EXPECT [fault_err], 6 * 8 + 2, '#NP error code names the #UD gate'

        ; ---- interrupt shadows ----
        IDTGATE 0x40, vec_rec, 0x8e
        IDTGATE 0x41, vec_rec, 0x8e
        mov dword [v_count], 0
        mov al, 0x40
        out 0xf0, al
        sti
        hlt
.after_hlt:
        cli
        EXPECT [v_count], 1, 'sti; hlt with an interrupt pending: the interrupt wakes the hlt'
        EXPECT [v_eip], .after_hlt, 'sti; hlt: the interrupt returns after the hlt'
        mov dword [v_count], 0
        mov al, 0x41
        out 0xf0, al
        sti
        nop
.after_nop:
        cli
        EXPECT [v_count], 1, 'sti; nop: the pending interrupt arrives after the nop'
        EXPECT [v_eip], .after_nop, 'sti; nop: the interrupt is taken before the next instruction'
        mov al, 0
        out 0xf2, al
        mov dword [v_count], 0
        mov bx, ss
        mov [tmp], esp
        sti
        mov al, 0x41
        out 0xf0, al
        mov ss, bx
.mov_esp:
        mov esp, ALT_STACK
        nop
        nop
        cli
        mov esp, [tmp]
        EXPECT [v_count], 1, 'mov ss: the interrupt is delivered'
        mov eax, [v_eip]
        cmp eax, .mov_esp
        CHECK ne, 'no interrupt between mov ss and the next instruction'
        mov dword [v_count], 0
        mov [tmp], esp
        push ss
        sti
        mov al, 0x41
        out 0xf0, al
        pop ss
.pop_esp:
        mov esp, ALT_STACK
        nop
        cli
        mov esp, [tmp]
        EXPECT [v_count], 1, 'pop ss: the interrupt is delivered'
        mov eax, [v_eip]
        cmp eax, .pop_esp
        CHECK ne, 'no interrupt between pop ss and the next instruction'

        ; ---- NMI ----
        IDTGATE 2, nmi_h, 0x8e
        mov dword [nmi_count], 0
        cli
        mov al, 1
        out 0xf1, al
        mov ecx, 1000
.nmi_wait:
        cmp dword [nmi_count], 2
        je .nmi_done
        dec ecx
        jnz .nmi_wait
.nmi_done:
        EXPECT [nmi_inner], 1, 'a second NMI is blocked until the handler returns'
        EXPECT [nmi_count], 2, 'the blocked NMI is delivered after IRET (with IF=0)'

        ; ---- hardware task switches ----
        mov edi, TSS_A_BASE
        mov eax, task_a
        mov ebx, A_STACK
        call init_tss
        mov dword [TSS_A_BASE + 0x34], 0xa1a1       ; EBX of task A
        mov edi, TSS_B_BASE
        mov eax, task_b
        mov ebx, B_STACK
        call init_tss
        mov word [TSS_B_BASE + 0x60], SEL_LDT_B
        mov word [TSS_B_BASE], 0xdead               ; back link: a JMP must not write it
        mov edi, TSS_DF_BASE
        mov eax, df_task
        mov ebx, DF_STACK
        call init_tss
        mov edi, TSS_TS_BASE
        mov eax, ts_task
        mov ebx, TS_STACK
        call init_tss
        DESCR SEL_TSS_A, TSS_A_BASE, 0x67, 0x89, 0
        DESCR SEL_TSS_B, TSS_B_BASE, 0x67, 0x89, 0
        DESCR SEL_TSS_DF, TSS_DF_BASE, 0x67, 0x89, 0
        DESCR SEL_TSS_TS, TSS_TS_BASE, 0x67, 0x89, 0
        DESCR SEL_TSS_SMALL, TSS_B_BASE, 0x60, 0x89, 0
        DESCR SEL_LDT_B, SCRATCH, 0xf, 0x82, 0
        DESCR SEL_DPL3DATA, 0, 0xfffff, 0xf2, 0xc0
        mov word [gdt + SEL_GATE_A], 0
        mov word [gdt + SEL_GATE_A + 2], SEL_TSS_A
        mov word [gdt + SEL_GATE_A + 4], 0x8500
        mov word [gdt + SEL_GATE_A + 6], 0

        mov ebx, 0x1234
        call SEL_TSS_A:0
.after_call:
        mov [m_ebx], ebx
        pushfd
        pop eax
        mov [m_efl], eax
        smsw ax
        movzx eax, ax
        and eax, 8
        EXPECT eax, 8, 'a task switch sets CR0.TS'
        EXPECT [a_runs], 1, 'call to a TSS runs the task'
        EXPECT [a_ebx], 0xa1a1, 'the new task gets its registers from its TSS'
        mov eax, [a_efl]
        and eax, EFL_NT
        EXPECT eax, EFL_NT, 'call to a task sets NT in the new task'
        EXPECT [a_link], SEL_TSS, 'call to a task writes the back link'
        EXPECT [a_tr], SEL_TSS_A, 'str in the new task'
        EXPECT [a_main_type], 0x8b, 'the calling task stays busy'
        EXPECT [a_own_type], 0x8b, 'the called task is busy'
        EXPECT [a_main_eip], .after_call, 'the outgoing task saved EIP after the call'
        EXPECT [m_ebx], 0x1234, 'iret with NT returns to the caller with its registers'
        mov eax, [m_efl]
        and eax, EFL_NT
        EXPECT eax, 0, 'the caller has NT clear after the nested return'
        movzx eax, byte [gdt + SEL_TSS_A + 5]
        EXPECT eax, 0x89, 'iret from a nested task clears its busy bit'
        movzx eax, byte [gdt + SEL_TSS + 5]
        EXPECT eax, 0x8b, 'the returned-to task is still busy'
        str ax
        movzx eax, ax
        EXPECT eax, SEL_TSS, 'str back in the first task'

        ; #NM while CR0.TS is set (x87)
        TRY .r_nm
        fninit
.r_nm:  EXPECT [fault_vec], 7, 'x87 instruction with CR0.TS: #NM'
        clts
        fninit
        PASS 'x87 instruction after clts'

        call SEL_GATE_A:0
        EXPECT [a_runs], 2, 'call through a task gate runs the task again'
        TRY .r_busy
        call SEL_TSS:0
.r_busy:
        EXPECT_FAULT 13, SEL_TSS, 'call to a busy TSS: #GP(sel)'
        TRY .r_small
        jmp SEL_TSS_SMALL:0
.r_small:
        EXPECT_FAULT 10, SEL_TSS_SMALL, 'TSS limit below 0x67: #TS(sel)'

        mov eax, 0x5a5a5a5a
        mov esi, 0x7e7e7e7e
        jmp SEL_TSS_B:0
.after_jmp:
        mov ebx, eax
        mov eax, [b_efl]
        and eax, EFL_NT
        EXPECT eax, 0, 'jmp to a task leaves NT clear'
        EXPECT [b_link], 0xdead, 'jmp to a task does not write the back link'
        EXPECT [b_ldt], SEL_LDT_B, 'a task switch loads LDTR from the TSS'
        EXPECT [b_main_type], 0x89, 'jmp away from a task clears its busy bit'
        EXPECT [b_own_type], 0x8b, 'the jumped-to task is busy'
        EXPECT [b_main_eip], .after_jmp, 'the outgoing task saved EIP after the jmp'
        EXPECT [b_main_eax], 0x5a5a5a5a, 'the outgoing task saved EAX'
        EXPECT [b_main_esi], 0x7e7e7e7e, 'the outgoing task saved ESI'
        EXPECT ebx, 0x5a5a5a5a, 'jmp back restores the registers'
        movzx eax, byte [gdt + SEL_TSS_B + 5]
        EXPECT eax, 0x89, 'jmp back clears the other task busy bit'
        movzx eax, byte [gdt + SEL_TSS + 5]
        EXPECT eax, 0x8b, 'jmp back makes this task busy again'
        sldt ax
        movzx eax, ax
        EXPECT eax, 0, 'jmp back loads this task LDTR (null)'

        ; IRET with NT whose back link is not busy
        mov word [TSS_BASE], SEL_TSS_A
        TRY .r_ntbad
        pushfd
        or dword [esp], EFL_NT
        popfd
        iretd
.r_ntbad:
        pushfd
        and dword [esp], ~EFL_NT
        popfd
        EXPECT_FAULT 10, SEL_TSS_A, 'iret with NT to a task that is not busy: #TS(sel)'
        clts

        ; ---- #TS through a task gate: bad SS0, then restart ----
        TASKGATE 10, SEL_TSS_TS
        TASKGATE 8, SEL_TSS_DF
        IDTGATE 0x90, int90_h, 0xee
        mov dword [TSS_BASE + 8], SEL_DPL3DATA
        GO_RING3 r3
r3:
        mov ax, SEL_DATA3
        mov ds, ax
        mov es, ax
        TRY .r_int
        int 0x90
.r_int_ok:
        EXPECT [ts_runs], 1, 'int from ring 3 with a bad SS0: #TS through a task gate'
        EXPECT [ts_err], SEL_DPL3DATA, '#TS error code is the SS0 selector'
        EXPECT [ts_link], SEL_TSS, '#TS task back link'
        PASS 'int restarted after the #TS task fixed SS0'

        ; ---- #PF while delivering #PF: #DF through a task gate ----
        mov dword [PT0 + 0x6f * 4], 0           ; the page under ESP0
        TRY .r_pf
.pf_at: mov eax, [NOUSE_LIN]
.r_pf:  EXPECT [df_runs], 1, '#PF while pushing the #PF frame: #DF through a task gate'
        EXPECT [df_err], 0, '#DF task finds error code 0 on its stack'
        EXPECT [df_link], SEL_TSS, '#DF task back link is the faulting task'
        EXPECT [df_cr2], STACK0_TOP - 4, 'CR2 holds the stack address of the second #PF'
        EXPECT [df_main_eip], .pf_at, 'the faulting task saved the EIP of the faulting instruction'
        EXPECT [df_main_cs], SEL_CODE3, 'the faulting task saved its ring 3 CS'
        mov eax, [df_efl]
        and eax, EFL_NT
        EXPECT eax, EFL_NT, '#DF task runs nested (NT)'
        EXPECT [df_main_type], 0x8b, 'the faulting task stays busy under the #DF task'
        EXPECT [fault_vec], 14, 'after the #DF task returns, the #PF is delivered'
        EXPECT [fault_cr2], NOUSE_LIN, '#PF after the return has the original CR2'
        EXPECT [fault_eip], .pf_at, '#PF after the return points at the instruction'
        RING0 r0_end
.r_int:
        FAILED 'int from ring 3 with a bad SS0 did not restart'
        RING0 r0_end

r0_end:
        movzx eax, byte [gdt + SEL_TSS_DF + 5]
        EXPECT eax, 0x89, 'the #DF task is not busy after its iret'

        ; an interrupt frame at CPL 0 that straddles into an unmapped page: nothing is pushed
        mov dword [PT0 + 0x6f * 4], 0
        invlpg [0x6f000]
        mov dword [df_runs], 0
        mov [tmp], esp
        mov esp, STACK0_TOP + 4
.int_at:
        int 0x90
        mov esp, [tmp]
        EXPECT [df_runs], 1, 'same-privilege frame push faulting twice: #DF'
        EXPECT [df_main_esp], STACK0_TOP + 4, 'a frame push that faults leaves ESP unchanged'
        EXPECT [df_main_eip], .int_at, 'the #DF task sees EIP at the int'
        DONE
