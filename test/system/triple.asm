; Triple fault: with an empty IDT, INT3 raises #GP (vector beyond the IDT limit), delivering #GP
; raises #GP again (double fault), delivering #DF fails too: the processor shuts down. The runner
; must see Exit.Shutdown, after the marker line and before anything else is printed.
%include "lib.inc"

        bits 16
main:
        ENTER_PM32
        PASS 'protected mode reached'
        PRINT 'about to triple fault', 10
        lidt [empty_idt]
        int3
        FAILED 'execution continued after a triple fault'
        DONE

        align 8
empty_idt:
        dw 0
        dd 0
