; Paging: 32-bit paging with 4 KiB and 4 MiB pages, then PAE with 2 MiB pages and NX. Accessed and
; dirty bits, CR0.WP, U/S and R/W combined across levels, #PF error codes and CR2, restarting a
; faulting instruction (and a REP string copy) after the handler maps the page, INVLPG (4 KiB, 4 MiB
; and global pages), CR3 reload, CR4.PGE, remapped and self-modified code.
%include "lib.inc"

        bits 16
main:
        ENTER_PM32
        jmp pm_main

PD32            equ 0x100000
PT_LOW          equ 0x101000
PT_TEST         equ 0x102000        ; maps TEST_LIN (user, writable PDE)
PDPT            equ 0x103000
PD_PAE0         equ 0x104000
PD_PAE1         equ 0x105000
PT_PAE          equ 0x106000
PT_TEST2        equ 0x107000        ; maps TEST2_LIN (supervisor PDE)
PT_TEST3        equ 0x108000        ; maps TEST3_LIN (read-only PDE)
TEST_LIN        equ 0x40000000
TEST2_LIN       equ 0x40400000
TEST3_LIN       equ 0x40800000
BIG_LIN         equ 0x41000000      ; a 4 MiB page
PHYS_A          equ 0x200000
PHYS_B          equ 0x201000
PHYS_C          equ 0x202000
PHYS_D          equ 0x203000
PHYS_E          equ 0x204000
PHYS_F          equ 0x205000
PHYS_G          equ 0x206000
PHYS_X          equ 0x207000
PHYS_Y          equ 0x208000
PHYS_4M         equ 0x800000
PHYS_4M2        equ 0xc00000
PHYS_2M         equ 0xa00000
PAE_LIN         equ 0x40000000      ; PDPTE 1 -> PD_PAE1; [0] -> PT_PAE, [1] -> 2 MiB page

P       equ 1
RW      equ 2
US      equ 4
ACC     equ 0x20
DIRTY   equ 0x40
PS      equ 0x80
PG_G  equ 0x100
CR0_PG  equ 0x80000000
CR0_WP  equ 1 << 16
CR4_PSE equ 1 << 4
CR4_PAE equ 1 << 5
CR4_PGE equ 1 << 7

%define PTE(pt, lin) (pt + (((lin) >> 12) & 0x3ff) * 4)
%define PDE(lin) (PD32 + ((lin) >> 22) * 4)

        align 4
hook_pte:       dd 0            ; the #PF hook writes hook_val there (once)
hook_val:       dd 0
hook_ecx:       dd 0
hook_esi:       dd 0
faults_before:  dd 0

; #PF hook: maps the page the handler was armed for, records ECX/ESI, and restarts the instruction.
pf_hook:
        cmp dword [ebp + F_VEC], 14
        jne isr_unexpected
        mov eax, [hook_pte]
        test eax, eax
        jz isr_unexpected
        mov ebx, [hook_val]
        mov [eax], ebx
        mov dword [hook_pte], 0
        mov eax, [ebp + F_ECX]
        mov [hook_ecx], eax
        mov eax, [ebp + 4]              ; ESI
        mov [hook_esi], eax
        ret

%macro EXPECT_PF 3+     ; error code, cr2, 'name'
        EXPECT [fault_vec], 14, %3, ' (vector)'
        EXPECT [fault_err], %1, %3, ' (error code)'
        EXPECT [fault_cr2], %2, %3, ' (cr2)'
%endmacro

pm_main:
        ; ---- 32-bit page tables ----
        mov edi, PD32
        mov ecx, 0x9000 / 4
        xor eax, eax
        rep stosd
        xor ecx, ecx
.low:   mov eax, ecx
        shl eax, 12
        or eax, P | RW | US
        mov [PT_LOW + ecx * 4], eax
        inc ecx
        cmp ecx, 1024
        jb .low
        mov dword [PD32], PT_LOW | P | RW | US
        mov ecx, 1
.big:   mov eax, ecx
        shl eax, 22
        or eax, P | RW | US | PS
        mov [PD32 + ecx * 4], eax
        inc ecx
        cmp ecx, 8
        jb .big
        mov dword [PDE(TEST_LIN)], PT_TEST | P | RW | US
        mov dword [PDE(TEST2_LIN)], PT_TEST2 | P | RW
        mov dword [PDE(TEST3_LIN)], PT_TEST3 | P | US
        ; page markers
        mov dword [PHYS_A], 0xaaaa0001
        mov dword [PHYS_B], 0xbbbb0002
        mov dword [PHYS_C], 0xcccc0003
        mov dword [PHYS_D + 0x10], 0xdddd0004
        mov dword [PHYS_4M], 0x44440004
        mov dword [PHYS_4M + 0x1000], 0x44441004
        mov dword [PHYS_4M2], 0x88880005
        mov dword [PHYS_4M2 + 0x1000], 0x88881005
        mov byte [PHYS_C + 0x100], 0xc3                 ; ret
        mov dword [PHYS_X], 0x000001b8                  ; mov eax, 1
        mov dword [PHYS_X + 4], 0x9090c300              ; ...; ret
        mov dword [PHYS_Y], 0x000002b8                  ; mov eax, 2
        mov dword [PHYS_Y + 4], 0x9090c300
        mov eax, PD32
        mov cr3, eax
        mov eax, cr4
        or eax, CR4_PSE
        mov cr4, eax
        mov eax, cr0
        or eax, CR0_PG
        mov cr0, eax
        jmp .paged
.paged: PASS 'paging enabled with an identity map'

        ; ---- accessed and dirty bits ----
        mov dword [PTE(PT_TEST, TEST_LIN)], PHYS_A | P | RW | US
        mov eax, [TEST_LIN]
        EXPECT eax, 0xaaaa0001, 'read through a 4 KiB page'
        EXPECT dword [PTE(PT_TEST, TEST_LIN)], PHYS_A | P | RW | US | ACC, 'read sets A (not D) in the PTE'
        EXPECT dword [PDE(TEST_LIN)], PT_TEST | P | RW | US | ACC, 'walk sets A in the PDE'
        mov dword [TEST_LIN + 4], 1
        EXPECT dword [PTE(PT_TEST, TEST_LIN)], PHYS_A | P | RW | US | ACC | DIRTY, 'write sets D in the PTE'
        EXPECT dword [PDE(TEST_LIN)], PT_TEST | P | RW | US | ACC, 'write leaves D clear in a PDE pointing to a table'
        mov dword [PDE(BIG_LIN)], PHYS_4M | P | RW | US | PS
        mov eax, [BIG_LIN + 0x1000]
        EXPECT eax, 0x44441004, 'read through a 4 MiB page'
        EXPECT dword [PDE(BIG_LIN)], PHYS_4M | P | RW | US | PS | ACC, '4 MiB page: read sets A only'
        mov [BIG_LIN + 8], eax
        EXPECT dword [PDE(BIG_LIN)], PHYS_4M | P | RW | US | PS | ACC | DIRTY, '4 MiB page: write sets D'

        ; ---- CR0.WP ----
        mov dword [PTE(PT_TEST, TEST_LIN + 0x1000)], PHYS_B | P | US
        mov dword [TEST_LIN + 0x1008], 0x55
        EXPECT dword [PHYS_B + 8], 0x55, 'WP=0: supervisor write to a read-only page succeeds'
        EXPECT dword [PTE(PT_TEST, TEST_LIN + 0x1000)], PHYS_B | P | US | ACC | DIRTY, 'WP=0: that write sets D'
        mov eax, cr0
        or eax, CR0_WP
        mov cr0, eax
        TRY .r_wp
        mov dword [TEST_LIN + 0x1008], 0x66
.r_wp:  EXPECT_PF P | RW, TEST_LIN + 0x1008, 'WP=1: supervisor write to a read-only page faults'
        EXPECT dword [PHYS_B + 8], 0x55, 'WP=1: the faulting write changed nothing'

        ; a write straddling a writable and a read-only page changes neither
        mov dword [PTE(PT_TEST, TEST_LIN + 0xb000)], PHYS_G | P | RW | US
        mov dword [PTE(PT_TEST, TEST_LIN + 0xc000)], PHYS_B | P | US
        mov dword [PHYS_G + 0xffc], 0x11223344
        TRY .r_split
        mov dword [TEST_LIN + 0xbffe], 0xaabbccdd
.r_split:
        EXPECT_PF P | RW, TEST_LIN + 0xc000, 'write straddling into a read-only page faults on the second page'
        EXPECT dword [PHYS_G + 0xffc], 0x11223344, 'the straddling write changed nothing on the first page'

        ; ---- supervisor faults ----
        TRY .r_np0
        mov eax, [TEST_LIN + 0x3004]
.r_np0: EXPECT_PF 0, TEST_LIN + 0x3004, 'supervisor read of a not-present page'
        TRY .r_np0w
        mov dword [TEST_LIN + 0x3ffe], eax
.r_np0w:
        EXPECT_PF RW, TEST_LIN + 0x3ffe, 'supervisor write of a not-present page'
        TRY .r_rmw
        add [TEST_LIN + 0x3008], eax
.r_rmw: EXPECT_PF RW, TEST_LIN + 0x3008, 'read-modify-write of a not-present page reports a write'
        mov dword [PTE(PT_TEST, TEST_LIN + 0x4000)], PHYS_D | P | RW | US
        TRY .r_cross
        mov eax, [TEST_LIN + 0x3ffe]
.r_cross:
        EXPECT_PF 0, TEST_LIN + 0x3ffe, 'read straddling into a mapped page from an unmapped one'
        TRY .r_cross2
        mov eax, [TEST_LIN + 0x4ffe]
.r_cross2:
        EXPECT_PF 0, TEST_LIN + 0x5000, 'read straddling into an unmapped page: CR2 = its first byte'
        mov dword [PTE(PT_TEST2, TEST2_LIN)], PHYS_C | P | RW | US
        mov dword [PTE(PT_TEST3, TEST3_LIN)], PHYS_C | P | RW | US
        EXPECT dword [TEST2_LIN], 0xcccc0003, 'supervisor reads a page under a supervisor PDE'
        TRY .r_pde_ro
        mov dword [TEST3_LIN + 8], 0
.r_pde_ro:
        EXPECT_PF P | RW, TEST3_LIN + 8, 'WP=1: read-only PDE makes a writable PTE read-only'

        ; ---- fault, fix up, restart ----
        mov eax, [fault_count]
        mov [faults_before], eax
        mov dword [hook_pte], PTE(PT_TEST, TEST_LIN + 0x5000)
        mov dword [hook_val], PHYS_D | P | RW | US
        mov dword [fault_hook], pf_hook
        mov eax, [TEST_LIN + 0x5010]
        mov dword [fault_hook], 0
        EXPECT eax, 0xdddd0004, 'a #PF handler maps the page and the read restarts'
        mov eax, [fault_count]
        sub eax, [faults_before]
        EXPECT eax, 1, 'the restarted read faulted once'
        EXPECT [fault_cr2], TEST_LIN + 0x5010, 'CR2 of the restarted read'

        ; REP MOVSB restarted in the middle
        mov dword [PTE(PT_TEST, TEST_LIN + 0x6000)], PHYS_E | P | RW | US
        mov dword [PTE(PT_TEST, TEST_LIN + 0x7000)], 0
        xor ecx, ecx
.fill:  mov [PHYS_E + 0xff0 + ecx], cl
        lea eax, [ecx + 16]
        mov [PHYS_F + ecx], al
        inc ecx
        cmp ecx, 16
        jb .fill
        mov dword [hook_pte], PTE(PT_TEST, TEST_LIN + 0x7000)
        mov dword [hook_val], PHYS_F | P | RW | US
        mov dword [fault_hook], pf_hook
        mov eax, [fault_count]
        mov [faults_before], eax
        mov esi, TEST_LIN + 0x6ff0
        mov edi, SCRATCH
        mov ecx, 0x20
        cld
        rep movsb
        mov dword [fault_hook], 0
        mov ebx, ecx
        EXPECT ebx, 0, 'rep movsb across a faulting page completes (ECX=0)'
        EXPECT esi, TEST_LIN + 0x7010, 'rep movsb completes (ESI)'
        EXPECT [fault_cr2], TEST_LIN + 0x7000, 'rep movsb faults at the first byte of the unmapped page'
        mov eax, [fault_count]
        sub eax, [faults_before]
        EXPECT eax, 1, 'rep movsb faulted once'
        mov eax, [hook_esi]
        sub eax, TEST_LIN + 0x6ff0
        add eax, [hook_ecx]
        EXPECT eax, 0x20, 'rep movsb: ESI and ECX agree at the fault'
        EXPECT dword [SCRATCH], 0x03020100, 'rep movsb copied the first page part'
        EXPECT dword [SCRATCH + 0x1c], 0x1f1e1d1c, 'rep movsb copied the second page part'

        ; ---- INVLPG, CR3 reload ----
        mov dword [PTE(PT_TEST, TEST_LIN + 0x8000)], PHYS_A | P | RW | US
        mov eax, [TEST_LIN + 0x8000]
        EXPECT eax, 0xaaaa0001, 'before remap'
        mov dword [PTE(PT_TEST, TEST_LIN + 0x8000)], PHYS_B | P | RW | US
        invlpg [TEST_LIN + 0x8000]
        EXPECT dword [TEST_LIN + 0x8000], 0xbbbb0002, 'after invlpg the new mapping is used'
        mov dword [PTE(PT_TEST, TEST_LIN + 0x8000)], PHYS_A | P | RW | US
        mov eax, cr3
        mov cr3, eax
        EXPECT dword [TEST_LIN + 0x8000], 0xaaaa0001, 'after a CR3 reload the new mapping is used'
        mov eax, [BIG_LIN]
        mov eax, [BIG_LIN + 0x1000]
        mov dword [PDE(BIG_LIN)], PHYS_4M2 | P | RW | US | PS
        invlpg [BIG_LIN]
        EXPECT dword [BIG_LIN + 0x1000], 0x88881005, 'invlpg of one address drops the whole 4 MiB page'
        mov eax, cr4
        or eax, CR4_PGE
        mov cr4, eax
        mov dword [PTE(PT_TEST, TEST_LIN + 0x9000)], PHYS_A | P | RW | US | PG_G
        mov eax, [TEST_LIN + 0x9000]
        mov dword [PTE(PT_TEST, TEST_LIN + 0x9000)], PHYS_B | P | RW | US | PG_G
        invlpg [TEST_LIN + 0x9000]
        EXPECT dword [TEST_LIN + 0x9000], 0xbbbb0002, 'invlpg drops a global page'
        mov dword [PTE(PT_TEST, TEST_LIN + 0x9000)], PHYS_A | P | RW | US | PG_G
        mov eax, cr4
        and eax, ~CR4_PGE
        mov cr4, eax
        EXPECT dword [TEST_LIN + 0x9000], 0xaaaa0001, 'clearing CR4.PGE flushes global pages'

        ; ---- code: remapping and modification through another mapping ----
        mov dword [PTE(PT_TEST, TEST_LIN + 0xa000)], PHYS_X | P | RW | US
        call TEST_LIN + 0xa000
        EXPECT eax, 1, 'code runs from a mapped page'
        mov dword [PTE(PT_TEST, TEST_LIN + 0xa000)], PHYS_Y | P | RW | US
        invlpg [TEST_LIN + 0xa000]
        call TEST_LIN + 0xa000
        EXPECT eax, 2, 'after remap and invlpg the new code runs'
        mov byte [PHYS_Y + 1], 3                        ; through the identity alias
        call TEST_LIN + 0xa000
        EXPECT eax, 3, 'code modified through another mapping runs modified'

        ; ---- user-mode faults ----
        mov dword [PTE(PT_TEST, TEST_LIN + 0x2000)], PHYS_C | P | RW
        mov dword [PTE(PT_TEST, TEST_LIN + 0x3000)], 0
        mov eax, cr0
        and eax, ~CR0_WP
        mov cr0, eax                    ; user checks do not depend on WP
        GO_RING3 r3
r3:
        mov ax, SEL_DATA3
        mov ds, ax
        mov es, ax
        mov eax, [TEST_LIN + 0x1000]
        EXPECT eax, 0xbbbb0002, 'user read of a user read-only page'
        TRY .r_u1
        mov dword [TEST_LIN + 0x1010], 1
.r_u1:  EXPECT_PF P | RW | US, TEST_LIN + 0x1010, 'user write to a read-only page'
        mov eax, STACK0_TOP
        sub eax, [fault_esp]
        EXPECT eax, 24, '#PF from ring 3 pushes an error code (24-byte frame)'
        TRY .r_u2
        mov eax, [TEST_LIN + 0x2020]
.r_u2:  EXPECT_PF P | US, TEST_LIN + 0x2020, 'user read of a supervisor page'
        TRY .r_u3
        mov dword [TEST_LIN + 0x2020], 1
.r_u3:  EXPECT_PF P | RW | US, TEST_LIN + 0x2020, 'user write to a supervisor page'
        TRY .r_u4
        mov eax, [TEST_LIN + 0x3030]
.r_u4:  EXPECT_PF US, TEST_LIN + 0x3030, 'user read of a not-present page'
        TRY .r_u5
        mov dword [TEST_LIN + 0x3030], 1
.r_u5:  EXPECT_PF RW | US, TEST_LIN + 0x3030, 'user write to a not-present page'
        TRY .r_u6
        mov eax, [TEST2_LIN]
.r_u6:  EXPECT_PF P | US, TEST2_LIN, 'user read under a supervisor PDE'
        mov eax, [TEST3_LIN]
        PASS 'user read under a read-only user PDE'
        TRY .r_u7
        mov dword [TEST3_LIN + 4], 1
.r_u7:  EXPECT_PF P | RW | US, TEST3_LIN + 4, 'user write under a read-only PDE'
        TRY .r_u8
        call TEST_LIN + 0x2100
.r_u8:  EXPECT_PF P | US, TEST_LIN + 0x2100, 'user fetch from a supervisor page (no I bit without PAE+NXE)'
        EXPECT [fault_eip], TEST_LIN + 0x2100, 'fetch fault: EIP is the target'
        add esp, 4
        RING0 r0_pae

; ---- PAE ----
r0_pae:
        mov eax, cr0
        and eax, ~CR0_PG
        mov cr0, eax
        mov edi, PDPT
        mov ecx, 0x4000 / 4
        xor eax, eax
        rep stosd
        mov dword [PDPT], PD_PAE0 | P
        mov dword [PDPT + 8], PD_PAE1 | P
        xor ecx, ecx
.pd0:   mov eax, ecx
        shl eax, 21
        or eax, P | RW | US | PS
        mov [PD_PAE0 + ecx * 8], eax
        inc ecx
        cmp ecx, 16
        jb .pd0
        mov dword [PD_PAE1], PT_PAE | P | RW | US
        mov dword [PD_PAE1 + 8], PHYS_2M | P | RW | US | PS
        mov dword [PHYS_2M], 0x22220006
        mov byte [PHYS_2M + 0x100], 0xc3
        mov byte [PHYS_G], 0xc3
        mov eax, cr4
        or eax, CR4_PAE
        mov cr4, eax
        mov eax, PDPT
        mov cr3, eax
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1 << 11                 ; EFER.NXE
        wrmsr
        mov eax, cr0
        or eax, CR0_PG | CR0_WP
        mov cr0, eax
        jmp .paged
.paged: PASS 'PAE paging enabled'

        mov eax, [PAE_LIN + 0x200000]
        EXPECT eax, 0x22220006, 'read through a 2 MiB page'
        EXPECT dword [PD_PAE1 + 8], PHYS_2M | P | RW | US | PS | ACC, '2 MiB page: read sets A only'
        mov [PAE_LIN + 0x200010], eax
        EXPECT dword [PD_PAE1 + 8], PHYS_2M | P | RW | US | PS | ACC | DIRTY, '2 MiB page: write sets D'
        mov dword [PT_PAE], PHYS_A | P | RW | US
        EXPECT dword [PAE_LIN], 0xaaaa0001, 'read through a PAE 4 KiB page'
        EXPECT dword [PT_PAE], PHYS_A | P | RW | US | ACC, 'PAE: read sets A in the PTE'
        EXPECT dword [PD_PAE1], PT_PAE | P | RW | US | ACC, 'PAE: walk sets A in the PDE'

        ; NX
        mov dword [PT_PAE + 8], PHYS_G | P | RW | US
        mov dword [PT_PAE + 12], 0x80000000
        movzx eax, byte [PAE_LIN + 0x1000]
        EXPECT eax, 0xc3, 'data read from an NX page'
        TRY .r_nx
        call PAE_LIN + 0x1000
.r_nx:  EXPECT_PF P | 0x10, PAE_LIN + 0x1000, 'fetch from an NX page: #PF with I'
        add esp, 4
        mov dword [PT_PAE + 12], 0
        invlpg [PAE_LIN + 0x1000]
        call PAE_LIN + 0x1000
        PASS 'fetch from the same page once NX is cleared'
        TRY .r_nxnp
        call PAE_LIN + 0x2000
.r_nxnp:
        EXPECT_PF 0x10, PAE_LIN + 0x2000, 'fetch from a not-present page with NXE: #PF with I'
        add esp, 4
        mov dword [PD_PAE1 + 16], PHYS_2M | P | RW | US | PS
        mov dword [PD_PAE1 + 20], 0x80000000
        TRY .r_nx2m
        call PAE_LIN + 0x400100
.r_nx2m:
        EXPECT_PF P | 0x10, PAE_LIN + 0x400100, 'fetch from an NX 2 MiB page'
        add esp, 4

        ; reserved bits
        mov dword [PT_PAE + 24], PHYS_A | P | RW | US
        mov dword [PT_PAE + 28], 0x100                  ; bit 40: above MAXPHYADDR
        TRY .r_rsvd
        mov eax, [PAE_LIN + 0x3000]
.r_rsvd:
        EXPECT_PF P | 8, PAE_LIN + 0x3000, 'PTE with a reserved address bit: #PF with RSVD'
        TRY .r_rsvdw
        mov dword [PAE_LIN + 0x3000], 0
.r_rsvdw:
        EXPECT_PF P | RW | 8, PAE_LIN + 0x3000, 'write through a PTE with a reserved bit'
        mov dword [PD_PAE1 + 24], PHYS_2M | P | RW | US | PS | 0x2000
        TRY .r_rsvd2m
        mov eax, [PAE_LIN + 0x600000]
.r_rsvd2m:
        EXPECT_PF P | 8, PAE_LIN + 0x600000, '2 MiB PDE with reserved bit 13: #PF with RSVD'
        mov dword [PT_PAE + 12], 0x80000000
        invlpg [PAE_LIN + 0x1000]
        mov ecx, 0xc0000080
        rdmsr
        and eax, ~(1 << 11)
        wrmsr
        TRY .r_nxe0
        mov eax, [PAE_LIN + 0x1000]
.r_nxe0:
        EXPECT_PF P | 8, PAE_LIN + 0x1000, 'NX bit with EFER.NXE=0 is reserved'
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1 << 11
        wrmsr

        GO_RING3 r3_pae
r3_pae:
        mov ax, SEL_DATA3
        mov ds, ax
        mov es, ax
        TRY .r_unx
        call PAE_LIN + 0x1000
.r_unx: EXPECT_PF P | US | 0x10, PAE_LIN + 0x1000, 'user fetch from an NX page'
        add esp, 4
        TRY .r_unp
        call PAE_LIN + 0x2000
.r_unp: EXPECT_PF US | 0x10, PAE_LIN + 0x2000, 'user fetch from a not-present page with NXE'
        add esp, 4
        TRY .r_uw
        mov dword [PAE_LIN + 0x2000], 0
.r_uw:  EXPECT_PF US | RW, PAE_LIN + 0x2000, 'PAE: user write to a not-present page'
        RING0 r0_done

r0_done:
        DONE
