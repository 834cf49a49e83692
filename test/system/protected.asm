; Protected mode: segment register loads and their #GP/#NP/#SS checks, LDT, limit checks (expand-up
; and expand-down), conforming code, call gates with privilege change and parameter copy, RETF and
; IRET to an outer ring with data-segment nulling, INT n gate checks from ring 3, interrupt vs trap
; gates, which vectors push error codes, LAR/LSL/VERR/VERW/ARPL, SYSENTER/SYSEXIT, the I/O
; permission bitmap, IOPL-sensitive instructions and privileged instructions at ring 3.
%include "lib.inc"

        bits 16
main:
        ENTER_PM32
        jmp pm_main

; ---- helpers ------------------------------------------------------------------------------------
%macro DESCR 5          ; selector, base, limit, access, flags (high nibble)
        mov eax, %1
        mov ebx, %2
        mov ecx, %3
        mov dl, %4
        mov dh, %5
        call set_desc
%endmacro

%macro CALLGATE 5       ; gdt selector, target selector, target offset, access byte, parameter count
        mov eax, %3
        mov [gdt + (%1)], ax
        mov word [gdt + (%1) + 2], %2
        mov byte [gdt + (%1) + 4], %5
        mov byte [gdt + (%1) + 5], %4
        shr eax, 16
        mov [gdt + (%1) + 6], ax
%endmacro

%macro IDTGATE 3        ; vector, handler, attr
        mov eax, %1
        mov ebx, %2
        mov ecx, SEL_CODE0
        mov dl, %3
        call set_gate
%endmacro

%macro EXPECT_ZF 2+
        setz byte [zf_tmp]
        movzx eax, byte [zf_tmp]
        EXPECT eax, %1, %2
%endmacro

; PRIV 'name', instruction -- the instruction must raise #GP(0)
%macro PRIV 2+
        TRY %%r
        %2
%%r:    EXPECT_FAULT 13, 0, %1
%endmacro

; frame size pushed on the ring 0 stack by the last exception taken from ring 3
%macro EXPECT_FRAME 2+
        mov eax, STACK0_TOP
        sub eax, [fault_esp]
        EXPECT eax, %1, %2
%endmacro

NP_DATA         equ 0x40
RO_DATA         equ 0x48
XO_CODE         equ 0x50
RX_CODE         equ 0x58
EU_DATA         equ 0x60
ED_DATA32       equ 0x68
ED_DATA16       equ 0x70
LDT_SEL         equ 0x78
LDT_NP          equ 0x80
G_DATA          equ 0x88
CONF_CODE0      equ 0x90
CGATE3          equ 0xa0
CGATE0          equ 0xa8
CGATE_NP        equ 0xb0
CONF_CODE3      equ 0xb8
DATA_DPL1       equ 0xc0
CGATE_CONF      equ 0xc8
CGATE16         equ 0xd0
BOGUS_SYS       equ 0xd8
ED_STACK3       equ 0xe0
NP_DATA3        equ 0xe8
FRESH_DATA      equ 0xf0
FRESH_CODE      equ 0xf8
CSLIM           equ 0x100
BASED_CODE      equ 0x108
NP_CODE         equ 0x110
CODE_DPL1       equ 0x118
DATA1_SMALL     equ 0x120
CGATE_R1        equ 0x128
RING1_STACK     equ 0x6a000

        align 4
zf_tmp:         dd 0
t1:             dd 0
t2:             dd 0
t3:             dd 0
t4:             dd 0
t5:             dd 0
t6:             dd 0
t7:             dd 0
saved_esp:      dd 0
sysenter_seen:  dd 0
handler_efl:    dd 0

        align 8
ldt:
        dq 0
        dq DESC(SCRATCH + 0x100, 0xff, 0x92, 0x40)     ; 0x0c (TI=1): data, ring 0
        dq DESC(SCRATCH + 0x200, 0xff, 0xf2, 0x40)     ; 0x14: data, ring 3
ldt_end:

; A 16-bit call gate returns to a 16-bit IP and SP, so this part runs below 64 KiB on a low stack.
cg16_test:
        mov [saved_esp], esp
        mov esp, 0x6f00
        push word 0x4321
        call CGATE16 | 3:0
        mov [t4], esp
        mov esp, [saved_esp]
        ret

; A 16-bit interrupt gate pushes a 16-bit frame and returns with IRETW to a 16-bit IP.
int86_test:
        mov [t2], esp
        int 0x86
        ret
int86_h:
        mov [t1], esp
        iretw

; ---- handlers -----------------------------------------------------------------------------------
; call gate target (ring 0, reached from ring 3 with 2 parameters)
cg_target:
        mov [t1], esp
        mov eax, [esp + 8]
        mov [t2], eax                   ; first parameter (lower address)
        mov eax, [esp + 12]
        mov [t3], eax
        mov eax, [esp + 4]
        mov [t4], eax                   ; caller CS
        mov eax, [esp + 20]
        mov [t5], eax                   ; caller SS
        mov ax, cs
        mov [t6], ax
        mov ax, ss
        mov [t7], ax
        mov ax, SEL_DATA0               ; DPL 0 data: must be nulled on return to ring 3
        mov ds, ax
        mov ax, SEL_DATA3               ; DPL 3 data: kept
        mov es, ax
        mov ax, CONF_CODE0              ; conforming code: kept
        mov fs, ax
        mov ax, SEL_DATA0
        mov gs, ax
        retf 8

cg_conf_target:
        mov ax, cs
        mov [t1], eax
        mov [t2], esp
        retf

conf_target:
        mov ax, cs
        mov [t1], eax
        retf

ring1_target:
        mov ax, cs
        mov [t1], eax
        mov ax, ss
        mov [t2], eax
        mov [t3], esp
        retf

ring1_int_h:
        mov ax, cs
        mov [t1], eax
        mov [t3], esp
        iretd

conf_int_h:
        mov ax, cs
        mov [t1], eax
        mov [t2], esp
        iretd

cg16_target:
        movzx eax, word [esp + 4]
        mov [t1], eax                   ; the parameter
        movzx eax, word [esp + 2]
        mov [t2], eax                   ; caller CS
        mov eax, STACK0_TOP
        sub eax, esp
        mov [t3], eax                   ; bytes pushed: 5 words
        o16 retf 2

int80_h:
        mov [t1], esp
        mov eax, [esp + 4]
        mov [t2], eax                   ; pushed CS
        pushfd
        pop eax
        mov [handler_efl], eax
        mov ax, cs
        mov [t3], eax
        iretd

flag_h:                                 ; records EFLAGS as seen by the handler
        push eax
        pushfd
        pop eax
        mov [handler_efl], eax
        pop eax
        iretd

sysenter_entry:
        mov [t1], esp
        mov ax, cs
        mov [t2], eax
        mov ax, ss
        mov [t3], eax
        pushfd
        pop eax
        mov [t4], eax
        inc dword [sysenter_seen]
        sysexit

; ---- ring 0 -------------------------------------------------------------------------------------
        bits 32
pm_main:
        DESCR NP_DATA, 0, 0xfffff, 0x12, 0xc0
        DESCR RO_DATA, 0, 0xfffff, 0x90, 0xc0
        DESCR XO_CODE, 0, 0xfffff, 0x98, 0xc0
        DESCR RX_CODE, 0, 0xfffff, 0x9a, 0xc0
        DESCR EU_DATA, SCRATCH, 0xfff, 0x92, 0x40
        DESCR ED_DATA32, SCRATCH, 0xfff, 0x96, 0x40
        DESCR ED_DATA16, SCRATCH, 0xfff, 0x96, 0x00
        DESCR LDT_SEL, ldt, ldt_end - ldt - 1, 0x82, 0x00
        DESCR LDT_NP, ldt, ldt_end - ldt - 1, 0x02, 0x00
        DESCR G_DATA, SCRATCH, 0xf, 0x92, 0xc0
        DESCR CONF_CODE0, 0, 0xfffff, 0x9e, 0xc0
        DESCR CONF_CODE3, 0, 0xfffff, 0xfe, 0xc0
        DESCR DATA_DPL1, 0, 0xfffff, 0xb2, 0xc0
        DESCR BOGUS_SYS, 0, 0xfffff, 0x8e, 0x00
        DESCR ED_STACK3, 0, 0x6afff, 0xf6, 0x40
        DESCR NP_DATA3, 0, 0xfffff, 0x72, 0xc0
        CALLGATE CGATE3, SEL_CODE0, cg_target, 0xec, 2
        CALLGATE CGATE0, SEL_CODE0, cg_target, 0x8c, 2
        CALLGATE CGATE_NP, SEL_CODE0, cg_target, 0x6c, 2
        CALLGATE CGATE_CONF, CONF_CODE0, cg_conf_target, 0xec, 0
        CALLGATE CGATE16, SEL_CODE0, cg16_target, 0xe4, 1
        IDTGATE 0x80, int80_h, 0xee
        IDTGATE 0x82, int80_h, 0x6e             ; not present
        IDTGATE 0x83, int80_h, 0xe0             ; reserved system type 0
        IDTGATE 0x84, flag_h, 0x8f              ; trap gate
        IDTGATE 0x85, flag_h, 0x8e              ; interrupt gate

        ; ---- null selectors ----
        xor eax, eax
        mov ds, ax                      ; loading a null selector is fine...
        TRY .r_null
        mov eax, [ds:SCRATCH]           ; ...using it is not
.r_null:
        mov ax, SEL_DATA0
        mov ds, ax
        EXPECT_FAULT 13, 0, 'access through null DS: #GP(0)'
        mov ax, 3
        mov es, ax
        mov ax, es
        movzx eax, ax
        EXPECT eax, 3, 'null selector with RPL 3 loads into ES'
        mov ax, SEL_DATA0
        mov es, ax
        TRY .r_nullss
        xor eax, eax
        mov ss, ax
.r_nullss:
        EXPECT_FAULT 13, 0, 'mov ss, null: #GP(0)'

        ; ---- table limits and presence ----
        TRY .r_lim
        mov ax, GDT_ENTRIES * 8
        mov ds, ax
.r_lim: EXPECT_FAULT 13, GDT_ENTRIES * 8, 'selector beyond GDT limit: #GP(sel)'
        TRY .r_np
        mov ax, NP_DATA
        mov ds, ax
.r_np:  EXPECT_FAULT 11, NP_DATA, 'not-present data segment: #NP(sel)'
        TRY .r_npss
        mov ax, NP_DATA
        mov ss, ax
.r_npss:
        EXPECT_FAULT 12, NP_DATA, 'not-present stack segment: #SS(sel)'

        ; ---- types ----
        TRY .r_ross
        mov ax, RO_DATA
        mov ss, ax
.r_ross:
        EXPECT_FAULT 13, RO_DATA, 'read-only data into SS: #GP(sel)'
        mov ax, RO_DATA
        mov fs, ax
        mov eax, [fs:SCRATCH]
        TRY .r_row
        mov [fs:SCRATCH], eax
.r_row: EXPECT_FAULT 13, 0, 'write to read-only data: #GP(0)'
        TRY .r_xods
        mov ax, XO_CODE
        mov fs, ax
.r_xods:
        EXPECT_FAULT 13, XO_CODE, 'execute-only code into DS: #GP(sel)'
        mov ax, RX_CODE
        mov fs, ax
        mov dword [SCRATCH], 0x1234abcd
        EXPECT dword [fs:SCRATCH], 0x1234abcd, 'read through readable code segment'
        TRY .r_rxw
        mov [fs:SCRATCH], eax
.r_rxw: EXPECT_FAULT 13, 0, 'write through code segment: #GP(0)'
        TRY .r_cscode
        mov ax, SEL_CODE0
        mov ss, ax
.r_cscode:
        EXPECT_FAULT 13, SEL_CODE0, 'code segment into SS: #GP(sel)'
        jmp XO_CODE:.in_xo
.in_xo: TRY .r_xo
        mov eax, [cs:SCRATCH]
.r_xo:  jmp SEL_CODE0:.out_xo
.out_xo:
        EXPECT_FAULT 13, 0, 'read through execute-only CS: #GP(0)'
        jmp RX_CODE:.in_rx
.in_rx: mov eax, [cs:SCRATCH]
        mov [t1], eax
        TRY .r_rx
        mov [cs:SCRATCH], eax
.r_rx:  jmp SEL_CODE0:.out_rx
.out_rx:
        EXPECT [t1], 0x1234abcd, 'read through readable CS'
        EXPECT_FAULT 13, 0, 'write through CS: #GP(0)'
        mov ax, SEL_DATA0
        mov fs, ax

        ; ---- privilege of data segments ----
        TRY .r_rpl
        mov ax, SEL_DATA0 | 3
        mov gs, ax
.r_rpl: EXPECT_FAULT 13, SEL_DATA0, 'RPL 3 selector for a DPL 0 segment: #GP(sel)'
        mov ax, DATA_DPL1
        mov gs, ax
        mov ax, gs
        movzx eax, ax
        EXPECT eax, DATA_DPL1, 'DPL 1 data loads at CPL 0'
        TRY .r_rpl2
        mov ax, DATA_DPL1 | 2
        mov gs, ax
.r_rpl2:
        EXPECT_FAULT 13, DATA_DPL1, 'RPL 2 selector for a DPL 1 segment: #GP(sel)'
        TRY .r_ssdpl
        mov ax, DATA_DPL1 | 1
        mov ss, ax
.r_ssdpl:
        EXPECT_FAULT 13, DATA_DPL1, 'SS with DPL != CPL: #GP(sel)'
        TRY .r_ssrpl
        mov ax, SEL_DATA0 | 1
        mov ss, ax
.r_ssrpl:
        EXPECT_FAULT 13, SEL_DATA0, 'SS with RPL != CPL: #GP(sel)'
        mov ax, SEL_DATA0
        mov gs, ax
        TRY .r_sysds
        mov ax, SEL_TSS
        mov ds, ax
.r_sysds:
        EXPECT_FAULT 13, SEL_TSS, 'system descriptor into DS: #GP(sel)'

        ; ---- LDT ----
        mov ax, LDT_SEL
        lldt ax
        mov dword [SCRATCH + 0x100], 0x600dda7a
        mov ax, 0x0c
        mov fs, ax
        EXPECT dword [fs:0], 0x600dda7a, 'LDT data segment reads at its base'
        sldt ax
        movzx eax, ax
        EXPECT eax, LDT_SEL, 'sldt returns the LDT selector'
        TRY .r_ldtlim
        mov ax, 0x1c
        mov fs, ax
.r_ldtlim:
        EXPECT_FAULT 13, 0x1c, 'selector beyond LDT limit: #GP(sel)'
        TRY .r_lldtnp
        mov ax, LDT_NP
        lldt ax
.r_lldtnp:
        EXPECT_FAULT 11, LDT_NP, 'lldt of a not-present LDT: #NP(sel)'
        TRY .r_lldtty
        mov ax, SEL_DATA0
        lldt ax
.r_lldtty:
        EXPECT_FAULT 13, SEL_DATA0, 'lldt of a data segment: #GP(sel)'
        xor eax, eax
        lldt ax
        mov ax, SEL_DATA0
        mov fs, ax
        TRY .r_noldt
        mov ax, 0x0c
        mov fs, ax
.r_noldt:
        EXPECT_FAULT 13, 0x0c, 'LDT selector with a null LDTR: #GP(sel)'
        mov ax, LDT_SEL
        lldt ax

        ; ---- limits: expand-up ----
        mov ax, EU_DATA
        mov fs, ax
        mov eax, [fs:0xffc]
        mov al, [fs:0xfff]
        PASS 'expand-up: last bytes within the limit'
        TRY .r_eu1
        mov eax, [fs:0xffd]
.r_eu1: EXPECT_FAULT 13, 0, 'expand-up: dword straddling the limit: #GP(0)'
        TRY .r_eu2
        mov al, [fs:0x1000]
.r_eu2: EXPECT_FAULT 13, 0, 'expand-up: byte past the limit: #GP(0)'
        mov ax, G_DATA
        mov fs, ax
        mov al, [fs:0xffff]
        TRY .r_g
        mov al, [fs:0x10000]
.r_g:   EXPECT_FAULT 13, 0, 'page-granular limit: byte past limit*4096+0xfff: #GP(0)'

        ; ---- limits: expand-down ----
        mov ax, ED_DATA32
        mov fs, ax
        mov dword [SCRATCH + 0x1000], 0x11223344
        EXPECT dword [fs:0x1000], 0x11223344, 'expand-down: limit+1 is valid'
        mov dword [SCRATCH - 4], 0x55667788
        EXPECT dword [fs:0xfffffffc], 0x55667788, 'expand-down (B=1): top dword valid'
        TRY .r_ed1
        mov al, [fs:0xfff]
.r_ed1: EXPECT_FAULT 13, 0, 'expand-down: offset at the limit: #GP(0)'
        TRY .r_ed2
        mov eax, [fs:0xfffffffd]
.r_ed2: EXPECT_FAULT 13, 0, 'expand-down (B=1): dword past 4 GiB: #GP(0)'
        TRY .r_ed3
        mov eax, [fs:0xffe]
.r_ed3: EXPECT_FAULT 13, 0, 'expand-down: dword straddling the limit: #GP(0)'
        mov ax, ED_DATA16
        mov fs, ax
        mov dword [SCRATCH + 0xfffc], 0x99aabbcc
        EXPECT dword [fs:0xfffc], 0x99aabbcc, 'expand-down (B=0): top dword below 64 KiB valid'
        TRY .r_ed4
        mov eax, [fs:0xfffd]
.r_ed4: EXPECT_FAULT 13, 0, 'expand-down (B=0): dword past 64 KiB: #GP(0)'
        TRY .r_ed5
        mov al, [fs:0x10000]
.r_ed5: EXPECT_FAULT 13, 0, 'expand-down (B=0): offset 0x10000: #GP(0)'
        mov ax, SEL_DATA0
        mov fs, ax

        ; ---- conforming code from ring 0 ----
        TRY .r_conf3
        call CONF_CODE3:conf_target
.r_conf3:
        EXPECT_FAULT 13, CONF_CODE3, 'call to conforming code with DPL > CPL: #GP(sel)'

        ; ---- LAR / LSL / VERR / VERW / ARPL at ring 0 ----
        mov eax, 0xffffffff
        lar eax, [lar_sel_code0]
        EXPECT_ZF 1, 'lar ring 0 code: ZF=1'
        mov eax, 0
        mov ax, SEL_CODE0
        lar eax, ax
        and eax, 0x00f0ff00
        EXPECT eax, 0x00c09b00, 'lar returns type, DPL, P, D, G'
        mov ax, SEL_TSS
        lar eax, ax
        and eax, 0x00f0ff00
        EXPECT eax, 0x00008b00, 'lar of the busy TSS'
        mov ax, CGATE3
        lar eax, ax
        EXPECT_ZF 1, 'lar of a call gate: ZF=1'
        mov ax, BOGUS_SYS
        lar eax, ax
        EXPECT_ZF 0, 'lar of an interrupt-gate type in the GDT: ZF=0'
        xor eax, eax
        lar eax, ax
        EXPECT_ZF 0, 'lar of the null selector: ZF=0'
        mov ax, GDT_ENTRIES * 8
        lar eax, ax
        EXPECT_ZF 0, 'lar beyond the GDT limit: ZF=0'
        mov ax, SEL_DATA0 | 3
        lar eax, ax
        EXPECT_ZF 0, 'lar with RPL > DPL: ZF=0'
        mov ax, SEL_DATA0
        lsl eax, ax
        EXPECT eax, 0xffffffff, 'lsl of a page-granular flat segment'
        mov ax, EU_DATA
        lsl ebx, ax
        EXPECT ebx, 0xfff, 'lsl of a byte-granular segment'
        mov ax, SEL_TSS
        lsl ebx, ax
        EXPECT ebx, TSS_LIMIT, 'lsl of the TSS'
        mov ebx, 0x5555
        mov ax, CGATE3
        lsl ebx, ax
        EXPECT_ZF 0, 'lsl of a call gate: ZF=0'
        EXPECT ebx, 0x5555, 'lsl failure leaves the destination'
        mov ax, XO_CODE
        verr ax
        EXPECT_ZF 0, 'verr execute-only code: ZF=0'
        mov ax, RX_CODE
        verr ax
        EXPECT_ZF 1, 'verr readable code: ZF=1'
        mov ax, RO_DATA
        verw ax
        EXPECT_ZF 0, 'verw read-only data: ZF=0'
        mov ax, SEL_DATA0
        verw ax
        EXPECT_ZF 1, 'verw writable data: ZF=1'
        mov ax, RX_CODE
        verw ax
        EXPECT_ZF 0, 'verw code: ZF=0'
        mov ax, SEL_TSS
        verr ax
        EXPECT_ZF 0, 'verr system segment: ZF=0'
        xor eax, eax
        verr ax
        EXPECT_ZF 0, 'verr null: ZF=0'
        mov ax, SEL_DATA0
        mov bx, SEL_DATA3
        arpl ax, bx
        pushfd
        movzx eax, ax
        EXPECT eax, SEL_DATA0 | 3, 'arpl raises RPL'
        popfd
        EXPECT_ZF 1, 'arpl sets ZF when it adjusts'
        mov ax, SEL_DATA3
        mov bx, SEL_DATA0
        arpl ax, bx
        EXPECT_ZF 0, 'arpl clears ZF otherwise'

        ; ---- accessed bits and busy TSS ----
        DESCR FRESH_DATA, 0, 0xfffff, 0x92, 0xc0
        DESCR FRESH_CODE, 0, 0xfffff, 0x9a, 0xc0
        mov ax, FRESH_DATA
        mov fs, ax
        movzx eax, byte [gdt + FRESH_DATA + 5]
        EXPECT eax, 0x93, 'loading a data segment sets its accessed bit'
        mov byte [gdt + FRESH_DATA + 5], 0x92
        mov ax, FRESH_DATA
        mov ss, ax
        movzx eax, byte [gdt + FRESH_DATA + 5]
        EXPECT eax, 0x93, 'loading SS sets the accessed bit'
        mov ax, SEL_DATA0
        mov ss, ax
        mov fs, ax
        jmp FRESH_CODE:.fresh
.fresh: jmp SEL_CODE0:.fresh_back
.fresh_back:
        movzx eax, byte [gdt + FRESH_CODE + 5]
        EXPECT eax, 0x9b, 'far jmp sets the code segment accessed bit'
        TRY .r_ltrbusy
        mov ax, SEL_TSS
        ltr ax
.r_ltrbusy:
        EXPECT_FAULT 13, SEL_TSS, 'ltr of a busy TSS: #GP(sel)'

        ; ---- CS limit ----
        mov ecx, cslim_last + 2
        DESCR CSLIM, 0, ecx, 0x9a, 0x40
        TRY cslim_recover
        jmp CSLIM:cslim_start
cslim_back:
        EXPECT_FAULT 13, 0, 'instruction straddling the CS limit: #GP(0)'
        EXPECT [fault_eip], cslim_last, 'CS limit fault points at the instruction'
        EXPECT [fault_cs], CSLIM, 'CS limit fault pushes the limited CS'
        TRY cslim_recover
        jmp CSLIM:cslim_jmp
cslim_back2:
        EXPECT_FAULT 13, 0, 'near jmp beyond the CS limit: #GP(0)'
        EXPECT [fault_eip], cslim_jmp, 'jmp beyond the CS limit faults at the jmp'
        TRY .r_farlim
        jmp CSLIM:cslim_last + 8
.r_farlim:
        EXPECT_FAULT 13, 0, 'far jmp to an offset beyond the limit: #GP(0)'

        ; ---- code segment with a non-zero base ----
        DESCR BASED_CODE, 0x1000, 0xfffff, 0x9a, 0x40
        call BASED_CODE:based_fn - 0x1000
        EXPECT [t1], based_next - 0x1000, 'call in a based code segment pushes the offset'

        ; ---- gate targets ----
        DESCR NP_CODE, 0, 0xfffff, 0x1a, 0xc0
        mov eax, 0x87
        mov ebx, int80_h
        mov ecx, NP_CODE
        mov dl, 0x8e
        call set_gate
        mov eax, 0x88
        mov ebx, int80_h
        mov ecx, SEL_DATA0
        mov dl, 0x8e
        call set_gate
        TRY .r_gnp
        int 0x87
.r_gnp: EXPECT_FAULT 11, NP_CODE, 'gate to a not-present code segment: #NP(sel)'
        TRY .r_gdata
        int 0x88
.r_gdata:
        EXPECT_FAULT 13, SEL_DATA0, 'gate to a data segment: #GP(sel)'
        TRY .r_ext
        mov al, 0x82
        out 0xf0, al
        sti
        mov ecx, 100
.ext_wait:
        dec ecx
        jnz .ext_wait
.r_ext: cli
        EXPECT_FAULT 11, 0x82 * 8 + 3, 'external interrupt through a not-present gate: #NP with EXT'
        mov al, 0
        out 0xf2, al

        IDTGATE 0x86, int86_h, 0x86
        call int86_test
        mov eax, [t2]
        sub eax, [t1]
        EXPECT eax, 6, '16-bit interrupt gate pushes a 6-byte frame'

        ; ---- IRET checks ----
        TRY .r_iret1
        push dword SEL_DATA3
        push dword STACK3_TOP
        push dword 2
        push dword SEL_CODE0 | 3
        push dword .r_iret1
        iretd
.r_iret1:
        EXPECT_FAULT 13, SEL_CODE0, 'iret to RPL 3 with a DPL 0 code segment: #GP(sel)'
        add esp, 20
        TRY .r_iret2
        push dword SEL_DATA0 | 3
        push dword STACK3_TOP
        push dword 2
        push dword SEL_CODE3
        push dword .r_iret2
        iretd
.r_iret2:
        EXPECT_FAULT 13, SEL_DATA0, 'iret to ring 3 with a DPL 0 stack: #GP(ss)'
        add esp, 20
        TRY .r_iret3
        push dword SEL_DATA3 & ~3
        push dword STACK3_TOP
        push dword 2
        push dword SEL_CODE3
        push dword .r_iret3
        iretd
.r_iret3:
        EXPECT_FAULT 13, SEL_DATA3 & ~3, 'iret to ring 3 with SS RPL != CS RPL: #GP(ss)'
        add esp, 20

        ; ---- control registers ----
        TRY .r_cr4
        mov eax, cr4
        or eax, 1                       ; VME: not offered by CPUID
        mov cr4, eax
.r_cr4: EXPECT_FAULT 13, 0, 'cr4.VME (not in CPUID) cannot be set: #GP(0)'
        TRY .r_cr0pg
        mov eax, cr0
        and eax, ~1
        or eax, 0x80000000
        mov cr0, eax
.r_cr0pg:
        EXPECT_FAULT 13, 0, 'cr0 with PG=1 and PE=0: #GP(0)'
        TRY .r_cr0nw
        mov eax, cr0
        and eax, ~(1 << 30)
        or eax, 1 << 29
        mov cr0, eax
.r_cr0nw:
        EXPECT_FAULT 13, 0, 'cr0 with NW=1 and CD=0: #GP(0)'
        xor eax, eax
        lmsw ax
        smsw eax
        and eax, 1
        EXPECT eax, 1, 'lmsw cannot clear PE'

        ; ---- debug register aliases ----
        mov eax, 0x0f
        mov dr6, eax
        mov eax, dr4
        mov ebx, dr6
        EXPECT eax, ebx, 'dr4 reads dr6 while CR4.DE is clear'
        TRY .r_de
        mov eax, cr4
        or eax, 1 << 3
        mov cr4, eax
.r_de:  EXPECT_FAULT 13, 0, 'cr4.DE (not in CPUID) cannot be set: #GP(0)'
        TRY .r_mce
        mov eax, cr4
        or eax, 1 << 6
        mov cr4, eax
.r_mce: EXPECT_FAULT 13, 0, 'cr4.MCE (not in CPUID) cannot be set: #GP(0)'
        TRY .r_xmm
        mov eax, cr4
        or eax, 1 << 10
        mov cr4, eax
.r_xmm: EXPECT_FAULT 13, 0, 'cr4.OSXMMEXCPT (no SSE in CPUID) cannot be set: #GP(0)'
        mov eax, cr4
        or eax, (1 << 4) | (1 << 5) | (1 << 7) | (1 << 9)
        mov cr4, eax
        mov ebx, cr4
        and eax, ~((1 << 4) | (1 << 5) | (1 << 7) | (1 << 9))
        mov cr4, eax
        EXPECT ebx, (1 << 4) | (1 << 5) | (1 << 7) | (1 << 9), 'cr4 PSE, PAE, PGE, OSFXSR (in CPUID) can be set'

        ; ---- the descriptor cache keeps a loaded segment until it is reloaded ----
        DESCR FRESH_DATA, SCRATCH, 0xfffff, 0x92, 0x40
        mov ax, FRESH_DATA
        mov fs, ax
        mov dword [SCRATCH + 0x40], 0x0cac4ed0
        DESCR FRESH_DATA, 0, 0xfffff, 0x92, 0x40
        EXPECT dword [fs:0x40], 0x0cac4ed0, 'changing a descriptor does not change a loaded segment'
        mov ax, FRESH_DATA
        mov fs, ax
        mov ebx, [fs:SCRATCH + 0x40]
        mov ax, SEL_DATA0
        mov fs, ax
        EXPECT ebx, 0x0cac4ed0, 'reloading the selector picks up the new descriptor'

        ; ---- interrupt vs trap gate (ring 0) ----
        sti
        int 0x84
        cli
        mov eax, [handler_efl]
        and eax, EFL_IF
        EXPECT eax, EFL_IF, 'trap gate leaves IF set'
        sti
        int 0x85
        cli
        mov eax, [handler_efl]
        and eax, EFL_IF
        EXPECT eax, 0, 'interrupt gate clears IF'
        TRY .r_idtnp
        int 0x82
.r_idtnp:
        EXPECT_FAULT 11, 0x82 * 8 + 2, 'int n through a not-present gate: #NP(vector*8+2)'
        TRY .r_idtty
        int 0x83
.r_idtty:
        EXPECT_FAULT 13, 0x83 * 8 + 2, 'int n through a bad gate type: #GP(vector*8+2)'
        mov word [small_idt], 0x90 * 8 - 1
        lidt [small_idt]
        TRY .r_idtlim
        int 0x90
.r_idtlim:
        lidt [idt_desc]
        EXPECT_FAULT 13, 0x90 * 8 + 2, 'int n beyond the IDT limit: #GP(vector*8+2)'

        ; ---- POPF at ring 0 may change IOPL ----
        pushfd
        push dword EFL_IOPL | 2
        popfd
        pushfd
        pop eax
        popfd
        and eax, EFL_IOPL
        EXPECT eax, EFL_IOPL, 'popf at CPL 0 changes IOPL'

        ; ---- SYSENTER setup ----
        mov ecx, 0x174
        xor edx, edx
        mov eax, SEL_CODE0
        wrmsr
        mov ecx, 0x175
        mov eax, 0x6d000
        wrmsr
        mov ecx, 0x176
        mov eax, sysenter_entry
        wrmsr
        mov ecx, 0x174
        rdmsr
        EXPECT eax, SEL_CODE0, 'rdmsr SYSENTER_CS'
        mov eax, 0x3ff
        call io_allow

        ; ring 1: code, stack in the TSS, a call gate and an interrupt gate leading there
        DESCR CODE_DPL1, 0, 0xfffff, 0xba, 0xc0
        DESCR DATA1_SMALL, SCRATCH, 0xf, 0xb2, 0x40
        CALLGATE CGATE_R1, CODE_DPL1, ring1_target, 0xec, 0
        mov eax, 0x8b
        mov ebx, ring1_int_h
        mov ecx, CODE_DPL1
        mov dl, 0xee
        call set_gate
        mov eax, 0x8a
        mov ebx, conf_int_h
        mov ecx, CONF_CODE0
        mov dl, 0xee
        call set_gate
        mov dword [TSS_BASE + 0x0c], RING1_STACK
        mov dword [TSS_BASE + 0x10], DATA_DPL1 | 1

        ; ================= ring 3, IF=1, IOPL=0 =================
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov ax, SEL_DATA3
        mov fs, ax
        mov ax, CONF_CODE0
        mov gs, ax
        GO_RING3F r3_a, EFL_IF

r3_a:
        mov ax, ds
        mov bx, es
        mov cx, fs
        mov dx, gs
        mov si, SEL_DATA3
        mov ds, si
        mov es, si
        movzx eax, ax
        EXPECT eax, 0, 'iret to ring 3 nulls DS holding DPL 0 data'
        movzx eax, bx
        EXPECT eax, 0, 'iret to ring 3 nulls ES holding DPL 0 data'
        movzx eax, cx
        EXPECT eax, SEL_DATA3, 'iret to ring 3 keeps DPL 3 data'
        movzx eax, dx
        EXPECT eax, CONF_CODE0, 'iret to ring 3 keeps conforming code'
        mov ebx, esp
        EXPECT ebx, STACK3_TOP, 'iret to ring 3 loads ESP'
        mov ax, cs
        movzx eax, ax
        EXPECT eax, SEL_CODE3, 'iret to ring 3 loads CS'
        mov ax, ss
        movzx eax, ax
        EXPECT eax, SEL_DATA3, 'iret to ring 3 loads SS'
        pushfd
        pop eax
        and eax, EFL_IF | EFL_IOPL
        EXPECT eax, EFL_IF, 'iret to ring 3 loads EFLAGS (IF=1, IOPL=0)'

        ; ---- privileged and IOPL-sensitive instructions ----
        PRIV 'cli at CPL 3, IOPL 0: #GP(0)', cli
        EXPECT_FRAME 24, '#GP from ring 3 pushes an error code (24-byte frame)'
        PRIV 'sti at CPL 3, IOPL 0: #GP(0)', sti
        PRIV 'hlt at CPL 3: #GP(0)', hlt
        PRIV 'mov from cr0 at CPL 3: #GP(0)', mov eax, cr0
        PRIV 'mov to cr3 at CPL 3: #GP(0)', mov cr3, eax
        PRIV 'lgdt at CPL 3: #GP(0)', lgdt [small_idt]
        PRIV 'lidt at CPL 3: #GP(0)', lidt [small_idt]
        PRIV 'lldt at CPL 3: #GP(0)', lldt ax
        PRIV 'ltr at CPL 3: #GP(0)', ltr ax
        PRIV 'clts at CPL 3: #GP(0)', clts
        PRIV 'rdmsr at CPL 3: #GP(0)', rdmsr
        PRIV 'wrmsr at CPL 3: #GP(0)', wrmsr
        PRIV 'invlpg at CPL 3: #GP(0)', invlpg [0]
        PRIV 'mov to dr7 at CPL 3: #GP(0)', mov dr7, eax
        PRIV 'sysexit at CPL 3: #GP(0)', sysexit
        sgdt [t5]
        movzx eax, word [t5]
        EXPECT eax, GDT_ENTRIES * 8 - 1, 'sgdt works at CPL 3'
        pushfd
        and dword [esp], ~EFL_IF
        popfd
        pushfd
        pop eax
        and eax, EFL_IF
        EXPECT eax, EFL_IF, 'popf at CPL 3, IOPL 0 leaves IF alone'
        push dword EFL_IOPL | EFL_IF | 2
        popfd
        pushfd
        pop eax
        and eax, EFL_IOPL
        EXPECT eax, 0, 'popf at CPL 3 leaves IOPL alone'

        ; ---- LAR / VERR / VERW at ring 3 ----
        mov ax, SEL_CODE0
        lar eax, ax
        EXPECT_ZF 0, 'lar at CPL 3 of DPL 0 code: ZF=0'
        mov ax, CONF_CODE0
        lar eax, ax
        EXPECT_ZF 1, 'lar at CPL 3 of conforming DPL 0 code: ZF=1'
        mov ax, SEL_DATA0
        verr ax
        EXPECT_ZF 0, 'verr at CPL 3 of DPL 0 data: ZF=0'
        mov ax, SEL_DATA3
        verr ax
        EXPECT_ZF 1, 'verr at CPL 3 of DPL 3 data: ZF=1'
        mov ax, SEL_DATA3
        verw ax
        EXPECT_ZF 1, 'verw at CPL 3 of DPL 3 data: ZF=1'
        mov ax, CONF_CODE0
        verr ax
        EXPECT_ZF 1, 'verr at CPL 3 of conforming readable code: ZF=1'

        ; ---- INT n from ring 3 ----
        int 0x80
        EXPECT [t1], STACK0_TOP - 20, 'int 0x80 from ring 3 switches to SS0:ESP0 (20-byte frame)'
        EXPECT [t2], SEL_CODE3, 'int from ring 3 pushes the ring 3 CS'
        EXPECT [t3], SEL_CODE0, 'int from ring 3 runs at CPL 0'
        mov eax, [handler_efl]
        and eax, EFL_IF
        EXPECT eax, 0, 'interrupt gate from ring 3 clears IF'
        TRY .r_i81
        int 0x81
.r_i81: EXPECT_FAULT 13, 0x81 * 8 + 2, 'int n through a DPL 0 gate from ring 3: #GP(vector*8+2)'
        TRY .r_i3
        int3
.r_i3:  EXPECT_FAULT 13, 3 * 8 + 2, 'int3 through a DPL 0 gate from ring 3: #GP(0x1a)'
        TRY .r_icd3
        db 0xcd, 3
.r_icd3:
        EXPECT_FAULT 13, 3 * 8 + 2, 'int 3 (CD 03) through a DPL 0 gate: #GP(0x1a)'
        TRY .r_into
        mov al, 0x7f
        add al, 1
        into
.r_into:
        EXPECT_FAULT 13, 4 * 8 + 2, 'into through a DPL 0 gate from ring 3: #GP(0x22)'

        TRY .r_icebp
        db 0xf1
.r_icebp:
        EXPECT [fault_vec], 1, 'icebp (F1) from ring 3 ignores the gate DPL: #DB'
        EXPECT [fault_eip], .r_icebp, 'icebp is a trap'

        ; ---- exceptions ignore gate DPL; which ones push an error code ----
        TRY .r_ud
        ud2
.r_ud:  EXPECT [fault_vec], 6, 'ud2 at ring 3 through a DPL 0 gate: #UD'
        EXPECT_FRAME 20, '#UD pushes no error code (20-byte frame)'
        TRY .r_de
        xor ecx, ecx
        div ecx
.r_de:  EXPECT [fault_vec], 0, 'divide by zero: #DE'
        EXPECT_FRAME 20, '#DE pushes no error code'
        TRY .r_br
        mov eax, 100
        bound eax, [bounds]
.r_br:  EXPECT [fault_vec], 5, 'bound: #BR'
        EXPECT_FRAME 20, '#BR pushes no error code'
        TRY .r_np3
        mov ax, NP_DATA3 | 3
        mov ds, ax
.r_np3: EXPECT_FAULT 11, NP_DATA3, 'not-present DPL 3 data at ring 3: #NP(sel)'
        EXPECT_FRAME 24, '#NP pushes an error code'
        TRY .r_ss
        mov ax, ED_STACK3 | 3
        mov ss, ax
        mov esp, 0x6b008
        push eax
        push eax
        push eax
.r_ss:  mov ebx, esp
        mov ax, SEL_DATA3
        mov ss, ax
        mov esp, STACK3_TOP
        EXPECT_FAULT 12, 0, 'push below an expand-down stack limit: #SS(0)'
        EXPECT_FRAME 24, '#SS pushes an error code'
        EXPECT [fault_uesp], 0x6b000, '#SS: the faulting push did not move ESP'
        EXPECT ebx, 0x6b000, '#SS: resumes with the ring 3 ESP from the frame'

        ; ---- far calls, conforming code, call gates ----
        call CONF_CODE0:conf_target
        EXPECT [t1], CONF_CODE0 | 3, 'far call to conforming DPL 0 code keeps CPL 3'
        jmp CONF_CODE0:.cj
.cj:    mov ax, cs
        jmp SEL_CODE3:.cj_back
.cj_back:
        movzx eax, ax
        EXPECT eax, CONF_CODE0 | 3, 'far jmp to conforming code keeps CPL 3'
        TRY .r_nc
        call SEL_CODE0:conf_target
.r_nc:  EXPECT_FAULT 13, SEL_CODE0, 'far call from ring 3 to DPL 0 code: #GP(sel)'

        mov [saved_esp], esp
        push dword 0x2222
        push dword 0x1111
        call CGATE3 | 3:0
        mov ebx, esp
        mov ax, ds
        mov cx, es
        mov dx, fs
        mov si, gs
        mov di, SEL_DATA3
        mov ds, di
        movzx eax, ax
        EXPECT eax, 0, 'retf to ring 3 nulls DS holding DPL 0 data'
        movzx eax, cx
        EXPECT eax, SEL_DATA3, 'retf to ring 3 keeps DPL 3 data'
        movzx eax, dx
        EXPECT eax, CONF_CODE0, 'retf to ring 3 keeps conforming code'
        movzx eax, si
        EXPECT eax, 0, 'retf to ring 3 nulls GS holding DPL 0 data'
        EXPECT ebx, [saved_esp], 'retf 8 to ring 3 drops the parameters from the outer stack'
        EXPECT [t1], STACK0_TOP - 24, 'call gate: inner stack from the TSS, 24-byte frame'
        EXPECT [t2], 0x1111, 'call gate copies parameter 1'
        EXPECT [t3], 0x2222, 'call gate copies parameter 2'
        EXPECT [t4], SEL_CODE3, 'call gate pushes the caller CS'
        EXPECT [t5], SEL_DATA3, 'call gate pushes the caller SS'
        EXPECT [t6], SEL_CODE0, 'call gate runs the target at CPL 0'
        EXPECT [t7], SEL_DATA0, 'call gate loads SS0'
        mov ax, cs
        movzx eax, ax
        EXPECT eax, SEL_CODE3, 'retf returns to ring 3 CS'

        mov ebx, esp
        call CGATE_CONF | 3:0
        EXPECT [t1], CONF_CODE0 | 3, 'call gate to conforming code keeps CPL 3'
        sub ebx, 8
        EXPECT [t2], ebx, 'call gate without privilege change stays on the ring 3 stack'

        call CGATE_R1 | 3:0
        EXPECT [t1], CODE_DPL1 | 1, 'call gate from ring 3 to ring 1 code runs at CPL 1'
        EXPECT [t2], DATA_DPL1 | 1, 'call gate to ring 1 loads SS1 from the TSS'
        EXPECT [t3], RING1_STACK - 16, 'call gate to ring 1 uses ESP1'
        int 0x8b
        EXPECT [t1], CODE_DPL1 | 1, 'int from ring 3 through a gate to ring 1 code runs at CPL 1'
        EXPECT [t3], RING1_STACK - 20, 'int to ring 1 switches to SS1:ESP1'
        mov ebx, esp
        int 0x8a
        EXPECT [t1], CONF_CODE0 | 3, 'int to a conforming handler keeps CPL 3'
        sub ebx, 12
        EXPECT [t2], ebx, 'int to a conforming handler stays on the ring 3 stack'

        call cg16_test
        EXPECT [t4], 0x6f00, '16-bit call gate: retf 2 restores SP'
        EXPECT [t1], 0x4321, '16-bit call gate copies a word parameter'
        EXPECT [t2], SEL_CODE3, '16-bit call gate pushes the caller CS'
        EXPECT [t3], 10, '16-bit call gate pushes 16-bit words'

        TRY .r_cg0
        call CGATE0 | 3:0
.r_cg0: EXPECT_FAULT 13, CGATE0, 'call gate with DPL 0 from ring 3: #GP(gate)'
        TRY .r_cgnp
        call CGATE_NP | 3:0
.r_cgnp:
        EXPECT_FAULT 11, CGATE_NP, 'not-present call gate: #NP(gate)'
        TRY .r_cgj
        jmp CGATE3 | 3:0
.r_cgj: EXPECT_FAULT 13, SEL_CODE0, 'jmp through a call gate to more privileged code: #GP(target)'
        TRY .r_inner
        push dword SEL_CODE0
        push dword .r_inner
        retf
.r_inner:
        EXPECT_FAULT 13, SEL_CODE0, 'retf to an inner ring: #GP(sel)'
        add esp, 8

        ; ---- I/O permission bitmap ----
        in al, 0x70
        PASS 'in from a port allowed by the bitmap'
        mov dx, 0x3ff
        in al, dx
        PASS 'in from the last port of the bitmap'
        TRY .r_io1
        in al, 0x80
.r_io1: EXPECT_FAULT 13, 0, 'in from a port denied by the bitmap: #GP(0)'
        TRY .r_io2
        in ax, 0x70
.r_io2: EXPECT_FAULT 13, 0, 'word in where the second port is denied: #GP(0)'
        TRY .r_io3
        mov dx, 0x400
        in al, dx
.r_io3: EXPECT_FAULT 13, 0, 'port beyond the bitmap (TSS limit): #GP(0)'
        mov esi, outs_line
        mov ecx, outs_line_end - outs_line
        mov dx, 0xe9
        rep outsb
        TRY .r_io4
        mov edi, SCRATCH
        mov dx, 0x80
        insb
.r_io4: EXPECT_FAULT 13, 0, 'insb from a denied port: #GP(0)'

        ; ---- SYSENTER / SYSEXIT ----
        mov ecx, esp
        mov edx, .sysret
        sysenter
.sysret:
        mov ebx, esp
        mov si, cs
        mov di, ss
        pushfd
        pop ebp
        EXPECT [sysenter_seen], 1, 'sysenter reaches SYSENTER_EIP'
        EXPECT [t1], 0x6d000, 'sysenter loads ESP from SYSENTER_ESP'
        EXPECT [t2], SEL_CODE0, 'sysenter loads CS from SYSENTER_CS'
        EXPECT [t3], SEL_DATA0, 'sysenter loads SS = SYSENTER_CS + 8'
        mov eax, [t4]
        and eax, EFL_IF
        EXPECT eax, 0, 'sysenter clears IF'
        movzx eax, si
        EXPECT eax, SEL_CODE3, 'sysexit loads CS = SYSENTER_CS + 16 | 3'
        movzx eax, di
        EXPECT eax, SEL_DATA3, 'sysexit loads SS = SYSENTER_CS + 24 | 3'
        EXPECT ebx, ecx, 'sysexit loads ESP from ECX'
        and ebp, EFL_IF
        EXPECT ebp, 0, 'sysexit leaves EFLAGS alone'

        RING0 r0_b

; ---- ring 0 again: IOPL 3 at ring 3 ----
r0_b:
        GO_RING3F r3_b, EFL_IOPL
r3_b:
        mov ax, SEL_DATA3
        mov ds, ax
        mov es, ax
        in al, 0x80
        PASS 'in from a denied port with IOPL 3 at CPL 3'
        sti
        cli
        PASS 'cli/sti at CPL 3 with IOPL 3'
        pushfd
        or dword [esp], EFL_IF
        popfd
        pushfd
        pop eax
        and eax, EFL_IF
        EXPECT eax, EFL_IF, 'popf at CPL 3 with IOPL 3 changes IF'
        cli
        RING0 r0_c

; ---- ring 0: DPL 3 gates for INT3/INTO, SYSENTER disabled ----
r0_c:
        IDTGATE 3, isr_stubs + 3 * 32, 0xee
        IDTGATE 4, isr_stubs + 4 * 32, 0xee
        mov ecx, 0x174
        xor eax, eax
        xor edx, edx
        wrmsr
        mov eax, cr4
        or eax, 1 << 2                  ; TSD
        mov cr4, eax
        mov dword [TSS_BASE + 0x0c], 8
        mov dword [TSS_BASE + 0x10], DATA1_SMALL | 1
        GO_RING3 r3_c
r3_c:
        mov ax, SEL_DATA3
        mov ds, ax
        mov es, ax
        TRY .r_bp
        int3
.r_bp_next:
        nop
.r_bp:  EXPECT [fault_vec], 3, 'int3 through a DPL 3 gate: #BP'
        EXPECT [fault_eip], .r_bp_next, '#BP is a trap: EIP after int3'
        EXPECT_FRAME 20, '#BP pushes no error code'
        TRY .r_of
        mov al, 0x7f
        add al, 1
        into
.r_of_next:
        nop
.r_of:  EXPECT [fault_vec], 4, 'into with OF=1 through a DPL 3 gate: #OF'
        EXPECT [fault_eip], .r_of_next, '#OF is a trap: EIP after into'
        EXPECT_FRAME 20, '#OF pushes no error code'
        TRY .r_sysenter0
        sysenter
.r_sysenter0:
        EXPECT_FAULT 13, 0, 'sysenter with SYSENTER_CS = 0: #GP(0)'
        PRIV 'rdtsc at CPL 3 with CR4.TSD: #GP(0)', rdtsc
        TRY .r_ss1
        call CGATE_R1 | 3:0
.r_ss1: EXPECT_FAULT 12, DATA1_SMALL, 'call gate with no room on the inner stack: #SS(new SS)'
        TRY .r_ss1i
        int 0x8b
.r_ss1i:
        EXPECT_FAULT 12, DATA1_SMALL, 'interrupt with no room on the inner stack: #SS(new SS)'
        RING0 r0_done

r0_done:
        mov eax, cr4
        and eax, ~(1 << 2)
        mov cr4, eax
        rdtsc
        PASS 'rdtsc at CPL 0 with CR4.TSD'
        DONE


; Runs in CSLIM (limit = cslim_last + 2): the 5-byte mov straddles the limit.
cslim_recover:
        jmp SEL_CODE0:.next
.next:  cmp dword [fault_eip], cslim_jmp
        je cslim_back2
        jmp cslim_back
cslim_jmp:
        jmp cslim_far
cslim_start:
        nop
        nop
cslim_last:
        mov eax, 0x12345678
cslim_far:
        nop

; Runs in BASED_CODE (base 0x1000).
based_fn:
        call based_next
based_next:
        pop eax
        mov [t1], eax
        retf

        align 8
lar_sel_code0:  dw SEL_CODE0
small_idt:      dw 0
                dd IDT_BASE
bounds:         dd 0, 10
outs_line:      db 'PASS rep outsb to an allowed port', 10
outs_line_end:
